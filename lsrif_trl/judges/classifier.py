"""A local binary reward model as a soft-constraint scorer: `sigmoid(logit)` of a one-logit sequence classifier.

    scorer = ClassifierScorer("outputs/tiny-soft-rm")      # e.g. trained by recipes/train_rm.py
    scorer(prompt, answer, "Write for young children.")   -> probability in [0, 1]

The model is any `AutoModelForSequenceClassification` with `num_labels=1`, as TRL's `RewardTrainer` trains
it. It reads the conversation of `rm_format.rm_conversation(prompt, text, answer)` rendered by the tokenizer's
chat template exactly as `RewardTrainer` tokenizes the training pairs; sequences longer than `max_length`
tokens lose their beginning (the score is read at the last token, so the answer's end must stay). Weights
load on the first call, on the process's device (CPU, or its own GPU under `accelerate launch`), so building
the scorer while a recipe is validated costs nothing; the folder is checked at once.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lsrif_trl.judges.rm_format import rm_conversation
from lsrif_trl.rewards.soft import SoftRequest


class ClassifierScorer:
    """A `rewards.soft.SoftScorer` over a local one-logit reward model (see the module docstring)."""

    def __init__(
        self,
        model_path: str | Path,
        *,
        batch_size: int = 8,
        max_length: int = 4096,
        device: str | None = None,
        dtype: str = "auto",
    ) -> None:
        folder = Path(model_path).expanduser()
        if not (folder / "config.json").is_file():
            raise ValueError(
                f"soft_rm_path: {model_path} is not a saved model folder (no config.json); train one with "
                "`python recipes/train_rm.py --config recipes/tiny/train_rm.yaml` or point it at a saved reward model"
            )
        if batch_size < 1 or max_length < 1:
            raise ValueError(f"soft RM batch_size and max_length must be >= 1, got {batch_size} and {max_length}")
        self.model_path, self.batch_size, self.max_length = str(folder), batch_size, max_length
        self.device, self.dtype = device, dtype

    @functools.cached_property
    def tokenizer(self) -> Any:
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(self.model_path)
        if not tokenizer.chat_template:
            raise ValueError(
                f"soft_rm_path: the tokenizer in {self.model_path} has no chat template; the reward model reads "
                "conversations (train it from an instruct model, or set tokenizer.chat_template and save it)"
            )
        if tokenizer.pad_token is None:  # RewardTrainer pads with eos in that case too
            tokenizer.pad_token = tokenizer.eos_token
        tokenizer.truncation_side = "left"  # keep the answer's end: the score is read at the last token
        return tokenizer

    @functools.cached_property
    def model(self) -> Any:
        from accelerate import PartialState
        from transformers import AutoConfig, AutoModelForSequenceClassification

        config = AutoConfig.from_pretrained(self.model_path)
        if any(a.endswith("ForSequenceClassification") for a in config.architectures or []):
            if config.num_labels != 1:
                raise ValueError(
                    f"soft_rm_path: {self.model_path} has num_labels={config.num_labels}; a reward model has one "
                    "logit (TRL's RewardTrainer saves it so)"
                )
        else:
            warnings.warn(
                f"soft_rm_path: {self.model_path} has no classification head; scoring with a freshly initialised "
                "one (random scores). Train it first with recipes/train_rm.py.",
                stacklevel=2,
            )
        model = AutoModelForSequenceClassification.from_pretrained(self.model_path, num_labels=1, dtype=self.dtype)
        # The classifier reads the last non-pad token, so the model must know the tokenizer's pad id.
        model.config.pad_token_id = self.tokenizer.pad_token_id
        # Under `accelerate launch` each training process scores on its own GPU.
        device = self.device or PartialState().device
        return model.to(device).eval()

    def __call__(self, prompt: str, answer: str, constraint_text: str) -> float:
        return self.score_batch([(prompt, answer, constraint_text)])[0]

    def score_batch(self, requests: Sequence[SoftRequest]) -> list[float]:
        """sigmoid(logit) for every `(prompt, answer, constraint_text)`, `batch_size` at a time; requests of similar
        length share a batch (less padding), and the scores come back in the requests' order."""
        import torch

        conversations = [rm_conversation(str(p), str(t), str(a)) for p, a, t in requests]
        order = sorted(range(len(conversations)), key=lambda i: sum(len(m["content"]) for m in conversations[i]))
        scores = [0.0] * len(conversations)
        for start in range(0, len(order), self.batch_size):
            chunk = order[start : start + self.batch_size]
            encoded = self.tokenizer.apply_chat_template(
                [conversations[i] for i in chunk],
                tokenize=True,
                return_dict=True,
                return_tensors="pt",
                padding=True,
                truncation=True,
                max_length=self.max_length,
            ).to(self.model.device)
            with torch.inference_mode():
                logits = self.model(**encoded).logits.squeeze(-1).float()
            for i, score in zip(chunk, torch.sigmoid(logits).reshape(-1).tolist(), strict=True):
                scores[i] = score
        return scores
