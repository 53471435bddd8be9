"""Checks a recipe's environment before any model loads: what the run will need must be there now, not an hour in.

The recipe scripts call `check_launch(argv)` before parsing (parsing a DeepSpeed run imports DeepSpeed) and
`preflight(...)` after it, before the dataset, tokenizer or model. Each problem is a RecipeError saying what to
install or set: vLLM for `use_vllm`, DeepSpeed for a ZeRO launch, peft for `use_peft`, bitsandbytes (with LoRA)
for `load_in_4bit`/`load_in_8bit`, the tracker `report_to` names, and a token with write access for `push_to_hub`.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import threading
from typing import Any

from lsrif_trl.training.config import load_yaml
from lsrif_trl.training.errors import RecipeError

# How long the Hub may take to say who a token belongs to before the run stops instead of hanging.
HUB_CHECK_TIMEOUT_S = 30.0
_EXTRA = "install it with `make install EXTRAS=dev,{extra}` (or `pip install -e '.[{extra}]'`)"


def installed(module: str) -> bool:
    """Whether `module` can be imported here (found on the path; not imported)."""
    return importlib.util.find_spec(module) is not None


def _require(module: str, why: str, extra: str) -> None:
    if not installed(module):
        raise RecipeError(f"{why} needs the package {module!r}, which is not installed; {_EXTRA.format(extra=extra)}")


def check_launch(argv: list[str] | None = None) -> None:
    """DeepSpeed is importable when the launch (an accelerate ZeRO config) or the recipe (`deepspeed`) asks for it."""
    argv = list(sys.argv[1:] if argv is None else argv)
    from_yaml = load_yaml(argv[argv.index("--config") + 1]).get("deepspeed") if "--config" in argv[:-1] else None
    if os.environ.get("ACCELERATE_USE_DEEPSPEED", "false").lower() == "true":
        _require("deepspeed", "this launch (an accelerate config with `distributed_type: DEEPSPEED`)", "deepspeed")
    elif "--deepspeed" in argv or from_yaml:
        _require("deepspeed", "`deepspeed`", "deepspeed")


def check_punkt() -> None:
    """NLTK's punkt parameters load (the packaged copy, or the one `NLTK_DATA` points at) before any check needs them."""
    from lsrif_trl.constraints.nltk_resources import PunktUnavailableError, punkt_tokenizer

    try:
        punkt_tokenizer()
    except PunktUnavailableError as err:
        raise RecipeError(str(err)) from None


def check_packages(training_args: Any, model_args: Any) -> None:
    """Every optional package the options ask for is importable; quantized loading comes with LoRA."""
    if getattr(training_args, "use_vllm", False):
        _require("vllm", "`use_vllm: true`", "vllm")
    if model_args.use_peft:
        _require("peft", "`use_peft: true`", "dev")
    for flag in ("load_in_4bit", "load_in_8bit"):
        if getattr(model_args, flag, False):
            if not model_args.use_peft:
                raise RecipeError(
                    f"`{flag}: true` trains quantized weights, which cannot be updated; add `--use_peft true` "
                    "(QLoRA trains LoRA adapters on the quantized model)"
                )
            _require("bitsandbytes", f"`{flag}: true`", "quantization")
    from transformers.integrations import get_available_reporting_integrations

    available = get_available_reporting_integrations()
    for tracker in training_args.report_to or []:
        if tracker in ("wandb", "trackio"):  # the project's `wandb` extra installs both
            _require(tracker, f"`report_to: {tracker}`", "wandb")
        elif tracker not in ("all", "none") and tracker not in available:
            raise RecipeError(
                f"`report_to: {tracker}` needs its package, which is not installed: `pip install {tracker}`"
            )


def _whoami(token: str) -> dict[str, Any]:
    from huggingface_hub import HfApi

    answer: list[Any] = []

    def ask() -> None:
        try:
            answer.append(HfApi().whoami(token))
        except Exception as err:  # noqa: BLE001 - any failure (HTTP, DNS, proxy) is reported below, named
            answer.append(err)

    # A daemon thread: a Hub that never answers stops the run after the timeout instead of hanging it.
    worker = threading.Thread(target=ask, daemon=True)
    worker.start()
    worker.join(HUB_CHECK_TIMEOUT_S)
    if not answer:
        raise RecipeError(f"push_to_hub: the Hub did not answer within {HUB_CHECK_TIMEOUT_S:.0f} s; check the network")
    if isinstance(answer[0], Exception):
        raise RecipeError(f"push_to_hub: the Hub refused the token ({type(answer[0]).__name__}: {answer[0]})")
    return answer[0]


def check_hub_write(training_args: Any) -> None:
    """With `push_to_hub`, the Hub is reachable and the token in the environment may write (read-only refused)."""
    if not getattr(training_args, "push_to_hub", False):
        return
    from huggingface_hub import constants, get_token

    if constants.HF_HUB_OFFLINE:
        raise RecipeError("push_to_hub: HF_HUB_OFFLINE is set, so nothing can be pushed; unset it or drop push_to_hub")
    token = get_token()
    if token is None:
        raise RecipeError("push_to_hub: no Hub token; set HF_TOKEN (a token with write access) or run `hf auth login`")
    role = _whoami(token).get("auth", {}).get("accessToken", {}).get("role")
    if role == "read":
        raise RecipeError("push_to_hub: the Hub token is read-only; use a token with write access (HF_TOKEN)")


def preflight(training_args: Any, model_args: Any, *, sentence_checks: bool = True) -> None:
    """Every environment check the options call for, as RecipeError, before anything heavy loads."""
    check_packages(training_args, model_args)
    check_hub_write(training_args)
    if sentence_checks:
        check_punkt()
