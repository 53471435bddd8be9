"""Recipe YAML files parse against the installed TRL, say how to run them, and bad ones fail with the fix."""

import subprocess

import pytest
import yaml
from accelerate.commands.config.config_args import load_config_from_file
from accelerate.utils import DistributedType

from lsrif_trl import cli
from lsrif_trl.training.config import (
    KINDS,
    REPO_ROOT,
    RecipeError,
    find_recipes,
    get_value,
    parse_recipe_args,
    recipe_kind,
    validate_recipe,
)

RECIPES = find_recipes()
HUB_MODELS = [
    "qwen2.5-1.5b",
    "qwen2.5-7b",
    "qwen2.5-14b",
    "deepseek-r1-distill-qwen-1.5b",
    "deepseek-r1-distill-qwen-7b",
    "deepseek-r1-distill-qwen-14b",
    "qwen3-8b",
]
REASONING = [m for m in HUB_MODELS if "deepseek" in m or "qwen3" in m]


def recipe_id(path):
    return f"{path.parent.name}/{path.name}"


def test_every_published_model_has_an_lsrm_recipe_and_a_flat_ablation():
    found = {recipe_id(p) for p in RECIPES}
    for model in [*HUB_MODELS, "tiny"]:
        assert {f"{model}/grpo_lsrm.yaml", f"{model}/grpo_flat.yaml"} <= found
    assert "tiny/sft.yaml" in found


@pytest.mark.parametrize("path", RECIPES, ids=recipe_id)
def test_recipe_parses_with_trl_parser_and_its_rewards_exist(path):
    script_args, training_args, model_args = validate_recipe(path)
    assert model_args.dtype in ("bfloat16", "float32")  # always explicit, never TRL's silent float32
    assert training_args.output_dir


@pytest.mark.parametrize("path", RECIPES, ids=recipe_id)
def test_recipe_opens_with_the_command_that_runs_it(path):
    first = path.read_text().splitlines()[0]
    assert first.startswith("# Run: ")
    assert f"MODEL={path.parent.name}" in first or path.parent.name == "tiny"


@pytest.mark.parametrize("model", [*HUB_MODELS, "tiny"])
def test_flat_ablation_differs_from_lsrm_only_in_the_reward_and_output_dir(model):
    lsrm = yaml.safe_load((REPO_ROOT / f"recipes/{model}/grpo_lsrm.yaml").read_text())
    flat = yaml.safe_load((REPO_ROOT / f"recipes/{model}/grpo_flat.yaml").read_text())
    differing = {k for k in lsrm.keys() | flat.keys() if lsrm.get(k) != flat.get(k)}
    assert differing == {"reward_funcs", "output_dir"}
    assert [r.replace("lsrm", "flat") for r in lsrm["reward_funcs"]] == flat["reward_funcs"]


@pytest.mark.parametrize("model", HUB_MODELS)
def test_gpu_recipes_use_the_published_settings(model):
    _, args, model_args = validate_recipe(REPO_ROOT / f"recipes/{model}/grpo_lsrm.yaml")
    assert args.learning_rate == 1e-6 and args.temperature == 1.0
    assert 5 <= args.num_generations <= 8 and 1e-3 <= args.beta <= 1e-2
    assert args.max_completion_length == (8192 if model in REASONING else 4096)
    assert args.bf16 and args.activation_checkpointing and args.use_vllm
    assert model_args.dtype == "bfloat16"
    # every GPU count divides the generation batch: per-process completions are a multiple of the group size
    assert (args.per_device_train_batch_size * args.gradient_accumulation_steps) % args.num_generations == 0


@pytest.mark.parametrize("model", REASONING)
def test_reasoning_recipes_add_the_think_format_reward(model):
    script_args, args, _ = validate_recipe(REPO_ROOT / f"recipes/{model}/grpo_lsrm.yaml")
    assert "think_format" in script_args.reward_funcs
    assert len(args.reward_weights) == len(script_args.reward_funcs)


def test_qwen3_recipe_turns_thinking_on_through_chat_template_kwargs():
    _, args, _ = validate_recipe(REPO_ROOT / "recipes/qwen3-8b/grpo_lsrm.yaml")
    assert args.chat_template_kwargs == {"enable_thinking": True}


def test_tiny_recipes_run_on_cpu_in_float32_without_vllm():
    for path in (p for p in RECIPES if p.parent.name == "tiny"):
        _, args, model_args = validate_recipe(path)
        assert args.use_cpu and not args.bf16 and model_args.dtype == "float32"
        assert not getattr(args, "use_vllm", False)


