"""The offline tiny model: a randomly initialised Qwen2 and a locally trained byte-level BPE tokenizer.

Tests, notebooks and the default demo (`make train`) need a causal LM that loads with the ordinary
`from_pretrained` calls and never touches the Hub. This module builds one in a few seconds:

- tokenizer: byte-level BPE (any text round-trips) trained with the `tokenizers` library on the project's
  own data files (`resources/seed_tasks.jsonl` tasks and passages, `resources/tiny_corpus.txt`; never on
  code, so a code change leaves the tokenizer and every tiny-run metric as they were), with Qwen's special tokens
  (`<|endoftext|>` pad, `<|im_start|>`, `<|im_end|>` eos, `<think>`, `</think>`) and a Qwen-style chat
  template: system/user/assistant turns, `add_generation_prompt`, an `enable_thinking` switch (False
  appends an empty think block, as Qwen3 does), `reasoning_content` on assistant turns, and
  `{% generation %}` markers so `SFTConfig(assistant_only_loss=True)` works.
- model: `Qwen2ForCausalLM` (hidden 64, 2 layers, 4 heads, 2 KV heads, tied embeddings), weights drawn
  from `torch.manual_seed(seed)`, saved as float32 safetensors.
- presets (`PRESETS`): `tiny` is the above; `toy` is the model sized for the toy world (`lsrif_trl.data.worlds`):
  the same tokenizer recipe with the toy seed tasks added to its corpus, and a larger shape (`TOY_MODEL_SHAPE`).

API:
    build_tiny_model(output_dir=None, seed=0, preset="tiny") -> Path   # idempotent; None: default_tiny_dir()
    default_tiny_dir() -> Path                           # $LSRIF_TINY_DIR, else <repo>/outputs/tiny-model

    path = build_tiny_model()
    model = AutoModelForCausalLM.from_pretrained(path)
    tokenizer = AutoTokenizer.from_pretrained(path)
    tokenizer.apply_chat_template(messages, add_generation_prompt=True, enable_thinking=False, tokenize=False)

CLI: `lsrif tiny-model [--output-dir DIR] [--seed N] [--preset toy]` prints the folder. A folder is complete once its
`lsrif_tiny.json` marker exists and holds the fingerprint of (corpus, tokenizer and model config, seed) this code
would build; any other folder (older corpus, other seed, interrupted build) is rebuilt. A build writes into a
temporary sibling and renames it into place, so parallel test workers never see a half-written model.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.resources
import json
import os
import shutil
import tempfile
from pathlib import Path

MARKER = "lsrif_tiny.json"
PAD_TOKEN = "<|endoftext|>"
EOS_TOKEN = "<|im_end|>"
SPECIAL_TOKENS = [PAD_TOKEN, "<|im_start|>", EOS_TOKEN]
THINK_TOKENS = ["<think>", "</think>"]  # added but not special: decoding keeps them, as Qwen3's tokenizer does
VOCAB_SIZE = 2048
MODEL_SHAPE = {
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "max_position_embeddings": 32768,
    "tie_word_embeddings": True,
}
# Measured for the toy world on 2 CPU cores (benchmarks/RESULTS.md, "Toy world"): the smallest shape that
# learns the world's constraints from SFT in a minute and keeps a GRPO step near a second.
TOY_MODEL_SHAPE = {
    **MODEL_SHAPE,
    "hidden_size": 128,
    "intermediate_size": 384,
    "num_hidden_layers": 4,
}
# preset -> (model shape, resource files whose text joins the tokenizer corpus: the tasks and passages of a
# .jsonl of seed tasks, the lines of a .txt)
PRESETS: dict[str, tuple[dict, tuple[str, ...]]] = {
    "tiny": (MODEL_SHAPE, ()),
    "toy": (TOY_MODEL_SHAPE, ("toy_seed_tasks.jsonl", "toy_corpus.txt")),
}

CHAT_TEMPLATE = (
    "{%- for message in messages %}"
    "{%- if message['role'] == 'assistant' %}"
    "{{- '<|im_start|>assistant\\n' }}"
    "{%- generation %}"
    "{%- if message.get('reasoning_content') %}"
    "{{- '<think>\\n' + message['reasoning_content'].strip() + '\\n</think>\\n\\n' }}"
    "{%- endif %}"
    "{{- message['content'] + '<|im_end|>' }}"
    "{%- endgeneration %}"
    "{{- '\\n' }}"
    "{%- else %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}"
    "{{- '<|im_start|>assistant\\n' }}"
    "{%- if enable_thinking is defined and enable_thinking is false %}"
    "{{- '<think>\\n\\n</think>\\n\\n' }}"
    "{%- endif %}"
    "{%- endif %}"
)

# A few rendered turns so the role headers and think tags become single merges in the vocabulary.
_CHAT_SAMPLES = [
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n",
    "<|im_start|>user\nAnswer in exactly three bullet points and do not use any commas.<|im_end|>\n",
    "<|im_start|>assistant\n<think>\nThe user wants three bullets.\n</think>\n\n* one\n* two\n* three<|im_end|>\n",
]


def default_tiny_dir() -> Path:
    """Where the tiny model lives unless told otherwise: `$LSRIF_TINY_DIR`, else `outputs/tiny-model`."""
    if os.environ.get("LSRIF_TINY_DIR"):
        return Path(os.environ["LSRIF_TINY_DIR"])
    repo = Path(__file__).resolve().parents[1]
    if (repo / "setup.cfg").is_file():  # editable install: keep it beside the checkout
        return repo / "outputs" / "tiny-model"
    return Path.home() / ".cache" / "lsrif-trl" / "tiny-model"


def tiny_corpus(preset: str = "tiny") -> list[str]:
    """The tokenizer's training texts, in a fixed order: chat samples, the seed tasks' tasks and passages,
    the lines of `resources/tiny_corpus.txt`, then the preset's own files (data files that change only on
    purpose; `toy_corpus.txt` holds toy-world instructions and expert answers, generated once)."""
    resources = importlib.resources.files("lsrif_trl") / "resources"
    texts = list(_CHAT_SAMPLES)

    def add(name: str) -> None:
        lines = (resources / name).read_text(encoding="utf-8").splitlines()
        if not name.endswith(".jsonl"):
            texts.extend(lines)
            return
        for line in lines:
            if line.strip():
                row = json.loads(line)
                texts.extend(row[key] for key in ("task", "passage") if row.get(key))

    for name in ("seed_tasks.jsonl", "tiny_corpus.txt", *preset_parts(preset)[1]):
        add(name)
    return [t for t in texts if t.strip()]


def preset_parts(preset: str) -> tuple[dict, tuple[str, ...]]:
    """(model shape, extra corpus files) of a preset; ValueError naming the known presets."""
    if preset not in PRESETS:
        raise ValueError(f"unknown tiny-model preset {preset!r}; known presets: {sorted(PRESETS)}")
    return PRESETS[preset]


def build_fingerprint(corpus: list[str], seed: int, shape: dict = MODEL_SHAPE) -> str:
    """A hash of everything a build depends on: corpus, vocabulary size, special tokens, template, shape, seed."""
    recipe = {
        "corpus": hashlib.sha256(json.dumps(corpus, ensure_ascii=False).encode("utf-8")).hexdigest(),
        "vocab_size": VOCAB_SIZE,
        "special_tokens": SPECIAL_TOKENS,
        "think_tokens": THINK_TOKENS,
        "chat_template": CHAT_TEMPLATE,
        "model_shape": shape,
        "seed": seed,
    }
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode("utf-8")).hexdigest()[:16]


def train_tokenizer(corpus: list[str]):
    """A `Qwen2Tokenizer` whose byte-level BPE merges are trained on `corpus`, with the chat template.

    Training runs through the same normalizer and pre-tokenizer that `Qwen2Tokenizer` rebuilds on load, so
    the merges learnt here are the merges `AutoTokenizer.from_pretrained` applies.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import Qwen2Tokenizer

    pipeline = Qwen2Tokenizer(unk_token=None).backend_tokenizer
    backend = Tokenizer(models.BPE())
    backend.normalizer = pipeline.normalizer
    backend.pre_tokenizer = pipeline.pre_tokenizer
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    backend.train_from_iterator(corpus, trainer=trainer)
    learnt = json.loads(backend.to_str())["model"]
    tokenizer = Qwen2Tokenizer(
        vocab=learnt["vocab"],
        merges=[tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in learnt["merges"]],
        unk_token=None,
        eos_token=EOS_TOKEN,
        pad_token=PAD_TOKEN,
        extra_special_tokens=["<|im_start|>"],
        model_max_length=MODEL_SHAPE["max_position_embeddings"],
    )
    tokenizer.add_tokens(THINK_TOKENS)
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def build_model(tokenizer, seed: int, shape: dict = MODEL_SHAPE):
    """A randomly initialised `Qwen2ForCausalLM` of `shape` sized to `tokenizer`, with weights fixed by `seed`."""
    import torch
    from transformers import GenerationConfig, Qwen2Config, Qwen2ForCausalLM

    pad_id = tokenizer.pad_token_id
    eos_id = tokenizer.eos_token_id
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        pad_token_id=pad_id,
        bos_token_id=pad_id,  # as in Qwen2.5: the tokenizer never prepends it
        eos_token_id=eos_id,
        dtype="float32",
        **shape,
    )
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(config)
    model.generation_config = GenerationConfig(
        bos_token_id=pad_id, eos_token_id=[eos_id, pad_id], pad_token_id=pad_id, do_sample=True
    )
    return model


