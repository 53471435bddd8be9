"""Self-supervised RM pairs: WITH-constraint answers are chosen over WITHOUT-constraint answers of the same task."""

import json
from dataclasses import dataclass

import pytest

from lsrif_trl.data.builder import build_dataset
from lsrif_trl.eval.generation import GenerationResult, SamplingParams
from lsrif_trl.judges.rm_data import SoftContrast, contrasts_from_levels, preference_rows, sample_responses
from lsrif_trl.judges.rm_format import rm_prompt, row_problem

HARD = {"type": "constraint", "id": "punctuation:no_comma", "kwargs": {}, "kind": "hard"}
TONE = {"type": "constraint", "id": "soft:tone", "text": "Use a warm, friendly tone throughout.", "kind": "soft"}
STYLE = {"type": "constraint", "id": "soft:style", "text": "Use vivid sensory imagery.", "kind": "soft"}


def row(row_id, prompt, tree):
    return {"id": row_id, "prompt": [{"role": "user", "content": prompt}], "structure": json.dumps(tree)}


def parallel(*children):
    return {"type": "parallel", "children": list(children)}


def test_a_level_that_adds_one_soft_constraint_gives_a_contrast():
    rows = [
        row("a-L1", "Describe tea. No commas.", parallel(HARD)),
        row("a-L2", "Describe tea. No commas. Warm tone.", parallel(HARD, TONE)),
    ]
    assert contrasts_from_levels(rows) == [
        SoftContrast("a", "soft:tone", TONE["text"], "Describe tea. No commas. Warm tone.", "Describe tea. No commas.")
    ]


def test_levels_that_add_a_hard_constraint_or_skip_a_level_give_none():
    rows = [
        row("b-L1", "Describe tea. Warm tone.", parallel(TONE)),
        row("b-L2", "Describe tea. Warm tone. No commas.", parallel(TONE, HARD)),
        row("c-L1", "Describe rain. No commas.", parallel(HARD)),
        row("c-L3", "Describe rain. ...", parallel(HARD, TONE, STYLE)),
    ]
    assert contrasts_from_levels(rows) == []


def test_a_soft_constraint_in_the_inactive_branch_gives_no_contrast():
    inactive = {
        "type": "conditional",
        "condition": "the passage has code",
        "active": "else",
        "then": TONE,
        "else": HARD,
    }
    rows = [row("d-L1", "Describe. No commas.", parallel(HARD)), row("d-L2", "If code, warm tone.", inactive)]
    assert contrasts_from_levels(rows) == []


def test_rows_without_a_level_suffix_are_rejected_naming_the_row():
    with pytest.raises(ValueError, match=r"row 0: id: 'plain'.*--curriculum"):
        contrasts_from_levels([row("plain", "x", parallel(HARD))])
    with pytest.raises(ValueError, match="row 0: structure: missing"):
        contrasts_from_levels([{"id": "e-L1", "prompt": "x"}])


def test_the_builders_curriculum_data_yields_soft_contrasts():
    dataset = build_dataset(12, seed=3, curriculum=True, soft_share=0.5)
    contrasts = contrasts_from_levels(dataset)
    assert contrasts and all(c.constraint_id.startswith("soft:") for c in contrasts)
    # the renderer may lower-case a text's first letter inside a sentence
    assert all(c.constraint_text.lower() in c.prompt_with.lower() for c in contrasts)
    assert all(c.constraint_text.lower() not in c.prompt_without.lower() for c in contrasts)


def test_pairs_put_the_answer_written_with_the_constraint_first():
    contrast = SoftContrast("a", "soft:tone", TONE["text"], "with prompt", "without prompt")
    answers = {
        "with prompt": ["warm answer", "same", " ", "warm answer"],
        "without prompt": ["cold answer", "same", "x", "cold answer"],
    }
    rows, stats = preference_rows([contrast], answers)
    assert rows == [
        {
            "prompt": rm_prompt("with prompt", TONE["text"]),
            "chosen": [{"role": "assistant", "content": "warm answer"}],
            "rejected": [{"role": "assistant", "content": "cold answer"}],
            "constraint_id": "soft:tone",
            "source_id": "a",
        }
    ]
    assert (stats.contrasts, stats.pairs, stats.identical, stats.blank, stats.repeated) == (1, 1, 1, 1, 1)
    assert row_problem(rows[0]) is None
    assert TONE["text"] in rows[0]["prompt"][0]["content"]


@dataclass
class EchoGenerator:
    """Answers `<prompt>#<seed>` so each sampling round is visible."""

    sampling: SamplingParams

    def generate(self, prompts):
        for prompt in reversed(prompts):  # any order, as real backends may yield
            yield GenerationResult(prompt, f"{prompt}#{self.sampling.seed}")


def test_sampling_runs_one_round_per_sample_with_a_new_seed_and_restores_it():
    generator = EchoGenerator(SamplingParams(seed=7, temperature=1.0))
    answers = sample_responses(generator, ["p", "q", "p"], num_samples=2)
    assert answers == {"p": ["p#7", "p#8"], "q": ["q#7", "q#8"]}
    assert generator.sampling.seed == 7


LOWER = {"type": "constraint", "id": "change_case:english_lowercase", "kwargs": {}, "kind": "hard"}
KEYWORD = {"type": "constraint", "id": "keywords:existence", "kwargs": {"keywords": ["sun"]}, "kind": "hard"}


def test_a_hard_constraint_taken_as_soft_gives_a_contrast_with_its_rendered_text_and_kwargs():
    from lsrif_trl.constraints.registry import get_constraint

    rows = [
        row("e-L1", "Describe tea. No commas.", parallel(HARD)),
        row("e-L2", "Describe tea. No commas. Say sun.", parallel(HARD, KEYWORD)),
        row("f-L1", "Describe rain.", parallel(KEYWORD)),
        row("f-L2", "Describe rain. Lowercase.", parallel(KEYWORD, LOWER)),
    ]
    contrasts = contrasts_from_levels(rows, as_soft=["keywords:existence"])
    text = get_constraint("keywords:existence").render({"keywords": ["sun"]})
    assert contrasts == [
        SoftContrast(
            "e", "keywords:existence", text, "Describe tea. No commas. Say sun.", "Describe tea. No commas.",
            '{"keywords": ["sun"]}',
        )
    ]  # fmt: skip
    (pair,), _ = preference_rows(contrasts, {contrasts[0].prompt_with: ["a sun"], contrasts[0].prompt_without: ["a"]})
    assert pair["constraint_kwargs"] == '{"keywords": ["sun"]}' and pair["constraint_id"] == "keywords:existence"
    assert contrasts_from_levels(rows) == []  # without as_soft, hard additions give no contrast


def test_as_soft_must_name_hard_constraints():
    with pytest.raises(ValueError, match="soft constraint"):
        contrasts_from_levels([], as_soft=["soft:tone"])
