"""The settings file beside a responses file: written whole, and a torn one is named with what to do."""

import json

import pytest

from lsrif_trl.eval.generation import check_resume_settings, settings_path

SETTINGS = {"model": "m", "sampling": {"temperature": 0.0}}


def test_settings_are_recorded_for_a_new_file_and_checked_on_resume(tmp_path):
    output = tmp_path / "responses.jsonl"
    check_resume_settings(output, SETTINGS)
    assert json.loads(settings_path(output).read_text()) == SETTINGS
    assert [p.name for p in tmp_path.iterdir()] == ["responses.settings.json"]  # no partial file left behind
    check_resume_settings(output, SETTINGS)
    with pytest.raises(ValueError, match="other settings"):
        check_resume_settings(output, {**SETTINGS, "model": "other"})


@pytest.mark.parametrize("content", [b'{"model": "m", "samp', b"", b"\xff\xfe", b"[1, 2]"])
def test_a_torn_settings_file_names_the_file(tmp_path, content):
    output = tmp_path / "responses.jsonl"
    settings_path(output).write_bytes(content)
    with pytest.raises(ValueError, match=f"{settings_path(output)}: .*delete it"):
        check_resume_settings(output, SETTINGS)
