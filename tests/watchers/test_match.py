"""Alias matching: whole words, hyphen/space tolerance, near-misses, acronym guard."""

from __future__ import annotations

import pytest

from watchers.match import find_alias, find_alias_in

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
