"""Alias matching: whole words, hyphen/space tolerance, near-misses, acronym guard."""

from __future__ import annotations

import pytest

from watchers.model import Topic
from watchers.text.match import (
    IN_HEADLINE,
    IN_TEXT,
    Mention,
    excerpt,
    find_alias,
    find_alias_in,
    find_mention,
)

NAMES = ("ulefnersen", "ION363", "jacifusen")

# (text, names, expected)
CASES = {
    "exact name": ("A study of ulefnersen in FUS-ALS", NAMES, "ulefnersen"),
    "case-insensitive name": ("ULEFNERSEN update", NAMES, "ulefnersen"),
    "code lower case": ("dosing of ion363 began", NAMES, "ION363"),
    "code with hyphen in text": ("ION-363 trial", NAMES, "ION363"),
    "code with space in text": ("ION 363 trial", NAMES, "ION363"),
    "code with en dash in text": ("ION\u2013363 trial", NAMES, "ION363"),
    "hyphenated alias finds plain": ("ION363 readout", ("ION-363",), "ION-363"),
    "hyphenated alias finds spaced": ("FUS ALS cohort", ("FUS-ALS",), "FUS-ALS"),
    "spaced alias finds hyphenated": ("FUS-ALS cohort", ("FUS ALS",), "FUS ALS"),
    "code followed by punctuation": ("(ION363).", NAMES, "ION363"),
    "org study id prefix": ("ION363-CS1", NAMES, "ION363"),
    "first of names wins": ("jacifusen, also ION363", NAMES, "ION363"),
    "multi-word with digits": ("Toca511 and Toca FC", ("Toca 511",), "Toca 511"),
    "acronym in capitals": ("results of the FUSION trial", ("FUSION",), "FUSION"),
    "lower-case alias is a plain word": ("Fusion protein study", ("fusion",), "fusion"),
    # Near-misses: none of these may match.
    "near-miss longer code": ("ION3630 trial", NAMES, None),
    "near-miss longer hyphenated code": ("ION-3630 trial", NAMES, None),
    "near-miss prefix letters": ("XION363", NAMES, None),
    "near-miss inside word": ("xjacifusenx", NAMES, None),
    "near-miss refusion": ("refusion of fluids", ("fusion",), None),
    "near-miss acronym as ordinary word": ("a fusion protein", ("FUSION",), None),
    "near-miss FUS inside fusion": ("fusion protein", ("FUS",), None),
    "near-miss two words glued": ("FUSALS", ("FUS ALS",), None),
    "empty text": ("", NAMES, None),
    "blank alias never matches": ("anything at all", ("  ",), None),
}


@pytest.mark.parametrize(("text", "names", "expected"), CASES.values(), ids=CASES.keys())
def test_find_alias(text: str, names: tuple[str, ...], expected: str | None) -> None:
    assert find_alias(text, names) == expected


def test_find_alias_in_prefers_name_order_over_text_order() -> None:
    texts = ["Drug: jacifusen", None, "ION363 in FUS-ALS"]
    assert find_alias_in(texts, NAMES) == "ION363"


def test_find_alias_in_skips_none_and_finds_nothing() -> None:
    assert find_alias_in([None, "Placebo", ""], NAMES) is None


def test_find_alias_in_does_not_join_texts() -> None:
    # "FUS" ending one field and "ALS" starting the next is not the alias "FUS ALS".
    assert find_alias_in(["about FUS", "ALS clinic"], ("FUS ALS",)) is None


# In an item's text a name must be a token of its own: these headline matches are not mentions.
STRICTER_IN_TEXT = {"org study id prefix": None}


@pytest.mark.parametrize(("text", "names", "expected"), CASES.values(), ids=CASES.keys())
def test_the_same_table_holds_in_an_items_text(
    request: pytest.FixtureRequest, text: str, names: tuple[str, ...], expected: str | None
) -> None:
    case = request.node.callspec.id
    expected = STRICTER_IN_TEXT.get(case, expected)
    mention = find_mention(Topic(names[0], aliases=names[1:]), "FDA Roundup", [text])
    assert (mention.name if mention else None) == expected
    if mention is not None:
        assert mention.where == IN_TEXT


# (text, expected) for the topic ulefnersen / ION363 / FUSION, the name in the body only
TEXT_ONLY = {
    "name between em dashes": ("the drug\u2014ulefnersen\u2014was given", "ulefnersen"),
    "code in brackets": ("a trial (ION-363) in FUS-ALS", "ION363"),
    "possessive": ("ulefnersen's label", "ulefnersen"),
    "near-miss prefixed by a hyphenated word": ("anti-ulefnersen antibodies", None),
    "near-miss suffixed by a hyphenated word": ("ION363-treated mice", None),
    "near-miss study code": ("the ION363-CS1 study", None),
    "near-miss acronym as ordinary word": ("a Fusion protein", None),
    "near-miss inside a longer code": ("ION3630", None),
}
ULEF = Topic("ulefnersen", aliases=("ION363", "FUSION"))


@pytest.mark.parametrize(("text", "expected"), TEXT_ONLY.values(), ids=TEXT_ONLY.keys())
def test_a_name_in_the_text_is_a_whole_token(text: str, expected: str | None) -> None:
    mention = find_mention(ULEF, "Third quarter results", [None, text])
    assert (mention.name if mention else None) == expected


def test_the_headline_wins_over_the_text() -> None:
    assert find_mention(ULEF, "ION363 update", ["ulefnersen"]) == Mention("ION363", IN_HEADLINE)


def test_names_come_before_trial_numbers() -> None:
    topic = Topic("ulefnersen", trials=("NCT04768972",))
    mention = find_mention(topic, "x", ["NCT04768972 tests ulefnersen"])
    assert mention is not None and mention.name == "ulefnersen"


def test_no_mention_anywhere() -> None:
    assert find_mention(ULEF, "FDA Roundup", ["", None, "nothing here"]) is None


EXCERPTS = {
    "short text is whole": ("ulefnersen works", 0, 10, "ulefnersen works"),
    "cut both sides at words": (
        "alpha beta gamma ulefnersen delta epsilon zeta",
        17,
        27,
        "…beta gamma ulefnersen delta epsilon…",
    ),
}


@pytest.mark.parametrize(("text", "start", "end", "expected"), EXCERPTS.values(), ids=EXCERPTS)
def test_excerpt(text: str, start: int, end: int, expected: str) -> None:
    assert excerpt(text, start, end, context=14) == expected
