"""The Makefile's install stamps and dry runs (`make -n`), read as a new user would run them."""

import os
import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def make_dry_run(*args: str, venv: Path | None = None) -> str:
    extra = [f"VENV={venv}"] if venv is not None else []
    out = subprocess.run(
        ["make", "--no-print-directory", "-n", *args, *extra], cwd=REPO_ROOT, capture_output=True, text=True
    )
    return out.stdout + out.stderr


def installed_venv(tmp_path: Path, extras: str) -> Path:
    """A venv folder whose stamp says `make install EXTRAS=extras` already ran (newer than setup.cfg)."""
    venv = tmp_path / "venv"
    venv.mkdir()
    stamp = venv / f".installed-{extras.replace(',', '+')}"
    stamp.touch()
    newer = max((REPO_ROOT / "setup.cfg").stat().st_mtime, (REPO_ROOT / "pyproject.toml").stat().st_mtime) + 10
    os.utime(stamp, (newer, newer))
    return venv


def test_an_installed_set_of_extras_is_not_reinstalled(tmp_path):
    venv = installed_venv(tmp_path, "dev")
    assert "Nothing to be done for 'install'" in make_dry_run("install", "EXTRAS=dev", venv=venv)


def test_asking_for_more_extras_installs_them_even_after_an_earlier_install(tmp_path):
    venv = installed_venv(tmp_path, "dev")
    out = make_dry_run("install", "EXTRAS=dev,vllm,deepspeed,wandb", venv=venv)
    assert 'pip install -e ".[dev,vllm,deepspeed,wandb]"' in out
    assert f"touch {venv}/.installed-dev+vllm+deepspeed+wandb" in out
