"""Rendering: deterministic per seed, varied across seeds, every constraint stated, structure readable."""

from lsrif_trl.data.render import ACTION_VERBS, as_clause, as_sentence, leaf_phrase, render_prompt
from lsrif_trl.structure import ConditionalNode, ConstraintNode, ParallelNode, SequentialNode

NO_COMMA = ConstraintNode("punctuation:no_comma")
WORDS = ConstraintNode("length_constraints:number_words", kwargs={"num_words": 120, "relation": "less than"})
KEYWORDS = ConstraintNode("keywords:existence", kwargs={"keywords": ["lantern", "harbour"]})
END = ConstraintNode("startend:end_checker", kwargs={"end_phrase": "Any other questions?"})
TONE = ConstraintNode("soft:tone", kind="soft", text="Use a warm, friendly tone throughout.")
PASSAGE = "In 1969, two astronauts walked on the Moon."


def _core(leaf: ConstraintNode, seed: int) -> str:
    """The part of a leaf's phrasing that survives as clause or sentence (no first letter, no full stop)."""
    return as_clause(leaf_phrase(leaf, seed))[1:].rstrip(".")


def test_same_seed_gives_the_same_text_and_seeds_vary_the_wording():
    tree = ParallelNode((NO_COMMA, WORDS, KEYWORDS))
    first = render_prompt(tree, "Write a poem.", None, seed=7).text
    assert first == render_prompt(tree, "Write a poem.", None, seed=7).text
    texts = {render_prompt(tree, "Write a poem.", None, seed=s).text for s in range(20)}
    assert len(texts) >= 10


def test_every_constraint_task_and_passage_appear():
    tree = ParallelNode((NO_COMMA, SequentialNode((WORDS, TONE)), KEYWORDS))
    for seed in range(30):
        text = render_prompt(tree, "Summarise the passage below.", PASSAGE, seed).text
        assert text.index("Summarise the passage below.") < text.index(PASSAGE)
        for leaf in (NO_COMMA, WORDS, KEYWORDS, TONE):
            assert _core(leaf, seed) in text, (seed, leaf.id, text)


def test_sequential_steps_are_ordered_and_marked_as_steps():
    tree = SequentialNode((NO_COMMA, WORDS, END))
    for seed in range(30):
        text = render_prompt(tree, "Describe a harbour.", None, seed).text
        positions = [text.index(_core(leaf, seed)) for leaf in tree.children]
        assert positions == sorted(positions), text
        markers = ("First", "To begin", "Start with", "1.", "Step 1")
        assert any(marker in text for marker in markers), text


def test_conditional_states_the_condition_and_both_branches():
    tree = ConditionalNode("the passage mentions a year", "then", NO_COMMA, WORDS)
    for seed in range(30):
        text = render_prompt(tree, "Summarise the passage.", PASSAGE, seed).text
        assert "If the passage mentions a year" in text or "if the passage mentions a year" in text
        assert any(word in text for word in ("Otherwise", "If that is not the case", "If not", "In any other case"))
        assert text.index(_core(NO_COMMA, seed)) < text.index(_core(WORDS, seed))


def test_a_constraint_reads_the_same_at_every_curriculum_level():
    small = ParallelNode((WORDS,))
    large = SequentialNode((WORDS, NO_COMMA, KEYWORDS))
    for seed in range(10):
        assert _core(WORDS, seed) in render_prompt(small, "Task.", None, seed).text
        assert _core(WORDS, seed) in render_prompt(large, "Task.", None, seed).text


def test_sentence_and_clause_helpers_keep_acronyms_and_quotes():
    assert as_clause("Your answer must be short.") == "your answer must be short"
    assert as_clause("JSON only.") == "JSON only"
    assert as_sentence("end with the word 'The'") == "End with the word 'The'."
    assert as_sentence('say "hi."') == 'Say "hi."'


def _texts(rendered, category):
    return [rendered.text[start:end] for start, end in rendered.spans().get(category, [])]


def test_spans_name_the_connectors_constraints_verbs_and_task_where_the_renderer_put_them():
    tree = SequentialNode((NO_COMMA, ConditionalNode("the passage mentions a year", "then", WORDS, KEYWORDS)))
    for seed in range(30):
        rendered = render_prompt(tree, "Summarise the passage below.", PASSAGE, seed)
        assert _texts(rendered, "task") == [" the passage below.", PASSAGE]
        assert _texts(rendered, "verb")[0] == "Summarise"
        assert set(_texts(rendered, "verb")) <= ACTION_VERBS | {v.lower() for v in ACTION_VERBS}
        constraints = " ".join(_texts(rendered, "constraint"))
        assert "the passage mentions a year" in constraints
        for leaf in (NO_COMMA, WORDS, KEYWORDS):
            core = _core(leaf, seed)
            assert core in constraints or core.split(" ", 1)[1] in constraints, (seed, core)
        connectors = [text.lower() for text in _texts(rendered, "connector")]
        assert "if" in connectors and any(
            text.rstrip(",") in {"otherwise", "if not", "in any other case", "if that is not the case"}
            for text in connectors
        )
        covered = sorted(span for spans in rendered.spans().values() for span in spans)
        assert all(a[1] <= b[0] for a, b in zip(covered, covered[1:], strict=False))  # categories never overlap


def test_a_reworded_instruction_has_no_spans():
    rendered = render_prompt(ParallelNode((NO_COMMA, WORDS)), "Write a poem.", None, seed=3)
    assert rendered.spans() is not None and rendered.with_instruction("Write a poem, no commas.").spans() is None