def _is_complete(folder: Path, fingerprint: str) -> bool:
    marker = folder / MARKER
    try:
        return marker.is_file() and json.loads(marker.read_text()).get("fingerprint") == fingerprint
    except json.JSONDecodeError:  # a damaged marker: rebuild
        return False


def built_preset(folder: str | Path) -> str | None:
    """The preset an earlier build wrote into `folder` (None when it holds no readable tiny build)."""
    try:
        return json.loads((Path(folder) / MARKER).read_text()).get("preset", "tiny")
    except (OSError, json.JSONDecodeError):
        return None


def build_tiny_model(output_dir: str | Path | None = None, seed: int = 0, preset: str = "tiny") -> Path:
    """Build (or reuse, if built from the same corpus, config and seed) the tiny model + tokenizer; return its path."""
    folder = Path(output_dir) if output_dir is not None else default_tiny_dir()
    shape = preset_parts(preset)[0]
    corpus = tiny_corpus(preset)
    fingerprint = build_fingerprint(corpus, seed, shape)
    if _is_complete(folder, fingerprint):
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        tokenizer = train_tokenizer(corpus)
        model = build_model(tokenizer, seed, shape)
        tokenizer.save_pretrained(staging)
        model.save_pretrained(staging)
        marker = {"fingerprint": fingerprint, "seed": seed, "vocab_size": len(tokenizer), **shape}
        if preset != "tiny":  # the default marker stays as it was
            marker["preset"] = preset
        (staging / MARKER).write_text(json.dumps(marker, indent=2) + "\n")
        if folder.exists() and not _is_complete(folder, fingerprint):
            shutil.rmtree(folder)  # a stale or half-built folder (older corpus, other seed, interrupted build)
        try:
            staging.rename(folder)
        except OSError:
            if not _is_complete(folder, fingerprint):  # lost a race to nothing usable: a real error
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def _run(args: argparse.Namespace) -> int:
    print(build_tiny_model(args.output_dir, seed=args.seed, preset=args.preset))
    return 0


def add_parser(subparsers) -> None:
    """Register `lsrif tiny-model`."""
    parser = subparsers.add_parser("tiny-model", help="build the offline tiny Qwen2 model + tokenizer")
    parser.add_argument("--output-dir", type=Path, default=None, help="default: $LSRIF_TINY_DIR or outputs/tiny-model")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random weights")
    parser.add_argument("--preset", choices=sorted(PRESETS), default="tiny", help="model size and corpus")
    parser.set_defaults(func=_run)
