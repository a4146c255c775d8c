"""The normalisation of each text field (taskapi.text), on its own: the right values, and the
properties any value keeps."""

from __future__ import annotations

import re
import sys
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from taskapi import text
from taskapi.models import TITLE_PATTERN, SearchText, TaskCreate

# Drawn, so not invisible, though format characters (PropList.txt: Prepended_Concatenation_Mark).
PREPENDED_CONCATENATION_MARKS = {
    *range(0x0600, 0x0606),
    0x06DD,
    0x070F,
    0x0890,
    0x0891,
    0x08E2,
    0x110BD,
    0x110CD,
}
SCOTLAND = "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"


def test_every_control_format_and_space_character_is_invisible() -> None:
    assert "\x00" not in text.INVISIBLE  # refused, never trimmed away
    for point in range(1, sys.maxunicode + 1):
        character = chr(point)
        if unicodedata.category(character) in ("Cc", "Cf", "Zs", "Zl", "Zp"):
            drawn = point in PREPENDED_CONCATENATION_MARKS
            assert (character in text.INVISIBLE) is not drawn, hex(point)


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("\ufeffPay rent\ufeff", "Pay rent"),  # a byte-order mark pasted with the text
        ("\u200b\u200c\u200d\u2060 Pay rent \u00ad\u180e", "Pay rent"),
        ("\u202eHello", "Hello"),  # a bidi override first
        ("Pay\u200brent", "Pay\u200brent"),  # inside, kept
        ("cafe\u0301", "caf\u00e9"),  # NFD in, NFC out
        ("\u212b", "\u00c5"),  # the angstrom sign is the letter
        ("\u0958", "\u0915\u093c"),  # NFC spells some characters with two
        ("\u2764\ufe0f", "\u2764\ufe0f"),  # the emoji heart keeps its variation selector
        ("\ufe0fx", "x"),  # which modifies nothing at the start
        (f" {SCOTLAND} ", SCOTLAND),  # a flag ends in tag characters
        ("\u0600\u0661\u0662", "\u0600\u0661\u0662"),  # the Arabic number sign is drawn
    ],
)
def test_title_normalisation(sent: str, stored: str) -> None:
    assert text.title(sent) == stored


@pytest.mark.parametrize(
    "blank",
    [
        "\u200b",
        "\u200b\u200c\u200d",
        "\ufeff",
        "\u2060\u2061\u2062\u2063\u2064",
        "\u3164",  # Hangul filler, the classic blank name
        "\u115f\u1160\uffa0",
        "\u00ad",
        "\u034f",
        "\ufe0f",
        "\U000e0001\U000e0020",
        "\x01\x7f\x9f",
        "\u1680\u3000\u2028\u2029\x85\xa0 \t\n",
        "\ufff9\ufffb",
        "\U0001d173",
        # Drawn as nothing, though not controls or formats: blanks and fillers.
        "\u2800",  # Braille pattern blank
        "\U0001d159",  # musical symbol null notehead
        "\ufffc",  # object replacement character
        "\U00016fe4",  # Khitan small script filler
        "\u180e\u034f",  # Mongolian vowel separator, combining grapheme joiner
        "\ufe0e\ufe0f\U000e0100",  # variation selectors with nothing to vary
        "\U000e0041\U000e007f",  # tag characters alone
        # Combining marks with nothing to combine with: a stray accent, a circle around nothing.
        "\u0300",
        "\u20dd",
        " \u0301\u20dd\u200b",
        "\u2800\u0300",
    ],
)
def test_a_title_of_invisible_characters_is_blank(blank: str) -> None:
    assert text.title(blank) == ""
    assert re.fullmatch(TITLE_PATTERN, blank) is None  # and the schema says so


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("Work", "work"),
        (" HOME OFFICE\u200b", "home office"),
        ("\u0130", "i\u0307"),  # capital I with a dot: two characters once lowered
        ("\u01c5", "\u01c6"),  # the title-case Dz digraph
        ("\u01c4A", "\u01c6a"),
        ("stra\u00dfe", "stra\u00dfe"),  # lowered, not case-folded: no "strasse"
        ("\u1e9e", "\u00df"),  # capital sharp s
        ("\u039f\u0394\u039f\u03a3", "\u03bf\u03b4\u03bf\u03c2"),  # a final sigma stays final
        ("E\u0301", "\u00e9"),
        ("\u212b", "\u00e5"),
    ],
)
def test_tag_normalisation(sent: str, stored: str) -> None:
    assert text.tag(sent) == stored


@pytest.mark.parametrize("kept", ["x\u0300", "\u0915\u093f", "\u2800x\u2800"])
def test_a_mark_on_something_that_shows_is_kept(kept: str) -> None:
    assert text.title(kept) == kept.strip("\u2800")
    assert re.fullmatch(TITLE_PATTERN, kept) is not None


@pytest.mark.parametrize(
    "unassigned",
    [
        "\u1cbc",  # unassigned in Unicode 14.0 (Georgian Mtavruli has a gap there)
        "\U000e0080",  # reserved among the tag characters
        "\ufdd0",  # a noncharacter (category Cn too)
        "\U0010ffff",
    ],
)
def test_an_unassigned_code_point_is_refused_in_every_text_field(unassigned: str) -> None:
    assert unicodedata.unidata_version == text.UNICODE_VERSION == "14.0.0"
    assert text.unassigned(f"ok {unassigned}") == unassigned
    for body in (
        {"title": f"Pay {unassigned} rent"},
        {"title": "t", "description": f"a {unassigned}"},
        {"title": "t", "tags": [f"a{unassigned}b"]},
    ):
        with pytest.raises(ValidationError, match=f"U\\+{ord(unassigned):04X}.*unassigned"):
            TaskCreate.model_validate(body)
    with pytest.raises(ValidationError, match="unassigned"):
        TypeAdapter(SearchText).validate_python(f"a{unassigned}")
    assert text.unassigned("Pay rent \u00e9 \u2764\ufe0f") is None


def test_description_and_search_text_are_composed_and_keep_their_spacing() -> None:
    assert text.description("  e\u0301\n\t") == "  \u00e9\n\t"
    assert text.search_text(" cafe\u0301 ") == " caf\u00e9 "


# Any text, weighted towards what normalising changes: invisible characters, combining marks,
# characters that change length when composed or lowered.
tricky = st.sampled_from(
    "\u200b\ufeff\u3164\ufe0f\u0301\u0307\u0130\u01c5\u0958\u212b\u00df\u03a3 \t\x85\U000e007f"
)
texts = st.text(st.one_of(st.characters(exclude_categories=["Cs"]), tricky), max_size=40)


@given(texts)
def test_normalising_twice_changes_nothing(sent: str) -> None:
    for normalise in (text.title, text.tag, text.description, text.search_text):
        once = normalise(sent)
        assert normalise(once) == once
        assert unicodedata.is_normalized("NFC", once)


@given(texts)
def test_a_title_starts_and_ends_with_something_that_shows(sent: str) -> None:
    stored = text.title(sent)
    if stored:
        assert stored[0] not in text.INVISIBLE
        assert stored[-1] not in text.INVISIBLE or stored[-1] in text.MODIFIERS
        # The schema's pattern accepts what has something that shows, and no NUL anywhere.
        assert (re.fullmatch(TITLE_PATTERN, sent) is None) == ("\x00" in sent)
    else:
        assert not text.shows(unicodedata.normalize("NFC", sent))
        assert re.fullmatch(TITLE_PATTERN, sent) is None
