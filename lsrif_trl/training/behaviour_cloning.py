"""Behaviour cloning of expert demonstrations inside RL (OpenRLHF's "ptx" term, as RAIF uses it).

On every policy micro-step the GRPO loss gets one expert micro-batch's token cross-entropy added:

    loss = L_GRPO + bc_coef * NLL(expert batch) / gradient_accumulation_steps

so one optimizer step follows the summed gradients, and accumulation scales the term exactly as TRL scales its
own loss. `bc_loss_on: sequence` (RAIF's choice) counts every token, prompt included; `completion` counts only the
demonstration. The expert stream cycles through the data in a seeded order per epoch, each process reading its own
shard; its position is one integer (`consumed`), saved with each checkpoint and restored on resume.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

BC_LOSS_ON = ("sequence", "completion")
IGNORE = -100


@dataclass(frozen=True)
class Demonstration:
    """One tokenized expert example: ids and, per token, whether it counts in the loss."""

    input_ids: list[int]
    in_loss: list[bool]


def split_demonstration(row: Mapping[str, Any]) -> tuple[Any, Any]:
    """(prompt, completion) of an SFT row: `prompt`/`completion` (strings or messages) or `messages`."""
    if "messages" in row and row["messages"]:
        messages = list(row["messages"])
        if not isinstance(messages[-1], Mapping) or messages[-1].get("role") != "assistant":
            raise ValueError("a `messages` demonstration must end with an assistant message")
        return messages[:-1], messages[-1:]
    if "prompt" in row and "completion" in row:
        return row["prompt"], row["completion"]
    raise ValueError(f"expected `prompt` + `completion` or `messages`, got columns {sorted(row)}")


def tokenize_demonstration(row: Mapping[str, Any], tokenizer: Any, loss_on: str, max_length: int) -> Demonstration:
    """Render a row with the tokenizer's chat template when it is conversational, and mark the loss tokens."""
    from trl.data_utils import maybe_apply_chat_template

    if loss_on not in BC_LOSS_ON:
        raise ValueError(f"bc_loss_on: expected one of {list(BC_LOSS_ON)}, got {loss_on!r}")
    prompt, completion = split_demonstration(row)
    text = maybe_apply_chat_template({"prompt": prompt, "completion": completion}, tokenizer)
    prompt_ids = tokenizer(text["prompt"], add_special_tokens=False)["input_ids"]
    completion_ids = tokenizer(text["completion"], add_special_tokens=False)["input_ids"]
    ids = (prompt_ids + completion_ids)[:max_length]
    in_loss = ([loss_on == "sequence"] * len(prompt_ids) + [True] * len(completion_ids))[:max_length]
    return Demonstration(ids, in_loss)


@dataclass
class ExpertStream:
    """Micro-batches of demonstrations, cycling forever in a seeded order; `consumed` is the whole state."""

    demonstrations: Sequence[Demonstration]
    batch_size: int
    seed: int = 0
    rank: int = 0
    world_size: int = 1
    consumed: int = 0
    _order: list[int] = field(default_factory=list, repr=False)
    _epoch: int = field(default=-1, repr=False)

    def __post_init__(self) -> None:
        shard = len(range(self.rank, len(self.demonstrations), self.world_size))
        if shard < self.batch_size:
            raise ValueError(
                f"bc_dataset: {len(self.demonstrations)} demonstrations give process {self.rank} of {self.world_size} "
                f"only {shard}, fewer than one micro-batch of {self.batch_size}; add demonstrations or lower "
                "bc_batch_size"
            )
        self.batches_per_epoch = shard // self.batch_size

    def _indices(self, epoch: int) -> list[int]:
        if epoch != self._epoch:
            order = list(range(len(self.demonstrations)))
            random.Random(f"{self.seed}|{epoch}").shuffle(order)
            self._order, self._epoch = order[self.rank :: self.world_size], epoch
        return self._order

    def next_batch(self, pad_token_id: int) -> dict[str, Any]:
        """The next micro-batch as tensors (`input_ids`, `attention_mask`, `labels`), right-padded."""
        import torch

        epoch, position = divmod(self.consumed, self.batches_per_epoch)
        order = self._indices(epoch)
        rows = [self.demonstrations[i] for i in order[position * self.batch_size : (position + 1) * self.batch_size]]
        self.consumed += 1
        width = max(len(r.input_ids) for r in rows)
        ids = torch.full((len(rows), width), pad_token_id, dtype=torch.long)
        attention = torch.zeros((len(rows), width), dtype=torch.long)
        labels = torch.full((len(rows), width), IGNORE, dtype=torch.long)
        for i, r in enumerate(rows):
            n = len(r.input_ids)
            ids[i, :n] = torch.tensor(r.input_ids)
            attention[i, :n] = 1
            labels[i, :n] = torch.tensor(
                [t if keep else IGNORE for t, keep in zip(r.input_ids, r.in_loss, strict=True)]
            )
        return {"input_ids": ids, "attention_mask": attention, "labels": labels}


def token_nll(model: Any, batch: Mapping[str, Any]) -> Any:
    """Mean next-token cross-entropy over the batch's loss tokens (a 0-d tensor with gradient)."""
    import torch.nn.functional as F

    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    shifted = logits[:, :-1].float()
    targets = batch["labels"][:, 1:]
    return F.cross_entropy(shifted.reshape(-1, shifted.size(-1)), targets.reshape(-1), ignore_index=IGNORE)
