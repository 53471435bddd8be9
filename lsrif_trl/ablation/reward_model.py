"""The ablation's reward-model stage (`make ablation RM=1`): the self-supervised soft-constraint reward model of
Ren et al. (2025, arXiv:2510.14420) measured against the truth, which the toy world has and no paper could.

Some of the world's hard constraints are taken "as if soft" (`RewardModelConfig.constraints`); their verifiers
stay as the judges of what the reward model learns:

1. curriculum rows of the world (`lsrif data build --world toy --curriculum`: each instruction as I_1 ⊂ ... ⊂ I_k);
2. `lsrif rm-data --as-soft IDS`: the SFT policy answers both levels of every contrast that adds one of those
   constraints; the answer WITH it is the positive, the one WITHOUT it the negative. Their pseudo-labels are
   checked by the constraints' verifiers (`judges.rm_truth.pseudo_label_truth`);
3. `recipes/train_rm.py --config recipes/toy/train_rm.yaml`: the classifier, from the SFT checkpoint;
4. fresh samples, not the training pairs: the SFT policy at temperature 1 on held-out prompts (the world's
   held-out scenes, eval seed + 1); every active leaf of those constraints is scored by the reward model and by
   its verifier -> accuracy and AUC with bootstrap intervals (`judges.rm_truth.score_against_truth`);
5. GRPO with LSRM where those leaves are scored by the reward model (`--soft_scorer classifier --soft_rm_path RM
   --soft_scored_constraints IDS`), one run per ablation seed, against the ablation's plain `lsrm` runs (the
   same leaves scored by their verifiers), both evaluated held-out by the verifiers (`lsrif eval lsr --world toy`).

Every stage's output is reused when complete, as the rest of the ablation's are.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from lsrif_trl.ablation import report
from lsrif_trl.ablation.processes import DONE, one_thread, recipe_command
from lsrif_trl.judges.rm_truth import pseudo_label_truth, score_against_truth, verdict
from lsrif_trl.rewards.soft import requirement_text
from lsrif_trl.structure import active_leaves
from lsrif_trl.training.config import REPO_ROOT

RM_RECIPE = REPO_ROOT / "recipes" / "toy" / "train_rm.yaml"
# Properties a classifier can read off the answer's text (its case, a "P.S." line, one given word) that the SFT
# policy satisfies part of the time: sampled at temperature 1 on held-out prompts about 30% (postscript), 25%
# (lowercase) and 2% (keyword), so the pseudo-labels are measured across how often the policy gets them right.
DEFAULT_CONSTRAINTS = ("change_case:english_lowercase", "detectable_content:postscript", "keywords:existence")
GROUP = "lsrm-rm"  # the report group of the GRPO runs whose held-out leaves the reward model scores
VERIFIER_GROUP = "lsrm"  # the ablation's plain LSRM runs: the same leaves scored by their verifiers


@dataclass(frozen=True)
class RewardModelConfig:
    """What the reward-model stage builds and measures; recorded in results.json under `reward_model.settings`."""

    constraints: tuple[str, ...] = DEFAULT_CONSTRAINTS
    instructions: int = 800  # curriculum instructions (each gives its levels I_1..I_k)
    samples: int = 4  # policy answers per curriculum prompt (pairs per contrast)
    eval_prompts: int = 300  # held-out prompts of the fresh samples
    eval_samples: int = 2  # answers per held-out prompt
    rm_steps: int | None = None  # None: recipes/toy/train_rm.yaml's max_steps

    def __post_init__(self) -> None:
        from lsrif_trl.data.worlds import TOY

        if not self.constraints:
            raise ValueError("RM_CONSTRAINTS: give at least one of the toy world's hard constraints")
        unknown = [c for c in self.constraints if c not in TOY.constraint_ids]
        if unknown:
            raise ValueError(
                f"RM_CONSTRAINTS: {unknown[0]!r} is not one of the toy world's constraints; choose from "
                f"{', '.join(TOY.constraint_ids)}"
            )
        for name in ("instructions", "samples", "eval_prompts", "eval_samples"):
            if getattr(self, name) < 1:
                raise ValueError(f"reward model {name}={getattr(self, name)}: must be >= 1")
        if self.rm_steps is not None and self.rm_steps < 1:
            raise ValueError(f"reward model rm_steps={self.rm_steps}: must be >= 1")


class Driver(Protocol):
    """What the stage uses of `ablation.driver.Ablation` (which drives it, so this module never imports it)."""

    root: Path
    config: Any  # ablation.driver.AblationConfig
    echo: Callable[[str], None]

    def _train(self, out: Path, command: list[str], log: str, marker: dict[str, Any], message: str) -> None: ...


class RewardModelStage:
    """The stage under `<ablation>/reward_model/`: `prepare()` builds and measures the reward model, the driver then
    trains and evaluates GRPO runs with `grpo_args()`, and `section(...)` is results.json's `reward_model`."""

    def __init__(self, ablation: Driver) -> None:
        self.ablation, self.config = ablation, ablation.config.reward_model
        if self.config is None:
            raise ValueError("the ablation has no reward_model configuration (RM=1)")
        self.root = ablation.root / "reward_model"
        self.sft = ablation.root / "sft"
        self.measured: dict[str, Any] = {}

    def grpo_args(self) -> tuple[str, ...]:
        """The GRPO recipe arguments that score the held-out leaves with the reward model."""
        return (
            "--soft_scorer", "classifier", "--soft_rm_path", str(self.root / "rm"),
            "--soft_scored_constraints", *self.config.constraints,
        )  # fmt: skip

    # ---- steps -----------------------------------------------------------------------------------------------

    def build_curriculum(self) -> Path:
        """The world's curriculum rows (reused when present)."""
        from lsrif_trl.data.builder import build_dataset
        from lsrif_trl.data.loading import save_dataset

        out = self.root / "data" / "curriculum"
        if not out.exists():
            seed = self.ablation.config.train_seed + 1  # other instructions than the GRPO rows, same seed tasks
            self.ablation.echo(f"building {self.config.instructions} toy-world curriculum instructions -> {out}")
            save_dataset(build_dataset(self.config.instructions, seed, world="toy", curriculum=True), out, "disk")
        return out

    def build_pairs(self, curriculum: Path) -> Path:
        """`lsrif rm-data --as-soft ...` from the SFT policy's samples (reused when made with these settings)."""
        out = self.root / "pairs"
        settings = {"stage": "rm-data", "constraints": list(self.config.constraints), "samples": self.config.samples}
        _forget_unless(out, settings)
        command = [
            sys.executable, "-m", "lsrif_trl.cli", "rm-data",
            "--data", str(curriculum),
            "--model", str(self.sft),
            "--as-soft", ",".join(self.config.constraints),
            "--num-samples", str(self.config.samples),
            "--max-new-tokens", str(self.ablation.config.max_new_tokens),
            "--temperature", "1.0",
            "--seed", str(self.ablation.config.train_seed),
            "--batch-size", "50",
            "--output", str(out / "pairs.jsonl"),
        ]  # fmt: skip
        self.ablation._train(out, command, "rm-data.log", settings, f"reward-model pairs from the SFT policy -> {out}")
        return out / "pairs.jsonl"

    def train_rm(self, pairs: Path) -> Path:
        """The classifier from the SFT checkpoint on the pairs (`recipes/train_rm.py`), reused when finished."""
        out = self.root / "rm"
        command = recipe_command("train_rm.py", RM_RECIPE, self.sft, pairs, out)
        if self.config.rm_steps is not None:
            command += ["--max_steps", str(self.config.rm_steps)]
        settings = {
            "stage": "reward model",
            "constraints": list(self.config.constraints),
            "steps": self.config.rm_steps,
        }
        _forget_unless(out, settings)
        if not (out / DONE).is_file():  # a new reward model: runs that used another one are stale
            stale = [*self.ablation.root.glob(f"runs/{GROUP}-seed*"), *self.ablation.root.glob(f"eval/{GROUP}-seed*")]
            for folder in stale:
                shutil.rmtree(folder)
        self.ablation._train(out, command, "train-rm.log", settings, f"training the reward model -> {out}")
        return out

    def fresh_samples(self) -> list[dict[str, Any]]:
        """The SFT policy's sampled answers to held-out prompts, one item per active held-out leaf, with the
        verifier's verdict (reused when its marker matches)."""
        from lsrif_trl.eval.generation import SamplingParams, create_generator
        from lsrif_trl.eval.lsr import build_world_eval

        path, marker = self.root / "fresh_samples.jsonl", self.root / "fresh_samples.json"
        seed = self.ablation.config.eval_seed + 1
        settings = {
            "eval_seed": seed,
            "prompts": self.config.eval_prompts,
            "samples": self.config.eval_samples,
            "constraints": list(self.config.constraints),
        }
        if path.is_file() and marker.is_file() and json.loads(marker.read_text()) == settings:
            return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        examples = build_world_eval("toy", seed, self.config.eval_prompts)
        self.ablation.echo(
            f"sampling the SFT policy on {len(examples)} held-out prompts x {self.config.eval_samples} (eval seed {seed})"
        )
        items: list[dict[str, Any]] = []
        for round_ in range(self.config.eval_samples):
            sampling = SamplingParams(self.ablation.config.max_new_tokens, temperature=1.0, seed=seed + round_)
            with one_thread():
                generator = create_generator("transformers", str(self.sft), sampling, batch_size=50)
                answers = {r.prompt: r.response for r in generator.generate([e.prompt for e in examples])}
            for example in examples:
                answer = answers.get(example.prompt, "")
                if not answer.strip():
                    continue  # the rewards score a blank answer 0 without asking any scorer
                for leaf in active_leaves(example.tree):
                    if leaf.kind == "hard" and leaf.id in self.config.constraints:
                        items.append({
                            "prompt_id": example.id, "round": round_, "prompt": example.prompt, "answer": answer,
                            "constraint_id": leaf.id, "requirement": requirement_text(leaf),
                            "truth": verdict(answer, leaf.id, leaf.kwargs),
                        })  # fmt: skip
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items), encoding="utf-8")
        marker.write_text(json.dumps(settings) + "\n")
        return items

    def score_fresh(self, rm: Path, items: list[dict[str, Any]]) -> dict[str, Any]:
        """The reward model's scores of the fresh items against their verdicts."""
        from lsrif_trl.judges.classifier import ClassifierScorer

        if not items:
            raise RuntimeError(
                "no held-out answer has an active leaf of the chosen constraints; raise the reward model's eval prompts"
            )
        scorer = ClassifierScorer(rm, batch_size=32, max_length=512, dtype="float32")
        with one_thread():
            scores = scorer.score_batch([(i["prompt"], i["answer"], i["requirement"]) for i in items])
        return score_against_truth(scores, [i["truth"] for i in items], [i["constraint_id"] for i in items])

    # ---- the stage -------------------------------------------------------------------------------------------

    def prepare(self) -> None:
        """Pairs, their pseudo-labels against the verifiers, the reward model and its scores on fresh samples."""
        pairs = self.build_pairs(self.build_curriculum())
        rows = [json.loads(line) for line in pairs.read_text(encoding="utf-8").splitlines() if line.strip()]
        self.measured["pseudo_labels"] = pseudo_label_truth(rows)
        self.measured["rm"] = self.score_fresh(self.train_rm(pairs), self.fresh_samples())

    def section(
        self,
        rm_tables: Sequence[report.EvalTable],
        verifier_tables: Sequence[report.EvalTable],
        rm_names: Sequence[str],
        verifier_names: Sequence[str],
    ) -> dict[str, Any]:
        """results.json's `reward_model`, from `prepare()`'s measurements and the held-out evaluations of the GRPO
        runs with RM-scored leaves (`rm_*`) and with verifier-scored ones (`verifier_*`, the plain lsrm runs)."""
        labels, rm = self.measured["pseudo_labels"], self.measured["rm"]
        summary = report.summarize({GROUP: rm_tables, VERIFIER_GROUP: verifier_tables})
        return {
            "constraints": list(self.config.constraints),
            "pseudo_label_accuracy": labels.get("label_accuracy"),
            "pseudo_labels": labels,
            "rm_accuracy": rm["accuracy"],
            "rm_auc": rm["auc"],
            "rm_fresh_samples": rm,
            "grpo_rm": summary[GROUP],
            "grpo_verifier": summary[VERIFIER_GROUP],
            "rm_minus_verifier": report.difference(rm_tables, verifier_tables),
            "held_out_leaf_pass": {
                "sft": self._leaf_pass(["sft"]),
                "grpo_rm": self._leaf_pass(rm_names),
                "grpo_verifier": self._leaf_pass(verifier_names),
            },
            "settings": {**asdict(self.config), "rm_recipe": str(RM_RECIPE.relative_to(REPO_ROOT))},
        }

    def _leaf_pass(self, names: list[str]) -> float | None:
        """The share of active leaves of the chosen constraints that pass, over the named evaluations."""
        passed = total = 0
        for name in names:
            path = self.ablation.root / "eval" / name / "lsr_results.jsonl"
            for line in path.read_text(encoding="utf-8").splitlines():
                for leaf in json.loads(line).get("leaves", []) if line.strip() else []:
                    if leaf["active"] and leaf["id"] in self.config.constraints:
                        passed, total = passed + (leaf["score"] >= 0.5), total + 1
        return passed / total if total else None