@pytest.mark.parametrize("tracker", ["wandb", "trackio"])
def test_experiment_trackers_parse_as_report_to(tracker):
    path = REPO_ROOT / "recipes/qwen2.5-7b/grpo_lsrm.yaml"
    _, args, _ = parse_recipe_args(KINDS["grpo"], ["--config", str(path), "--report_to", tracker], force_cpu=True)
    assert args.report_to == [tracker] and args.log_completions


def test_unknown_key_names_the_file_and_the_close_match(recipe_copy):
    path = recipe_copy("tiny/grpo_lsrm.yaml", learning_rat=1e-6)
    with pytest.raises(
        RecipeError, match=r"grpo_lsrm_0.yaml: unknown key 'learning_rat'; did you mean 'learning_rate'"
    ):
        validate_recipe(path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"num_generations": 2.5}, "num_generations: 2.5: expected an integer"),
        ({"learning_rate": "fast"}, "learning_rate: 'fast': expected a number"),
        (
            {"lsrm_seq_mode": "sometimes"},
            r"lsrm_seq_mode: 'sometimes': expected one of \['product', 'count', 'gate'\]",
        ),
        ({"reward_funcs": ["lsrm", "bogus"]}, "reward_funcs: unknown reward 'bogus'; known rewards: lsrm"),
        ({"reward_weights": [1.0, 2.0]}, "reward_weights: 2 weights for 1 reward functions"),
        ({"curriculum": "max_level"}, "needs `curriculum_max_level`"),
        ({"dtype": "int8"}, "dtype: 'int8': expected one of"),
    ],
)
def test_bad_values_fail_validation_with_what_to_fix(recipe_copy, change, message):
    with pytest.raises(RecipeError, match=message):
        validate_recipe(recipe_copy("tiny/grpo_lsrm.yaml", **change))


def test_recipe_kind_comes_from_the_file_name():
    assert recipe_kind("recipes/x/grpo_flat.yaml").script == "recipes/grpo_lsrm.py"
    assert recipe_kind("recipes/x/sft.yaml").script == "recipes/sft.py"
    with pytest.raises(RecipeError, match=r"name it grpo_\*.yaml or sft_\*.yaml or train_rm_"):
        recipe_kind("recipes/x/train.yaml")


def test_get_reads_yaml_values_and_script_defaults():
    path = REPO_ROOT / "recipes/qwen2.5-7b/grpo_lsrm.yaml"
    assert get_value(path, "model_name_or_path") == "Qwen/Qwen2.5-7B-Instruct"
    assert get_value(path, "lsrm_tau") == 0.5  # not in the file: the script's default


def test_config_cli_lists_shows_validates_and_gets(capsys):
    assert cli.main(["config", "list"]) == 0
    listing = capsys.readouterr().out
    assert "recipes/qwen3-8b/grpo_lsrm.yaml\tQwen/Qwen3-8B\trecipes/grpo_lsrm.py" in listing
    tiny = str(REPO_ROOT / "recipes/tiny/grpo_lsrm.yaml")
    assert cli.main(["config", "show", tiny]) == 0
    shown = capsys.readouterr().out
    assert "#   lsrm_gamma: 0.5" in shown and "hub_token" not in shown
    assert cli.main(["config", "validate", tiny]) == 0
    assert "1/1 recipes valid" in capsys.readouterr().out
    assert cli.main(["config", "get", tiny, "max_steps"]) == 0
    assert capsys.readouterr().out.strip() == "30"


def test_config_list_tells_how_to_name_a_file_no_script_runs(tmp_path, capsys):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "train.yaml").write_text("model_name_or_path: org/model\n")
    assert cli.main(["config", "--root", str(tmp_path), "list"]) == 0
    assert "org/model\t(no script: name it grpo_*.yaml or sft_*.yaml or train_rm_*.yaml)" in capsys.readouterr().out


def test_config_validate_exits_1_naming_the_broken_file(recipe_copy, capsys):
    bad = recipe_copy("tiny/grpo_lsrm.yaml", reward_funcs=["nope"])
    assert cli.main(["config", "validate", str(bad)]) == 1
    assert f"FAIL  {bad}: reward_funcs: unknown reward 'nope'" in capsys.readouterr().out


