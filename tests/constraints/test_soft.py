"""Soft constraints: a catalogue of judged dimensions whose texts are soft leaves (docs/structure.md)."""

import pytest

from lsrif_trl.constraints.registry import constraint_ids
from lsrif_trl.constraints.soft import get_soft, soft_conflict, soft_ids
from lsrif_trl.structure import parse_structure


def test_catalogue_covers_tone_style_audience_persona_sentiment_and_formality():
    assert {"soft:tone", "soft:style", "soft:audience", "soft:persona", "soft:sentiment", "soft:formality"} <= set(
        soft_ids()
    )


@pytest.mark.parametrize("soft_id", soft_ids())
def test_every_entry_is_soft_namespaced_with_several_distinct_texts(soft_id):
    entry = get_soft(soft_id)
    assert entry.id.startswith("soft:") and entry.family == "soft"
    assert len(entry.texts) >= 2 and len(set(entry.texts)) == len(entry.texts)
    assert all(text.strip() and text.rstrip()[-1] in ".!" for text in entry.texts)


@pytest.mark.parametrize("soft_id", soft_ids())
def test_conflicts_name_known_ids_and_are_symmetric(soft_id):
    for other in get_soft(soft_id).conflicts_with:
        assert soft_id in get_soft(other).conflicts_with


def test_soft_ids_are_not_in_the_hard_registry():
    assert not set(soft_ids()) & set(constraint_ids())


@pytest.mark.parametrize("soft_id", soft_ids())
def test_every_text_parses_as_a_soft_leaf_of_the_logic_tree(soft_id):
    for text in get_soft(soft_id).texts:
        node = parse_structure({"type": "constraint", "id": soft_id, "text": text, "kind": "soft"})
        assert node.kind == "soft" and node.id == soft_id and node.text == text


def test_a_dimension_conflicts_with_itself_and_its_listed_conflicts_only():
    assert soft_conflict("soft:tone", "soft:tone")
    assert soft_conflict("soft:tone", "soft:sentiment") and soft_conflict("soft:sentiment", "soft:tone")
    assert not soft_conflict("soft:tone", "soft:audience")


def test_unknown_soft_id_error_suggests_the_closest_id():
    with pytest.raises(ValueError, match="soft:tone"):
        get_soft("soft:tones")
    with pytest.raises(ValueError, match="soft:nope"):
        soft_conflict("soft:nope", "soft:tone")
