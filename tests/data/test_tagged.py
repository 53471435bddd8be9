"""Tagged text: categories follow the characters through joins, layouts, stripping and case changes."""

from lsrif_trl.data.render import as_clause, as_sentence
from lsrif_trl.data.tagged import Tagged, fill, join


def test_pieces_keep_their_categories_through_joins_and_layouts():
    text = fill("{a}: {b}", {"a": Tagged.of("First,", "connector"), "b": join("; ", [Tagged.of("x", "c"), "y"])})
    assert text.text == "First,: x; y"
    assert text.spans() == {"connector": [[0, 6]], "c": [[8, 9]]}
    assert fill("do {items}", {"items": "z"}, literals="connector").spans() == {"connector": [[0, 3]]}


def test_retext_keeps_categories_of_kept_characters_and_adds_punctuation_as_other():
    phrase = Tagged.of("Use", "verb") + Tagged.of(" no commas.", "constraint")
    clause = phrase.retext(as_clause(phrase.text))
    assert clause.text == "use no commas" and clause.spans() == {"verb": [[0, 3]], "constraint": [[3, 13]]}
    sentence = clause.retext(as_sentence(clause.text))
    assert sentence.text == "Use no commas." and sentence.spans() == {"verb": [[0, 3]], "constraint": [[3, 13]]}
    padded = ("  " + phrase).retext(phrase.text)
    assert padded.spans() == phrase.spans()
