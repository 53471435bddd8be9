"""Keys and tokens are refused as arguments, naming the option and never repeating the value."""

import pytest

from lsrif_trl.cli import main
from lsrif_trl.secret_args import SecretArgumentError, check_argv, check_mapping

OPENAI_KEY = "sk-proj-" + "a1B2c3D4e5" * 4
HF_TOKEN = "hf_" + "aBcD1234eF" * 4


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["--hub_token", "anything"], "hub_token"),
        (["--hub_token=anything"], "hub_token"),
        (["--judge_api_key", OPENAI_KEY], "judge_api_key"),
        (["--api-key", "x"], "api-key"),
        (["--judge_api_key_env", OPENAI_KEY], "judge_api_key_env"),  # the key itself where its variable's name goes
        (["--api-key-env", "my key"], "api-key-env"),
        (["--model_name_or_path", HF_TOKEN], "model_name_or_path"),
        (["data", "build", f"--rewrite-model={HF_TOKEN}"], "rewrite-model"),
        (["ghp_" + "x1" * 18], "an argument"),
        (["--password", "hunter2"], "password"),
    ],
)
def test_a_secret_argument_is_refused_naming_the_option_not_the_value(argv, named):
    with pytest.raises(SecretArgumentError) as err:
        check_argv(argv)
    message = str(err.value)
    assert message.startswith(named) and "environment" in message
    assert all(part not in message for part in argv if not part.startswith("--") and part not in ("data", "build"))


@pytest.mark.parametrize(
    "argv",
    [
        ["--judge_api_key_env", "OPENAI_API_KEY", "--max_new_tokens", "8", "--pad_token", "<|endoftext|>"],
        ["--dataset_name", "hf_local_folder", "--output", "sk-data"],
        ["--model_revision", "0123456789abcdef0123456789abcdef01234567"],  # a commit hash is not a key
    ],
)
def test_ordinary_arguments_pass(argv):
    check_argv(argv)


def test_recipe_files_are_checked_key_by_key():
    with pytest.raises(SecretArgumentError, match="recipe.yaml: judge_api_key_env: this value looks like a key"):
        check_mapping({"judge_api_key_env": OPENAI_KEY}, "recipe.yaml")
    check_mapping({"judge_api_key_env": "OPENAI_API_KEY", "reward_funcs": ["lsrm"], "hub_model_id": None}, "r.yaml")


def test_the_lsrif_command_refuses_before_argparse_could_echo_it(capsys):
    assert main(["eval", "ifeval", "--model", "tiny", "--api-key", OPENAI_KEY, "--output-dir", "x"]) == 2
    captured = capsys.readouterr()
    assert "api-key: do not pass keys" in captured.err and OPENAI_KEY not in captured.err + captured.out


def test_the_lsrif_command_takes_no_abbreviated_options(capsys):
    with pytest.raises(SystemExit):
        main(["score", "answers.jsonl", "--seq", "gate"])  # --seq-mode spelled out only
    assert "unrecognized arguments: --seq" in capsys.readouterr().err
