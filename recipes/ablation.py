"""The toy-world ablation: build -> SFT warm-up -> GRPO with each reward and seed -> held-out evaluation -> report.

    make ablation                                               # lsrm, flat, all x 3 seeds (SEEDS=, REWARDS=, ...)
    make ablation RM=1                                          # + the reward model against the verifiers
    python recipes/ablation.py --seeds 0,1,2 --rewards lsrm,flat,all --eval-seed 1 --steps 60 \\
        [--gammas 0,0.25,0.5,0.75,1] [--freeze attention] [--jobs 2] \\
        [--reward-model [--rm-constraints keywords:existence,...]] --output-dir outputs/ablation

Writes outputs/ablation/results.json and results.md (held-out all-satisfied, mean LSRM and flat scores, overall,
per structure type and per depth, each a mean over seeds with a 95% bootstrap interval; LSRM minus flat; each
reward's lift over the SFT start; with --freeze, LSRM with that parameter group frozen minus unfrozen LSRM),
learning curves, a bar chart per structure type, and what each run changed against the SFT start (parameters
per module type and attention per prompt-token category: `lsrif analyze params` and `attention`, per run in
analysis/<run>, summarized per group in results.json's `analysis` and analysis.png); with --reward-model, the
`reward_model` section (lsrif_trl/ablation/reward_model.py: pseudo-label accuracy, the RM's accuracy and AUC on
fresh samples, GRPO with RM-scored versus verifier-scored leaves). Finished stages are reused, so an interrupted
ablation resumes (delete the folder to start over). Bad options exit 2 at once.
"""

from __future__ import annotations

import argparse
import sys


def _numbers(kind: type):
    def parse(text: str) -> tuple:
        try:
            return tuple(kind(part) for part in text.split(",") if part.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r}: expected comma-separated {kind.__name__}s") from None

    return parse


def _names(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def main(argv: list[str] | None = None) -> int:
    from lsrif_trl.ablation.driver import AblationConfig
    from lsrif_trl.ablation.reward_model import DEFAULT_CONSTRAINTS, RewardModelConfig

    defaults = AblationConfig()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output-dir", default=defaults.output_dir)
    parser.add_argument("--seeds", type=_numbers(int), default=defaults.seeds, help="training seeds, e.g. 0,1,2")
    parser.add_argument("--rewards", type=_names, default=defaults.rewards, help="e.g. lsrm,flat,all")
    parser.add_argument("--gammas", type=_numbers(float), default=(), help="LSRM gamma sweep, e.g. 0,0.25,0.5")
    parser.add_argument(
        "--freeze", type=_names, default=(), help="extra LSRM runs with these parameter groups frozen, e.g. attention"
    )
    parser.add_argument("--eval-seed", type=int, default=defaults.eval_seed, help="seed of the held-out prompts")
    parser.add_argument("--steps", type=int, default=defaults.steps, help="GRPO steps per run")
    parser.add_argument("--eval-prompts", type=int, default=defaults.eval_prompts)
    parser.add_argument("--train-rows", type=int, default=defaults.train_rows)
    parser.add_argument("--sft-steps", type=int, help="default: recipes/toy/sft.yaml's max_steps")
    parser.add_argument(
        "--reward-model", action="store_true", help="add the self-supervised reward model measured against the truth"
    )
    parser.add_argument(
        "--rm-constraints",
        type=_names,
        default=DEFAULT_CONSTRAINTS,
        help=f"hard constraints held out as soft for --reward-model (default: {','.join(DEFAULT_CONSTRAINTS)})",
    )
    parser.add_argument(
        "--rm-steps", type=int, help="reward-model training steps (default: recipes/toy/train_rm.yaml's)"
    )
    parser.add_argument("--jobs", type=int, help="GRPO runs trained side by side (default: one per CPU core)")
    args = parser.parse_args(argv)
    try:
        reward_model = (
            RewardModelConfig(constraints=args.rm_constraints, rm_steps=args.rm_steps) if args.reward_model else None
        )
        config = AblationConfig(
            output_dir=args.output_dir,
            seeds=args.seeds,
            rewards=args.rewards,
            gammas=args.gammas,
            freeze=args.freeze,
            eval_seed=args.eval_seed,
            steps=args.steps,
            eval_prompts=args.eval_prompts,
            train_rows=args.train_rows,
            sft_steps=args.sft_steps,
            reward_model=reward_model,
            jobs=args.jobs,
        )
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    from lsrif_trl.ablation.driver import Ablation

    try:
        Ablation(config).run()
    except RuntimeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
