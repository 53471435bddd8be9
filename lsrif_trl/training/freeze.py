"""Freeze parameter groups for an ablation: the recipe key `freeze: [attention]`, `[mlp]`, `[qk]` or name patterns.

A key is a group (`attention`, `mlp`, `qk`, `embeddings`, `norms`, `lm_head`: module types as
`lsrif_trl.analysis.modules` names them) or an fnmatch pattern over full parameter names (it must hold `*`, `?`,
`[` or a dot, e.g. `*.layers.0.*`), so a misspelt group fails when the recipe is parsed instead of freezing
nothing. `freeze_parameters` runs after the trainer has loaded the model and before `train()` builds the
optimizer, which takes only parameters that require gradients. With LoRA the same keys freeze the adapters of
the matching modules, which is the same as leaving those modules out of `lora_target_modules`.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from typing import Any

from lsrif_trl.analysis.modules import GROUPS, module_type


def _is_pattern(key: str) -> bool:
    return any(char in key for char in "*?[.")


def check_freeze_keys(keys: Sequence[str]) -> None:
    """Raise ValueError naming the first key that is neither a group nor a parameter-name pattern."""
    for key in keys:
        if key not in GROUPS and not _is_pattern(key):
            raise ValueError(
                f"freeze: {key!r} is neither a group ({', '.join(GROUPS)}) nor a parameter-name pattern "
                "(an fnmatch pattern with * or a dotted name, e.g. '*.layers.0.*')"
            )


def _matches(name: str, key: str) -> bool:
    if key in GROUPS:
        return module_type(name) in GROUPS[key]
    return fnmatch.fnmatchcase(name, key)


def _numel(param: Any) -> int:
    """Elements of a parameter, also when ZeRO-3 has partitioned it (its local `numel()` is then 0)."""
    return getattr(param, "ds_numel", param.numel())


def freeze_parameters(model: Any, keys: Sequence[str]) -> dict[str, Any] | None:
    """Stop gradients of every parameter matching a key; returns what was frozen (for the model card), or None
    without keys. ValueError when a key matches no trainable parameter or nothing trainable is left."""
    if not keys:
        return None
    check_freeze_keys(keys)
    trainable = [(name, param) for name, param in model.named_parameters() if param.requires_grad]
    frozen = 0
    for key in keys:
        hits = [(name, param) for name, param in trainable if _matches(name, key)]
        if not hits:
            raise ValueError(f"freeze: {key!r} matches none of the {len(trainable)} trainable parameters")
        for _, param in hits:
            if param.requires_grad:
                param.requires_grad_(False)
                frozen += _numel(param)
    left = sum(_numel(param) for _, param in trainable if param.requires_grad)
    if not any(param.requires_grad for _, param in trainable):
        raise ValueError(f"freeze: {list(keys)} freezes every trainable parameter; nothing would train")
    return {"keys": list(keys), "frozen parameters": frozen, "trainable parameters": left}