def test_config_validate_never_loads_punkt(monkeypatch, tmp_path, capsys):
    from lsrif_trl.constraints import nltk_resources

    (tmp_path / nltk_resources.PUNKT_RESOURCE).mkdir(parents=True)  # an empty copy: loading punkt would raise
    monkeypatch.setenv("NLTK_DATA", str(tmp_path))
    monkeypatch.setattr(nltk_resources.nltk.data, "path", list(nltk_resources.nltk.data.path))
    nltk_resources.punkt_tokenizer.cache_clear()
    try:
        assert cli.main(["config", "validate", str(REPO_ROOT / "recipes/tiny/grpo_lsrm.yaml")]) == 0
        assert nltk_resources.punkt_tokenizer.cache_info().currsize == 0
    finally:
        nltk_resources.punkt_tokenizer.cache_clear()


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("ddp", DistributedType.MULTI_GPU),
        ("zero2", DistributedType.DEEPSPEED),
        ("zero3", DistributedType.DEEPSPEED),
        ("fsdp", DistributedType.FSDP),
    ],
)
def test_accelerate_configs_load(name, kind):
    config = load_config_from_file(str(REPO_ROOT / f"accelerate_configs/{name}.yaml"))
    assert config.distributed_type == kind
    assert config.mixed_precision == "bf16"
    if name.startswith("zero"):
        assert config.deepspeed_config["zero_stage"] == int(name[-1])


