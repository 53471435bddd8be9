"""Resuming: the newest complete checkpoint is used, incomplete ones are moved aside with a warning, a finished run
stops, a checkpoint without optimizer state warns; unit cases on built files, then the tiny recipe killed mid-save."""

import json
import os
import subprocess
import sys

import pytest
import torch
from safetensors.torch import save_file

from lsrif_trl.tiny import build_tiny_model
from lsrif_trl.training.checkpoints import missing_parts, plan_resume
from lsrif_trl.training.config import REPO_ROOT


def make_checkpoint(output_dir, step, max_steps=10, optimizer=True):
    folder = output_dir / f"checkpoint-{step}"
    folder.mkdir(parents=True)
    save_file({"w": torch.zeros(4, 4)}, str(folder / "model.safetensors"))
    if optimizer:
        torch.save({"state": {}}, folder / "optimizer.pt")
    (folder / "trainer_state.json").write_text(json.dumps({"global_step": step, "max_steps": max_steps}))
    return folder


def truncate(path, keep=0.5):
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        (lambda f: (f / "trainer_state.json").unlink(), "trainer_state.json is missing or unreadable"),
        (lambda f: truncate(f / "trainer_state.json"), "trainer_state.json is missing or unreadable"),
        (lambda f: (f / "model.safetensors").unlink(), "no model weights"),
        (lambda f: truncate(f / "model.safetensors", 0.9), "model.safetensors is cut short"),
        (lambda f: truncate(f / "optimizer.pt"), "optimizer.pt is cut short"),
    ],
)
def test_each_kind_of_cut_short_save_is_incomplete_and_moved_aside_for_the_newest_complete_one(
    tmp_path, capsys, damage, problem
):
    make_checkpoint(tmp_path, 10)
    damage(make_checkpoint(tmp_path, 20))
    assert problem in missing_parts(tmp_path / "checkpoint-20")
    plan = plan_resume(tmp_path, max_steps=30)
    assert plan.checkpoint == str(tmp_path / "checkpoint-10") and not plan.complete
    err = capsys.readouterr().err
    assert f"{tmp_path / 'checkpoint-20'} is incomplete ({problem}" in err
    assert f"moved to {tmp_path / 'incomplete-checkpoint-20'}" in err
    assert not (tmp_path / "checkpoint-20").exists() and (tmp_path / "incomplete-checkpoint-20").is_dir()


def test_a_second_incomplete_save_of_the_same_step_is_kept_beside_the_first(tmp_path):
    (make_checkpoint(tmp_path, 20) / "trainer_state.json").unlink()
    plan_resume(tmp_path, max_steps=30)
    (make_checkpoint(tmp_path, 20) / "trainer_state.json").unlink()
    assert plan_resume(tmp_path, max_steps=30).checkpoint is None
    assert {p.name for p in tmp_path.iterdir()} == {"incomplete-checkpoint-20", "incomplete-checkpoint-20-2"}


def test_a_run_that_reached_max_steps_is_complete_unless_asked_to_start_over(tmp_path):
    make_checkpoint(tmp_path, 30, max_steps=30)
    plan = plan_resume(tmp_path, max_steps=30)
    assert plan.complete and "is complete (step 30 of max_steps 30)" in plan.message and "--start_over" in plan.message
    assert not plan_resume(tmp_path, max_steps=40).complete
    assert plan_resume(tmp_path, max_steps=-1).complete  # epoch-based: the target the state recorded
    assert plan_resume(tmp_path, max_steps=30, start_over=True) == plan_resume(tmp_path / "nothing", max_steps=30)


def test_a_finished_run_without_checkpoints_is_complete_by_its_final_state(tmp_path):
    (tmp_path / "trainer_state.json").write_text(json.dumps({"global_step": 5, "max_steps": 5}))
    assert plan_resume(tmp_path, max_steps=5).complete


def test_a_checkpoint_without_optimizer_state_resumes_with_a_warning(tmp_path, capsys):
    make_checkpoint(tmp_path, 10, optimizer=False)
    assert plan_resume(tmp_path, max_steps=30).checkpoint == str(tmp_path / "checkpoint-10")
    assert "has no optimizer.pt: the run resumes with a fresh optimizer" in capsys.readouterr().err


def run_recipe(args):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    script = [
        sys.executable,
        str(REPO_ROOT / "recipes/grpo_lsrm.py"),
        "--config",
        str(REPO_ROOT / "recipes/tiny/grpo_lsrm.yaml"),
    ]
    return subprocess.run([*script, *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_the_tiny_recipe_killed_mid_save_resumes_from_the_last_complete_checkpoint_and_stops_when_done(tmp_path):
    model = build_tiny_model(tmp_path / "tiny")
    run = tmp_path / "run"
    common = [
        "--model_name_or_path", str(model), "--dataset_name", str(tmp_path / "data"), "--build_dataset_rows", "8",
        "--output_dir", str(run), "--per_device_train_batch_size", "4", "--max_completion_length", "8",
        "--save_steps", "1", "--save_total_limit", "5",
    ]  # fmt: skip
    first = run_recipe([*common, "--max_steps", "2"])
    assert first.returncode == 0, first.stderr[-3000:]
    truncate(run / "checkpoint-2" / "model.safetensors")  # the kill: weights half written, state never written
    (run / "checkpoint-2" / "trainer_state.json").unlink()
    (run / "checkpoint-1" / "optimizer.pt").unlink()

    second = run_recipe([*common, "--max_steps", "3"])
    assert second.returncode == 0, second.stderr[-3000:]
    assert f"{run / 'checkpoint-2'} is incomplete" in second.stderr and "incomplete-checkpoint-2" in second.stderr
    assert f"{run / 'checkpoint-1'} has no optimizer.pt" in second.stderr
    assert f"Resuming from {run / 'checkpoint-1'}" in second.stdout
    assert json.loads((run / "trainer_state.json").read_text())["global_step"] == 3
    assert (run / "incomplete-checkpoint-2" / "model.safetensors").is_file()  # kept, not deleted

    before = {p: p.stat().st_mtime_ns for p in run.rglob("*") if p.is_file()}
    third = run_recipe([*common, "--max_steps", "3"])
    assert third.returncode == 0, third.stderr[-3000:]
    assert "is complete (step 3 of max_steps 3)" in third.stdout
    assert {p: p.stat().st_mtime_ns for p in run.rglob("*") if p.is_file()} == before  # nothing trained or rewritten
