"""The checks a recipe runs on its environment before any model loads."""

import nltk
import pytest

from lsrif_trl.constraints import nltk_resources
from lsrif_trl.training.config import RecipeError
from lsrif_trl.training.preflight import check_punkt


@pytest.fixture
def fresh_punkt(monkeypatch):
    monkeypatch.setattr(nltk.data, "path", list(nltk.data.path))
    nltk_resources.punkt_tokenizer.cache_clear()
    yield
    nltk_resources.punkt_tokenizer.cache_clear()


def test_punkt_loads_from_the_package_without_nltk_data(monkeypatch, fresh_punkt):
    monkeypatch.delenv("NLTK_DATA", raising=False)
    check_punkt()


def test_an_unreadable_punkt_copy_on_nltk_data_stops_the_recipe_naming_it(monkeypatch, tmp_path, fresh_punkt):
    english = tmp_path / nltk_resources.PUNKT_RESOURCE
    english.mkdir(parents=True)
    (english / "abbrev_types.txt").write_text("dr\n", encoding="utf-8")  # the other three files are missing
    monkeypatch.setenv("NLTK_DATA", str(tmp_path))
    with pytest.raises(RecipeError, match=f"NLTK_DATA holds .*{tmp_path.name}.*unset NLTK_DATA"):
        check_punkt()
