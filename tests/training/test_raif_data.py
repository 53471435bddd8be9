"""Behaviour cloning's demonstrations: `bc_dataset: expert` answers the training rows in the policy's format."""

import json

from lsrif_trl.data.builder import build_dataset
from lsrif_trl.training.raif_args import RaifArguments
from lsrif_trl.training.raif_data import load_demonstrations


def _completions(rows) -> list[str]:
    return [json.dumps(row["completion"]) for row in rows]


def test_expert_demonstrations_open_with_a_planning_think_block_only_when_asked():
    train = build_dataset(24, 0, world="toy")
    plain = _completions(load_demonstrations(RaifArguments(bc_dataset="expert"), train, seed=0))
    reasoned = _completions(
        load_demonstrations(RaifArguments(bc_dataset="expert", bc_expert_reasoning=True), train, seed=0)
    )
    assert plain and len(reasoned) == len(plain)  # the same rows pass: the think block is not checked
    assert not any("<think>" in text for text in plain)
    assert all("<think>\\n" in text and "</think>\\n" in text for text in reasoned)