def _forget_unless(out: Path, settings: dict[str, Any]) -> None:
    """Drop a finished step made with other settings, so the driver's stage runner makes it again."""
    marker = out / DONE
    if marker.is_file() and json.loads(marker.read_text()) != settings:
        shutil.rmtree(out)


def markdown(section: dict[str, Any]) -> str:
    """The reward-model part of results.md."""

    def pct(stat: dict[str, Any] | None) -> str:
        if not stat or stat.get("mean") is None:
            return "n/a"
        ci = stat.get("ci95")
        return f"{stat['mean'] * 100:.1f}" + (f" [{ci[0] * 100:.1f}, {ci[1] * 100:.1f}]" if ci else "")

    labels = section["pseudo_labels"]
    lines = [
        "",
        f"## Reward model against the verifiers (held out as soft: {', '.join(section['constraints'])})",
        "",
        f"- Pseudo-labels ({labels['pairs']} pairs): label accuracy {pct({'mean': labels.get('label_accuracy')})}; "
        f"chosen satisfies {pct({'mean': labels.get('chosen_satisfies')})}, rejected fails "
        f"{pct({'mean': labels.get('rejected_fails')})}; pairs ordered {pct({'mean': labels.get('ordered')})}, "
        f"tied {pct({'mean': labels.get('tied')})}, reversed {pct({'mean': labels.get('reversed')})}.",
        f"- Reward model on {section['rm_fresh_samples']['n']} fresh held-out leaves "
        f"(verifier passes {pct({'mean': section['rm_fresh_samples']['positive_share']})}): accuracy "
        f"{pct(section['rm_accuracy'])}, AUC {pct(section['rm_auc'])}.",
        "",
        "| GRPO, held-out leaves scored by | all-satisfied | held-out leaves pass |",
        "|---|---|---|",
        f"| SFT start | | {pct({'mean': section['held_out_leaf_pass']['sft']})} |",
        f"| verifier (`lsrm`) | {pct(section['grpo_verifier']['all_satisfied'])} | "
        f"{pct({'mean': section['held_out_leaf_pass']['grpo_verifier']})} |",
        f"| reward model | {pct(section['grpo_rm']['all_satisfied'])} | "
        f"{pct({'mean': section['held_out_leaf_pass']['grpo_rm']})} |",
        "",
        f"Reward model minus verifier, all-satisfied (points): {pct(section['rm_minus_verifier']['all_satisfied'])}.",
        "",
    ]
    return "\n".join(lines)
