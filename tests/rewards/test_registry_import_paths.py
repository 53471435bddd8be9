"""`reward_funcs` entries may be import paths of your own functions, mixed with the project's names, as in TRL."""

import sys

import pytest

from lsrif_trl.rewards.registry import get_reward_funcs


@pytest.fixture
def own_module(tmp_path, monkeypatch):
    """A module `myrewards` in the working directory, as a user's reward file beside the run."""
    (tmp_path / "myrewards.py").write_text(
        "def length_reward(completions, **kwargs):\n    return [float(len(str(c))) for c in completions]\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield
    sys.modules.pop("myrewards", None)


def test_an_import_path_is_imported_from_the_working_directory_beside_the_project_names(own_module):
    lsrm, own = get_reward_funcs(["lsrm", "myrewards.length_reward"], gamma=0.5)
    assert lsrm.__name__ == "lsrm_reward" and own.__name__ == "length_reward"
    assert own(prompts=["p"], completions=["abc"]) == [3.0]


def test_a_path_that_does_not_import_names_the_module_and_the_known_rewards(own_module):
    with pytest.raises(ValueError, match=r"unknown reward 'nopkg.fn': not a known name \(lsrm, .*'nopkg' cannot"):
        get_reward_funcs(["nopkg.fn"])
    with pytest.raises(ValueError, match="module 'myrewards' has no function 'missing'"):
        get_reward_funcs(["myrewards.missing"])


def test_an_unknown_plain_name_still_lists_the_known_ones():
    with pytest.raises(ValueError, match="unknown reward 'lsrn'; known rewards: lsrm, .*or an import path"):
        get_reward_funcs(["lsrn"])
