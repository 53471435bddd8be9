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
    venv.mkdir(parents=True)
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


def test_unknown_vllm_or_accelerate_values_are_refused_naming_the_choices():
    assert "VLLM=sever is not one of: colocate server none" in make_dry_run("train", "MODEL=qwen2.5-7b", "VLLM=sever")
    out = make_dry_run("train", "MODEL=qwen2.5-7b", "ACCELERATE=zero4")
    assert "ACCELERATE=zero4 is not one of: ddp fsdp zero2 zero3" in out


def test_a_fresh_clone_dry_run_reads_the_recipe_without_a_venv(tmp_path):
    out = make_dry_run("train", "MODEL=qwen2.5-14b", "VLLM=server", "VLLM_TP=2", venv=tmp_path / "no-venv")
    assert "test -e data/built/lsr-train || make data DATA_DIR=data/built/lsr-train" in out
    assert 'echo "vLLM serves Qwen/Qwen2.5-14B-Instruct on GPU 6,7, port 8000"' in out
    assert "CUDA_VISIBLE_DEVICES=0,1,2,3,4,5 " in out and "--num_processes 6 " in out


def test_the_vllm_server_is_vllm_serve_in_dev_mode_with_the_flags_trl_needs():
    out = subprocess.run(
        ["bash", "recipes/vllm_serve.sh", "recipes/qwen3-8b/grpo_lsrm.yaml", "--port", "8001"],
        cwd=REPO_ROOT,
        env={"DRY_RUN": "1", "VLLM_TP": "2", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out[:3] == ["VLLM_SERVER_DEV_MODE=1", "vllm", "serve"] and out[3] == "Qwen/Qwen3-8B"
    for flag, value in [
        ("--tensor-parallel-size", "2"),
        ("--data-parallel-size", "1"),
        ("--logprobs-mode", "processed_logprobs"),
        ("--max-logprobs", "-1"),
        ("--max-model-len", "9216"),
        ("--port", "8001"),
    ]:
        assert out[out.index(flag) + 1] == value
    assert "--weight-transfer-config" in out


def test_eval_of_a_reasoning_recipe_uses_its_authors_sampling_and_length(tmp_path):
    out = make_dry_run("eval", "MODEL=deepseek-r1-distill-qwen-7b", venv=installed_venv(tmp_path, "dev"))
    assert "--model deepseek-ai/DeepSeek-R1-Distill-Qwen-7B " in out
    assert "--max-new-tokens 32768 --temperature 0.6 --top-p 0.95" in out
    assert "nothing trained in outputs/deepseek-r1-distill-qwen-7b-grpo-lsrm yet" in out
    qwen3 = make_dry_run("eval", "MODEL=qwen3-8b", venv=installed_venv(tmp_path / "q", "dev"))
    assert "--top-p 0.95 --enable-thinking" in qwen3


def test_eval_after_train_evaluates_the_trained_model_with_the_tiny_defaults(tmp_path):
    trained = tmp_path / "tiny-grpo-lsrm"
    trained.mkdir()
    (trained / "config.json").write_text("{}")
    out = make_dry_run("eval", f"TRAINED={trained}", venv=installed_venv(tmp_path, "dev"))
    assert f"make eval: {trained} (the model make train saved)" in out
    assert f"--model {trained} " in out and "--max-new-tokens 32 " in out and "--limit 50" in out
    before = make_dry_run("eval", f"TRAINED={tmp_path / 'not-trained'}", venv=installed_venv(tmp_path / "b", "dev"))
    assert "--model tiny " in before and "the base model" in before


def test_a_model_outside_the_recipes_is_evaluated_as_given_greedy(tmp_path):
    out = make_dry_run("eval", "MODEL=Qwen/Qwen2.5-7B-Instruct", venv=installed_venv(tmp_path, "dev"))
    assert "--model Qwen/Qwen2.5-7B-Instruct " in out and "--max-new-tokens 2048 --temperature 0.0 --top-p 1.0" in out


def test_a_model_folder_a_recipe_writes_is_evaluated_with_that_recipe_folders_defaults(tmp_path):
    out = make_dry_run("eval", "MODEL=outputs/tiny-grpo-raif", venv=installed_venv(tmp_path, "dev"))
    assert "written by recipes/tiny/grpo_raif.yaml; defaults of recipes/tiny/eval.yaml" in out
    assert "--model outputs/tiny-grpo-raif " in out and "--max-new-tokens 32 " in out and "--limit 50" in out
    gpu = make_dry_run("eval", "MODEL=outputs/qwen3-8b-grpo-lsrm/", venv=installed_venv(tmp_path / "g", "dev"))
    assert "defaults of recipes/qwen3-8b/eval.yaml" in gpu and "--enable-thinking" in gpu


def test_eval_of_the_toy_world_runs_its_held_out_lsr_eval_with_one_thread(tmp_path):
    out = make_dry_run("eval", "MODEL=toy", venv=installed_venv(tmp_path, "dev"))
    assert "for bench in lsr;" in out and 'world="--world toy --eval-seed 7 --num-prompts 200"' in out
    assert "OMP_NUM_THREADS=1 " in out and "--max-new-tokens 96 --temperature 0.0" in out
    assert "--output-dir outputs/eval/toy-" in out  # outputs/toy/<run> keeps its path: toy-sft, toy-grpo-lsrm
    ifeval_too = make_dry_run("eval", "MODEL=toy", "BENCH=ifeval,lsr", venv=installed_venv(tmp_path / "b", "dev"))
    assert "for bench in ifeval lsr;" in ifeval_too


def _toy_train(tmp_path: Path, *args: str) -> str:
    """`make -n train MODEL=toy ...` as on a clone where the warm-up was never trained (whatever outputs/ holds)."""
    warm_up = tmp_path / "never-trained"
    return make_dry_run("train", "MODEL=toy", f"TOY_SFT_OUT={warm_up}", *args, venv=installed_venv(tmp_path, "dev"))


def test_the_toy_raif_recipe_starts_from_the_reasoning_warm_up_built_on_demand(tmp_path):
    out = _toy_train(tmp_path, "RECIPE=grpo_raif")
    assert "make sft MODEL=toy REASONING=1" in out
    assert "--output outputs/data/toy-sft-reasoning" in out and "--reasoning" in out
    assert "--dataset_name outputs/data/toy-sft-reasoning" in out
    assert "recipes/grpo_lsrm.py --config recipes/toy/grpo_raif.yaml" in out
    plain = _toy_train(tmp_path / "p")
    assert "make sft MODEL=toy" in plain and "REASONING=1" not in plain and "--reasoning" not in plain


def test_the_toy_warm_up_make_train_runs_first_does_not_take_trains_args(tmp_path):
    out = _toy_train(tmp_path, "ARGS=--max_steps 3")
    sft = out[out.index("recipes/sft.py") : out.index("recipes/grpo_lsrm.py")]
    assert "--max_steps 3" not in sft
    assert "recipes/grpo_lsrm.py --config recipes/toy/grpo_lsrm.yaml --max_steps 3" in out