def test_slurm_launcher_dry_run_serves_vllm_on_the_last_node_and_trains_on_the_others():
    env = {"LSRIF_NODES": "gpu1 gpu2 gpu3", "DRY_RUN": "1", "PATH": "/usr/bin:/bin"}  # no venv needed
    out = subprocess.run(
        ["bash", "slurm/train.slurm", "qwen2.5-7b", "grpo_lsrm", "zero3", "--", "--learning_rate", "2e-6"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert out[0] == (
        "srun --nodes=1 --ntasks=1 --nodelist=gpu3 env VLLM_TP=1 recipes/vllm_serve.sh "
        "recipes/qwen2.5-7b/grpo_lsrm.yaml --host 0.0.0.0 --port 8000 &"
    )
    assert out[1].startswith(  # data parallel 1: TRL's vllm_serve says more errors out for dense models
        "#   which runs: VLLM_SERVER_DEV_MODE=1 vllm serve Qwen/Qwen2.5-7B-Instruct --tensor-parallel-size 1 "
        "--data-parallel-size 1 --weight-transfer-config"
    )
    assert "--max-model-len 5120 --host 0.0.0.0 --port 8000" in out[1]
    train = out[2]
    assert train.startswith("srun --nodes=2 --ntasks=2 --nodelist=gpu1,gpu2 bash -c accelerate launch")
    for part in [
        "accelerate_configs/zero3.yaml",
        "--num_machines 2",
        "--num_processes 16",
        "--main_process_ip gpu1",
        "--vllm_mode server",
        "--vllm_server_host gpu3",
        "--learning_rate 2e-6",
    ]:
        assert part in train


def test_make_dry_run_splits_gpus_between_vllm_server_and_training():
    out = subprocess.run(
        ["make", "-n", "train", "MODEL=qwen2.5-7b", "NUM_GPUS=8", "VLLM=server"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert 'echo "vLLM serves Qwen/Qwen2.5-7B-Instruct on GPU 7, port 8000"' in out  # read without a venv
    assert (
        "CUDA_VISIBLE_DEVICES=7 VLLM_TP=1 VLLM_BIN=.venv/bin/vllm recipes/vllm_serve.sh "
        "recipes/qwen2.5-7b/grpo_lsrm.yaml --port 8000 &" in out
    )
    assert (
        "CUDA_VISIBLE_DEVICES=0,1,2,3,4,5,6 .venv/bin/accelerate launch --config_file accelerate_configs/zero3.yaml "
        "--num_processes 7 recipes/grpo_lsrm.py --config recipes/qwen2.5-7b/grpo_lsrm.yaml --use_vllm true "
        "--vllm_mode server --vllm_server_port 8000 --vllm_server_timeout 1800" in out
    )


def test_make_dry_run_of_the_default_trains_tiny_on_cpu():
    out = subprocess.run(["make", "-n", "train"], cwd=REPO_ROOT, capture_output=True, text=True, check=True).stdout
    assert ".venv/bin/python recipes/grpo_lsrm.py --config recipes/tiny/grpo_lsrm.yaml" in out
    assert "accelerate launch" not in out


def test_make_dry_run_passes_accelerate_config_and_extra_args():
    out = subprocess.run(
        ["make", "-n", "train", "MODEL=qwen2.5-1.5b", "NUM_GPUS=4", "ACCELERATE=zero2", "ARGS=--learning_rate 2e-6"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert (
        "accelerate launch --config_file accelerate_configs/zero2.yaml --num_processes 4 recipes/grpo_lsrm.py "
        "--config recipes/qwen2.5-1.5b/grpo_lsrm.yaml --use_vllm true --vllm_mode colocate --learning_rate 2e-6"
    ) in out


def test_lora_is_one_flag_away():
    from peft import LoraConfig
    from trl import get_peft_config

    path = REPO_ROOT / "recipes/qwen2.5-7b/grpo_lsrm.yaml"
    argv = ["--config", str(path), "--use_peft", "true", "--lora_r", "64", "--lora_alpha", "128"]
    _, _, model_args = parse_recipe_args(KINDS["grpo"], argv, force_cpu=True)
    peft_config = get_peft_config(model_args)
    assert isinstance(peft_config, LoraConfig) and peft_config.r == 64 and peft_config.lora_alpha == 128


def test_make_dry_run_of_sft_uses_the_tiny_sft_recipe():
    out = subprocess.run(["make", "-n", "sft"], cwd=REPO_ROOT, capture_output=True, text=True, check=True).stdout
    assert ".venv/bin/python recipes/sft.py --config recipes/tiny/sft.yaml" in out


def test_a_token_passed_as_an_argument_is_refused_before_it_reaches_a_checkpoint():
    path = REPO_ROOT / "recipes/tiny/grpo_lsrm.yaml"
    with pytest.raises(RecipeError, match="hub_token: do not pass keys or tokens as arguments; put the key in an"):
        parse_recipe_args(KINDS["grpo"], ["--config", str(path), "--hub_token", "hf_secret"])


def test_a_key_given_for_its_variable_name_is_refused_and_never_shown(recipe_copy):
    key = "sk-" + "Zx9" * 10
    tiny = str(REPO_ROOT / "recipes/tiny/grpo_lsrm.yaml")
    for argv in (["--judge_api_key", key], ["--judge_api_key_env", key]):
        with pytest.raises(RecipeError) as err:
            parse_recipe_args(KINDS["grpo"], ["--config", tiny, *argv])
        assert argv[0].lstrip("-") in str(err.value) and key not in str(err.value)
    with pytest.raises(RecipeError, match="judge_api_key_env: this value looks like a key") as err:
        parse_recipe_args(KINDS["grpo"], ["--config", str(recipe_copy("tiny/grpo_lsrm.yaml", judge_api_key_env=key))])
    assert key not in str(err.value)


def test_recipe_options_are_never_abbreviated():
    tiny = str(REPO_ROOT / "recipes/tiny/grpo_lsrm.yaml")
    with pytest.raises(RecipeError, match=r"unknown option --learning_rat; did you mean --learning_rate"):
        parse_recipe_args(KINDS["grpo"], ["--config", tiny, "--learning_rat", "1e-5"])


def test_make_refuses_to_echo_a_command_line_that_carries_a_token():
    token = "hf_" + "Qw3" * 12
    out = subprocess.run(
        ["make", "-n", "train", f"ARGS=--hub_token {token}"], cwd=REPO_ROOT, capture_output=True, text=True
    )
    assert out.returncode != 0 and "carry a key or token" in out.stderr
    assert token not in out.stdout + out.stderr


def test_a_script_without_config_says_it_is_required(recipe_script, capsys):
    assert recipe_script("grpo_lsrm").main([]) == 2
    assert "--config is required: python recipes/grpo_lsrm.py --config RECIPE.yaml" in capsys.readouterr().err


def test_a_mistyped_command_line_option_is_blamed_on_the_command_line_with_a_close_match():
    argv = ["--config", str(REPO_ROOT / "recipes/tiny/grpo_lsrm.yaml"), "--lerning_rate", "1e-6"]
    with pytest.raises(
        RecipeError, match=r"^command line: unknown option --lerning_rate; did you mean --learning_rate"
    ):
        parse_recipe_args(KINDS["grpo"], argv)


def test_config_validate_reports_missing_files_and_duplicate_keys_and_takes_the_kind(tmp_path, capsys):
    duplicated = tmp_path / "grpo_twice.yaml"
    duplicated.write_text("learning_rate: 1.0e-6\nlearning_rate: 2.0e-6\n")
    unnamed = tmp_path / "mine.yaml"  # a name that says no kind
    unnamed.write_text((REPO_ROOT / "recipes/tiny/grpo_lsrm.yaml").read_text())
    assert cli.main(["config", "validate", str(tmp_path / "gone.yaml"), str(duplicated)]) == 1
    out = capsys.readouterr().out
    assert f"FAIL  {tmp_path / 'gone.yaml'}: no such recipe file" in out
    assert f"FAIL  {duplicated}: not valid YAML: duplicate key 'learning_rate'" in out
    assert cli.main(["config", "validate", str(unnamed)]) == 1
    assert "cannot tell which script runs it" in capsys.readouterr().out
    assert cli.main(["config", "validate", "--kind", "grpo", str(unnamed)]) == 0
