"""The checks a recipe runs on its environment before any model loads."""

import time
from types import SimpleNamespace

import nltk
import pytest

from lsrif_trl.constraints import nltk_resources
from lsrif_trl.training import preflight
from lsrif_trl.training.config import REPO_ROOT
from lsrif_trl.training.errors import RecipeError

TINY_RECIPE = REPO_ROOT / "recipes/tiny/grpo_lsrm.yaml"


@pytest.fixture
def fresh_punkt(monkeypatch):
    monkeypatch.setattr(nltk.data, "path", list(nltk.data.path))
    nltk_resources.punkt_tokenizer.cache_clear()
    yield
    nltk_resources.punkt_tokenizer.cache_clear()


@pytest.fixture
def missing(monkeypatch):
    """`missing("vllm", ...)`: those packages look uninstalled to the preflight, whatever this machine has."""
    real = preflight.installed
    absent: set[str] = set()
    monkeypatch.setattr(preflight, "installed", lambda name: name not in absent and real(name))
    return absent.update


def training(**options):
    return SimpleNamespace(**({"use_vllm": False, "report_to": [], "push_to_hub": False} | options))


def model(**options):
    return SimpleNamespace(**({"use_peft": False, "load_in_4bit": False, "load_in_8bit": False} | options))


def test_punkt_loads_from_the_package_without_nltk_data(monkeypatch, fresh_punkt):
    monkeypatch.delenv("NLTK_DATA", raising=False)
    preflight.check_punkt()


def test_an_unreadable_punkt_copy_on_nltk_data_stops_the_recipe_naming_it(monkeypatch, tmp_path, fresh_punkt):
    english = tmp_path / nltk_resources.PUNKT_RESOURCE
    english.mkdir(parents=True)
    (english / "abbrev_types.txt").write_text("dr\n", encoding="utf-8")  # the other three files are missing
    monkeypatch.setenv("NLTK_DATA", str(tmp_path))
    with pytest.raises(RecipeError, match=f"NLTK_DATA holds .*{tmp_path.name}.*unset NLTK_DATA"):
        preflight.check_punkt()


@pytest.mark.parametrize(
    ("training_options", "model_options", "package", "extra"),
    [
        ({"use_vllm": True}, {}, "vllm", "vllm"),
        ({}, {"use_peft": True}, "peft", "dev"),
        ({}, {"use_peft": True, "load_in_4bit": True}, "bitsandbytes", "quantization"),
        ({"report_to": ["wandb"]}, {}, "wandb", "wandb"),
        ({"report_to": ["trackio"]}, {}, "trackio", "wandb"),
    ],
)
def test_a_package_the_options_need_is_named_with_the_extra_that_installs_it(
    missing, training_options, model_options, package, extra
):
    missing({package})
    with pytest.raises(RecipeError, match=rf"needs the package '{package}'.*EXTRAS=dev,{extra}"):
        preflight.check_packages(training(**training_options), model(**model_options))


def test_nothing_optional_is_needed_by_default(missing):
    missing({"vllm", "deepspeed", "bitsandbytes", "wandb", "trackio"})
    preflight.check_packages(training(), model())


def test_quantized_loading_without_lora_is_refused():
    with pytest.raises(RecipeError, match="load_in_8bit: true.*--use_peft true"):
        preflight.check_packages(training(), model(load_in_8bit=True))


def test_a_tracker_outside_the_extras_is_named_with_its_pip_package(missing):
    missing({"mlflow"})
    with pytest.raises(RecipeError, match="report_to: mlflow.*pip install mlflow"):
        preflight.check_packages(training(report_to=["mlflow"]), model())


def test_a_zero_launch_without_deepspeed_stops_before_parsing(monkeypatch, missing):
    missing({"deepspeed"})
    monkeypatch.setenv("ACCELERATE_USE_DEEPSPEED", "true")  # what `accelerate launch` sets for a ZeRO config
    with pytest.raises(RecipeError, match="DEEPSPEED.*'deepspeed'.*EXTRAS=dev,deepspeed"):
        preflight.check_launch(["--config", str(TINY_RECIPE)])


def test_a_deepspeed_argument_or_key_without_deepspeed_stops_before_parsing(monkeypatch, missing, recipe_copy):
    missing({"deepspeed"})
    monkeypatch.delenv("ACCELERATE_USE_DEEPSPEED", raising=False)
    with pytest.raises(RecipeError, match="`deepspeed` needs the package 'deepspeed'"):
        preflight.check_launch(["--config", str(TINY_RECIPE), "--deepspeed", "ds.json"])
    config = recipe_copy("tiny/grpo_lsrm.yaml", deepspeed="ds.json")
    with pytest.raises(RecipeError, match="`deepspeed` needs the package 'deepspeed'"):
        preflight.check_launch(["--config", str(config)])
    preflight.check_launch(["--config", str(TINY_RECIPE)])  # neither: nothing is needed


def test_pushing_while_offline_is_refused(monkeypatch):
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    with pytest.raises(RecipeError, match="push_to_hub: HF_HUB_OFFLINE is set"):
        preflight.check_hub_write(training(push_to_hub=True))


@pytest.fixture
def online_hub(monkeypatch):
    """The Hub as a test scripts it: `online_hub(token, whoami)` sets the token found and the whoami reply."""
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", False)

    def script(token, whoami):
        monkeypatch.setattr("huggingface_hub.get_token", lambda: token)
        monkeypatch.setattr("huggingface_hub.HfApi.whoami", lambda self, token=None: whoami())

    return script


def test_pushing_without_a_token_or_with_a_read_token_is_refused(online_hub):
    online_hub(None, dict)
    with pytest.raises(RecipeError, match="no Hub token; set HF_TOKEN"):
        preflight.check_hub_write(training(push_to_hub=True))
    online_hub("hf_x", lambda: {"auth": {"accessToken": {"role": "read"}}})
    with pytest.raises(RecipeError, match="read-only"):
        preflight.check_hub_write(training(push_to_hub=True))
    online_hub("hf_x", lambda: {"auth": {"accessToken": {"role": "write"}}})
    preflight.check_hub_write(training(push_to_hub=True))


def test_a_hub_that_refuses_or_never_answers_stops_the_run_instead_of_hanging(online_hub, monkeypatch):
    def refuse():
        raise OSError("401 Unauthorized")

    online_hub("hf_x", refuse)
    with pytest.raises(RecipeError, match="refused the token.*401"):
        preflight.check_hub_write(training(push_to_hub=True))
    monkeypatch.setattr(preflight, "HUB_CHECK_TIMEOUT_S", 0.2)
    online_hub("hf_x", lambda: time.sleep(5))
    with pytest.raises(RecipeError, match="did not answer within 0 s"):
        preflight.check_hub_write(training(push_to_hub=True))


def test_the_grpo_recipe_stops_on_a_missing_vllm_before_any_model(
    tmp_path, capsys, missing, no_model_loading, recipe_script
):
    missing({"vllm"})
    argv = ["--config", str(TINY_RECIPE), "--output_dir", str(tmp_path / "run"), "--use_vllm", "true"]
    assert recipe_script("grpo_lsrm").main(argv) == 2
    assert "`use_vllm: true` needs the package 'vllm'" in capsys.readouterr().err
