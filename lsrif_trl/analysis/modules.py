"""Which module type and layer a parameter belongs to, from its name (Llama / Qwen / Mistral naming).

`module_type("model.layers.3.self_attn.q_proj.weight") == "q"`, `layer_of(...) == 3`. Biases count with their
projection. Fused projections (`qkv_proj`, `gate_up_proj`) are their own types. Groups name sets of types for
freezing: `attention` (q k v o qkv), `mlp` (gate up down gate_up), `qk`.
"""

from __future__ import annotations

import re

# Ordered: the first pattern found in a parameter's dotted name decides its type.
MODULE_PATTERNS = (
    ("qkv", r"\.qkv_proj\."),
    ("q", r"\.q_proj\."),
    ("k", r"\.k_proj\."),
    ("v", r"\.v_proj\."),
    ("o", r"\.o_proj\."),
    ("gate_up", r"\.gate_up_proj\."),
    ("gate", r"\.gate_proj\."),
    ("up", r"\.up_proj\."),
    ("down", r"\.down_proj\."),
    ("embeddings", r"(^|\.)embed_tokens\."),
    ("lm_head", r"(^|\.)lm_head\."),
    ("norms", r"norm[^.]*\."),
)
MODULE_TYPES = tuple(name for name, _ in MODULE_PATTERNS) + ("other",)
GROUPS = {
    "attention": ("q", "k", "v", "o", "qkv"),
    "mlp": ("gate", "up", "down", "gate_up"),
    "qk": ("q", "k"),
    "embeddings": ("embeddings",),
    "norms": ("norms",),
    "lm_head": ("lm_head",),
}
_COMPILED = tuple((name, re.compile(pattern)) for name, pattern in MODULE_PATTERNS)
_LAYER = re.compile(r"\.(?:layers|h|blocks)\.(\d+)\.")


def module_type(name: str) -> str:
    """The module type of parameter `name` (one of MODULE_TYPES; "other" when no pattern matches)."""
    dotted = f"{name}."
    return next((kind for kind, pattern in _COMPILED if pattern.search(dotted)), "other")


def layer_of(name: str) -> int | None:
    """The decoder layer index in `name`, or None for parameters outside the layers (embeddings, final norm)."""
    found = _LAYER.search(f".{name}.")
    return int(found.group(1)) if found else None
