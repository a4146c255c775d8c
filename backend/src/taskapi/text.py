"""How text a client sends is normalised before it is checked and stored: one rule per field.

Limits (length, blankness, NUL) are checked on the value these return, which is the value
stored and the value searched for, never on what was sent.

- Title: Unicode NFC, then trimmed of invisible characters at both ends; blank (empty) unless
  something shows: a character neither invisible nor a combining mark (a lone U+0300 or U+20DD
  is drawn on a dotted circle at best, a stray accent on nothing).
- Tag: as a title, then lower-cased (Unicode full lowercase mapping, `str.lower`), then NFC again.
- Description and search text (`q`): NFC only; spacing and line breaks are kept as sent.

No field may hold a code point that is unassigned (general category Cn, noncharacters included)
in the Unicode version of Python's `unicodedata` (`UNICODE_VERSION`, 14.0.0 on Python 3.11):
what it will be is unknown, so whether it shows, or how it composes, cannot be checked. A
character assigned in a later version is refused until the server runs a newer Python.

NFC (UAX #15) makes the two spellings of "é" (one code point, or "e" and a combining accent) one
string, so that they are one tag, count as one character, and find each other in a search.

Lower-case rather than case-fold (`str.casefold`): tags are shown back to people, and folding is
meant for comparing, not showing: it rewrites "straße" to "strasse" and a final sigma (U+03C2)
to a medial one. Lowering can lengthen a tag (U+0130, a capital I with a dot, becomes "i" and
U+0307), so the 30-character limit is checked afterwards: 30 of U+0130 make 60 characters once
lowered, and are refused.
"""

from __future__ import annotations

import sys
import unicodedata

Ranges = list[tuple[int, int]]  # first and last code point of each, inclusive


def _characters(ranges: Ranges) -> str:
    return "".join(chr(point) for low, high in ranges for point in range(low, high + 1))


# Unicode White_Space (PropList.txt): what pydantic-core's and JavaScript's trim remove.
WHITE_SPACE_RANGES: Ranges = [
    (0x0009, 0x000D),  # tab, line feed, vertical tab, form feed, carriage return
    (0x0020, 0x0020),  # space
    (0x0085, 0x0085),  # next line
    (0x00A0, 0x00A0),  # no-break space
    (0x1680, 0x1680),  # ogham space mark
    (0x2000, 0x200A),  # en quad .. hair space
    (0x2028, 0x2029),  # line and paragraph separators
    (0x202F, 0x202F),  # narrow no-break space
    (0x205F, 0x205F),  # medium mathematical space
    (0x3000, 0x3000),  # ideographic space
]
# Default_Ignorable_Code_Point (DerivedCoreProperties.txt, Unicode 15.1): what a renderer draws
# as nothing when it does not support it (The Unicode Standard, section 5.21). Reserved code
# points in these ranges are included: Unicode keeps them for more of the same.
DEFAULT_IGNORABLE_RANGES: Ranges = [
    (0x00AD, 0x00AD),  # soft hyphen
    (0x034F, 0x034F),  # combining grapheme joiner
    (0x061C, 0x061C),  # Arabic letter mark
    (0x115F, 0x1160),  # Hangul choseong and jungseong fillers
    (0x17B4, 0x17B5),  # Khmer inherent vowels
    (0x180B, 0x180F),  # Mongolian variation selectors and vowel separator
    (0x200B, 0x200F),  # zero-width space, non-joiner, joiner; left-to-right, right-to-left marks
    (0x202A, 0x202E),  # bidi embeddings and overrides
    (0x2060, 0x206F),  # word joiner, invisible operators, bidi isolates, deprecated formats
    (0x3164, 0x3164),  # Hangul filler
    (0xFE00, 0xFE0F),  # variation selectors 1-16
    (0xFEFF, 0xFEFF),  # zero-width no-break space (byte-order mark)
    (0xFFA0, 0xFFA0),  # halfwidth Hangul filler
    (0xFFF0, 0xFFF8),  # reserved
    (0x1BCA0, 0x1BCA3),  # shorthand format controls
    (0x1D173, 0x1D17A),  # musical symbol format controls
    (0xE0000, 0xE0FFF),  # language tag, tag characters, variation selectors 17-256, reserved
]
# Assigned characters, not controls or formats, that are drawn as nothing: Unicode calls them
# blanks or fillers, and they were used as "empty" titles (the Hangul fillers above are of the
# same kind, and Default_Ignorable already).
BLANK_SYMBOL_RANGES: Ranges = [
    (0x2800, 0x2800),  # Braille pattern blank
    (0xFFFC, 0xFFFC),  # object replacement character (a stand-in for nothing here)
    (0x16FE4, 0x16FE4),  # Khitan small script filler
    (0x1D159, 0x1D159),  # musical symbol null notehead
]
# Controls (Cc) and format characters (Cf) not listed above. Not the prepended concatenation
# marks (U+0600..U+0605, U+06DD, U+070F, U+0890..U+0891, U+08E2, U+110BD, U+110CD): they are
# drawn, as a sign spanning the digits after them. Not NUL either: it is refused wherever it
# is, never trimmed away. A test checks this list against unicodedata.
OTHER_CONTROLS_AND_FORMATS_RANGES: Ranges = [
    (0x0001, 0x0008),
    (0x000E, 0x001F),
    (0x007F, 0x0084),
    (0x0086, 0x009F),
    (0xFFF9, 0xFFFB),  # interlinear annotation controls
    (0x13430, 0x1343F),  # Egyptian hieroglyph format controls
]
# Characters that show nothing: a title made only of these is blank.
INVISIBLE_RANGES = [
    *WHITE_SPACE_RANGES,
    *DEFAULT_IGNORABLE_RANGES,
    *BLANK_SYMBOL_RANGES,
    *OTHER_CONTROLS_AND_FORMATS_RANGES,
]
INVISIBLE = _characters(INVISIBLE_RANGES)

