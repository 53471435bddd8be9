"""Every kwarg is bounded by its schema: integers by a maximum, texts by a length, regex kwargs by what IFEval needs."""

import random

import pytest

from lsrif_trl.constraints import follows_strict
from lsrif_trl.constraints.base import MAX_LIST_ITEMS, MAX_REGEX_CHARS, MAX_TEXT_CHARS, KwargError
from lsrif_trl.constraints.registry import constraint_ids, get_constraint

ALL_IDS = constraint_ids()
REGEX_KWARGS = {
    "keywords:existence": "keywords",
    "keywords:frequency": "keyword",
    "keywords:forbidden_words": "forbidden_words",
    "detectable_content:postscript": "postscript_marker",
    "detectable_format:multiple_sections": "section_spliter",
}


@pytest.mark.parametrize("cid", ALL_IDS)
def test_every_number_kwarg_has_a_maximum_that_the_builder_samples_within(cid):
    constraint = get_constraint(cid)
    for param in constraint.params:
        if param.type in (int, float) and param.choices is None:
            assert param.maximum is not None, f"{cid}: {param.name} has no maximum"
    rng = random.Random(cid)
    for _ in range(50):
        constraint.validate(constraint.sample_kwargs(rng))


def test_a_huge_count_is_rejected_naming_the_field_and_the_limit():
    with pytest.raises(KwargError, match=r"'num_items': expected a value <= 100 \(the limit\), got 1000000000") as err:
        get_constraint("format:numbered_list").validate({"num_items": 10**9})
    assert err.value.field == "num_items"


@pytest.mark.parametrize(("cid", "field"), sorted(REGEX_KWARGS.items()))
def test_regex_kwargs_are_marked_and_reject_backtracking_patterns(cid, field):
    param = {p.name: p for p in get_constraint(cid).params}[field]
    assert param.regex
    value = ["(a|aa)*c"] if param.type is list else "(a|aa)*c"
    with pytest.raises(KwargError, match="regular-expression syntax") as err:
        get_constraint(cid).validate({**get_constraint(cid).sample_kwargs(random.Random(0)), field: value})
    assert err.value.field == field


def test_regex_kwargs_keep_ifeval_literal_text_and_dots_and_stay_regexes():
    postscript = get_constraint("detectable_content:postscript")
    kwargs = postscript.validate({"postscript_marker": "P.Q."})
    assert follows_strict("Hi.\nP Q  and more", postscript, kwargs)  # `.` still matches any character
    assert get_constraint("keywords:existence").validate({"keywords": ["don't", "well-known", "P.S."]})


@pytest.mark.parametrize(
    ("kwargs", "limit"),
    [
        ({"keywords": ["x" * (MAX_REGEX_CHARS + 1)]}, MAX_REGEX_CHARS),
        ({"keywords": ["w"] * (MAX_LIST_ITEMS + 1)}, MAX_LIST_ITEMS),
    ],
)
def test_long_regex_kwargs_and_long_lists_are_rejected(kwargs, limit):
    with pytest.raises(KwargError, match=f"limit of {limit}"):
        get_constraint("keywords:existence").validate(kwargs)


def test_text_kwargs_have_a_length_limit():
    with pytest.raises(KwargError, match=f"more than the limit of {MAX_TEXT_CHARS}"):
        get_constraint("startend:end_checker").validate({"end_phrase": "x" * (MAX_TEXT_CHARS + 1)})
