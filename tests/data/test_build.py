"""The data build is a library call (`build_to`) that `lsrif data build` and the recipes share."""

import json

import pytest

from lsrif_trl.data.build import BuildError, BuildOptions, build_command, build_to
from lsrif_trl.data.loading import load_training_dataset


def test_build_to_writes_rows_stats_and_a_card_and_reports_them(tmp_path):
    out = tmp_path / "built"
    report = build_to(out, BuildOptions(num_examples=6, seed=3, families=("train",), curriculum=True))
    assert report.output == out and report.rows == len(load_training_dataset(str(out)))
    assert json.loads(report.stats_json.read_text())["rows"] == report.rows and report.stats_png.is_file()
    card = (out / "README.md").read_text()
    assert build_command(out, BuildOptions(num_examples=6, seed=3, families=("train",), curriculum=True)) in card


def test_the_same_options_build_the_same_rows(tmp_path):
    options = BuildOptions(num_examples=5, seed=1)
    build_to(tmp_path / "a", options)
    build_to(tmp_path / "b", options)
    rows = [load_training_dataset(str(tmp_path / name)).to_list() for name in "ab"]
    assert rows[0] == rows[1]


def test_an_existing_dataset_is_never_replaced_without_overwrite(tmp_path):
    out = tmp_path / "built"
    build_to(out, BuildOptions(num_examples=3))
    before = sorted(p.name for p in out.iterdir())
    with pytest.raises(BuildError, match="already holds files"):
        build_to(out, BuildOptions(num_examples=4))
    assert sorted(p.name for p in out.iterdir()) == before
    assert build_to(out, BuildOptions(num_examples=4, overwrite=True)).rows == 4


def test_bad_options_are_a_build_error_before_anything_is_written(tmp_path):
    with pytest.raises(BuildError, match="num_examples"):
        build_to(tmp_path / "x", BuildOptions(num_examples=0))
    with pytest.raises(BuildError, match="format"):
        build_to(tmp_path / "x", BuildOptions(num_examples=2, format="csv"))
    assert not (tmp_path / "x").exists()