UNICODE_VERSION = unicodedata.unidata_version


def _ranges_of(categories: set[str]) -> Ranges:
    """The code points of these general categories (in `UNICODE_VERSION`), as ranges."""
    ranges: Ranges = []
    for point in range(sys.maxunicode + 1):
        if unicodedata.category(chr(point)) in categories:
            if ranges and ranges[-1][1] == point - 1:
                ranges[-1] = (ranges[-1][0], point)
            else:
                ranges.append((point, point))
    return ranges


# Combining marks (Mn, Mc, Me): drawn on the character before them, so never alone a title.
MARK_RANGES = _ranges_of({"Mn", "Mc", "Me"})
_MARKS = frozenset(_characters(MARK_RANGES))
_INVISIBLE_SET = frozenset(INVISIBLE)

# Variation selectors and emoji tag characters change how the character before them is drawn
# (a heart and U+FE0F is the red emoji heart; a flag of Scotland ends in tag characters), so a
# text keeps them at its end. At its start they modify nothing, and go.
MODIFIERS = _characters(
    [(0x180B, 0x180D), (0x180F, 0x180F), (0xFE00, 0xFE0F), (0xE0020, 0xE007F), (0xE0100, 0xE01EF)]
)
_INVISIBLE_AT_THE_END = "".join(sorted(set(INVISIBLE) - set(MODIFIERS)))


def regex_class(ranges: Ranges) -> str:
    """The inside of a regex character class (no brackets) holding these ranges, read alike by
    Python's `re` and ECMAScript, the dialect of JSON Schema patterns (ECMA-262 §22.2): code
    points of the BMP as \\uXXXX escapes, others as themselves (the escape for those differs)."""

    def one(point: int) -> str:
        return f"\\u{point:04X}" if point <= 0xFFFF else chr(point)

    return "".join(one(low) if low == high else f"{one(low)}-{one(high)}" for low, high in ranges)


def trim(text: str) -> str:
    """`text` without the invisible characters at its ends; empty if it showed nothing."""
    return text.lstrip(INVISIBLE).rstrip(_INVISIBLE_AT_THE_END)


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def shows(text: str) -> bool:
    """Whether `text` has a character neither invisible nor a combining mark."""
    return any(c not in _INVISIBLE_SET and c not in _MARKS for c in text)


def unassigned(text: str) -> str | None:
    """The first code point of `text` unassigned in `UNICODE_VERSION` (category Cn), if any."""
    return next((c for c in text if unicodedata.category(c) == "Cn"), None)


def title(text: str) -> str:
    """NFC, then trimmed. Blank (nothing shows: `shows`) comes back empty."""
    trimmed = trim(nfc(text))
    return trimmed if shows(trimmed) else ""


def tag(text: str) -> str:
    """A title's normalisation, lower-cased and composed again (lowering "İ" leaves a
    combining dot that NFC must see in place)."""
    return nfc(title(text).lower())


description = nfc
search_text = nfc
