"""`lsrif rm-data`: self-supervised preference pairs for the soft-constraint reward model (see `judges.rm_data`).

    lsrif data build --num-examples 200 --curriculum --soft-share 0.5 --output outputs/data/rm-source
    lsrif rm-data --data outputs/data/rm-source --model Qwen/Qwen2.5-7B-Instruct --backend vllm \\
        --num-samples 4 --output outputs/data/soft-rm-pairs.jsonl
    python recipes/train_rm.py --config recipes/tiny/train_rm.yaml --dataset_name outputs/data/soft-rm-pairs.jsonl
    lsrif rm-data --data outputs/data/toy-rm-source --model outputs/toy/sft --as-soft keywords:existence \
        --output outputs/data/toy-rm-pairs.jsonl   # a toy-world hard constraint taken as soft (curriculum rows)

Rows are checked before the policy is loaded; a bad row exits 2 naming the row and the field.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from lsrif_trl.judges.rm_data import contrasts_from_levels, preference_rows, sample_responses

EXIT_BAD_INPUT = 2


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `lsrif rm-data`."""
    from lsrif_trl.eval.generation import BACKENDS

    parser = subparsers.add_parser(
        "rm-data", help="self-supervised pairs for the soft-constraint reward model", description=__doc__
    )
    parser.add_argument("--data", required=True, help="curriculum dataset (folder, .jsonl/.parquet or Hub id)")
    parser.add_argument("--split", default="train")
    parser.add_argument("--model", required=True, help="the policy that answers (path, Hub id or served name)")
    parser.add_argument("--backend", choices=BACKENDS, default="transformers")
    parser.add_argument("--base-url", help="OpenAI-compatible server for --backend openai")
    parser.add_argument("--num-samples", type=int, default=2, help="answers per prompt (pairs per contrast)")
    parser.add_argument("--max-new-tokens", type=int, default=512)
    parser.add_argument("--temperature", type=float, default=1.0, help="sampling temperature (> 0 for variety)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--batch-size", type=int, default=8, help="transformers backend batch size")
    parser.add_argument("--concurrency", type=int, default=8, help="openai backend parallel requests")
    parser.add_argument("--max-contrasts", type=int, help="use only the first N contrasts (smoke runs)")
    parser.add_argument(
        "--as-soft",
        default="",
        help="comma-separated hard constraint ids whose levels count as soft contrasts too (their verifiers then "
        "measure the pseudo-labels: the toy world's `make ablation RM=1`)",
    )
    parser.add_argument("--output", type=Path, required=True, help="JSONL file of prompt/chosen/rejected rows")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Find contrasts, sample the policy, write the pairs; 2 on bad input."""
    from lsrif_trl.data.loading import load_training_dataset
    from lsrif_trl.eval.generation import SamplingParams, create_generator

    try:
        dataset = load_training_dataset(args.data, split=args.split, validate=False)
        as_soft = [part.strip() for part in args.as_soft.split(",") if part.strip()]
        contrasts = contrasts_from_levels(dataset, as_soft)[: args.max_contrasts]
        if not contrasts:
            raise ValueError(
                f"{args.data}: no consecutive curriculum levels differ by one soft constraint"
                f"{' or one of ' + ', '.join(as_soft) if as_soft else ''}; build the data with "
                "`lsrif data build --curriculum --soft-share 0.5` (soft constraints are off by default)"
            )
        sampling = SamplingParams(max_new_tokens=args.max_new_tokens, temperature=args.temperature, seed=args.seed)
        options = {
            "openai": {"base_url": args.base_url, "concurrency": args.concurrency},
            "transformers": {"batch_size": args.batch_size},
        }.get(args.backend, {})
        generator = create_generator(args.backend, args.model, sampling, **options)
    except (ValueError, OSError) as err:
        print(f"lsrif rm-data: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    prompts = [p for c in contrasts for p in (c.prompt_with, c.prompt_without)]
    answers = sample_responses(generator, prompts, args.num_samples)
    rows, stats = preference_rows(contrasts, answers)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with args.output.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(
        f"{stats.pairs} pairs from {stats.contrasts} soft-constraint contrasts written to {args.output} "
        f"(dropped: {stats.identical} identical, {stats.blank} with a blank answer, {stats.repeated} repeated)"
    )
    return 0 if rows else 1
