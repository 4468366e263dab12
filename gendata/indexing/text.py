"""Service layer: how prompts are cut into words, shared by the indexer and the query parser.

Prompts are indexed by SQLite's FTS5 `unicode61` tokenizer: a word is a run of letters,
digits and private-use characters, case-folded, with the diacritics of Latin letters removed
(`remove_diacritics 2`). That works for every script that puts spaces between words. Chinese
and Japanese do not, and Korean glues particles to its words (고양이가 is "cat" plus a
subject marker), so for those scripts a whole run is one useless token. Text in them is
therefore indexed a second time with every such character made a word of its own; a query
word in those scripts becomes the phrase of its characters, which finds it wherever its
characters stand in that order.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["FTS_TOKENIZE", "fold", "has_split_script", "split_script", "words"]

# The tokenizer of both FTS tables (docs/index.md).
FTS_TOKENIZE = "unicode61 remove_diacritics 2"

# Scripts written without spaces between words (or, for Hangul, with particles attached):
# Han (with its extensions and compatibility forms), kana, Bopomofo, Hangul, and the
# scripts of South-East Asia.
_SPLIT_RANGES = (
    "\u0e00-\u0eff"      # Thai, Lao
    "\u1000-\u109f"      # Myanmar
    "\u1100-\u11ff"      # Hangul Jamo
    "\u1780-\u17ff"      # Khmer
    "\u2e80-\u2fdf"      # CJK radicals, Kangxi radicals
    "\u3005-\u3007"      # 々 〆 〇
    "\u3021-\u3029"      # Hangzhou numerals
    "\u3031-\u3035"      # kana repeat marks
    "\u3040-\u30ff"      # Hiragana, Katakana
    "\u3100-\u312f"      # Bopomofo
    "\u3130-\u318f"      # Hangul compatibility Jamo
    "\u31a0-\u31bf"      # Bopomofo extended
    "\u31f0-\u31ff"      # Katakana phonetic extensions
    "\u3400-\u4dbf"      # CJK extension A
    "\u4e00-\u9fff"      # CJK unified ideographs
    "\ua960-\ua97f"      # Hangul Jamo extended A
    "\uac00-\ud7ff"      # Hangul syllables, Jamo extended B
    "\uf900-\ufaff"      # CJK compatibility ideographs
    "\uff66-\uffdc"      # half-width Katakana and Hangul
    "\U00020000-\U0003134f"  # CJK extensions B-G, compatibility supplement
)
_SPLIT = re.compile(f"[{_SPLIT_RANGES}]")


def has_split_script(text: str) -> bool:
    """Whether `text` holds a character of a script indexed character by character."""
    return _SPLIT.search(text) is not None


def split_script(text: str) -> str:
    """`text` with a space on each side of every character of those scripts, so that
    unicode61 makes each of them a word."""
    return _SPLIT.sub(r" \g<0> ", text)


def _is_token_char(ch: str) -> bool:
    # Combining diacritical marks belong to the word they follow, and are then dropped.
    cat = unicodedata.category(ch)
    return cat[0] in "LN" or cat == "Co" or "\u0300" <= ch <= "\u036f"


def fold(word: str) -> str:
    """A word as unicode61 stores it: lower case, Latin letters without their diacritics.

    Only the query parser's validation and the tests' reference matcher use this; SQLite
    folds the indexed text itself.
    """
    out = []
    for ch in word:
        if "\u0300" <= ch <= "\u036f":
            continue
        low = ch.lower()
        if ch > "\x7f" and unicodedata.name(ch, "").startswith("LATIN"):
            low = "".join(c for c in unicodedata.normalize("NFD", low)
                          if not unicodedata.combining(c))
        out.append(low)
    return "".join(out)


def words(text: str) -> list[str]:
    """The words unicode61 finds in `text` (folded): runs of letters, digits and
    private-use characters."""
    out: list[str] = []
    current: list[str] = []
    for ch in text:
        if _is_token_char(ch):
            current.append(ch)
        elif current:
            out.append(fold("".join(current)))
            current = []
    if current:
        out.append(fold("".join(current)))
    return out
