"""How code-table text is normalized, for loading and for searching alike (pure functions).

A concept's words are folded (accents off, lower case) and split at anything that is not a letter or
a digit; a handful of filler words are dropped on both sides, so "fracture of femur" finds what
"fracture femur" finds. Codes are compared as their *key*: lower case, letters and digits only
("E11.9" -> "e119", "8480-6" -> "84806").
"""

from __future__ import annotations

import re
import unicodedata

#: Words too common to search by (dropped from concepts and from queries alike).
STOP_WORDS = frozenset({"a", "an", "and", "as", "at", "by", "for", "in", "of", "on", "or", "the", "to"})
#: Longest token kept (the column is 64 characters; ICD-10-CM's longest word is far shorter).
MAX_TOKEN = 64
_WORD = re.compile(r"[a-z0-9]+")
_CODE_LIKE = re.compile(r"^[a-z0-9][a-z0-9.\-]*$")


def fold(text: str) -> str:
    """Lower case without accents ("Sjögren" -> "sjogren")."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def words(text: str) -> list[str]:
    """The searchable words of `text`, in order, without filler words or repeats."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(fold(text)):
        if word not in STOP_WORDS:
            seen.setdefault(word[:MAX_TOKEN], None)
    return list(seen)


def code_key(code: str) -> str:
    """The form codes are matched in: lower case, letters and digits only."""
    return "".join(_WORD.findall(fold(code)))


def search_text(*parts: str) -> str:
    """The normalized text kept on a concept: its words between spaces, so `LIKE '% diab%'` is a
    word-start match."""
    found: dict[str, None] = {}
    for part in parts:
        for word in words(part):
            found.setdefault(word, None)
    return " " + " ".join(found) + " "


def looks_like_code(query: str) -> str | None:
    """The code key of a query that could be a code (one token with a digit: "E11.9", "8480-6",
    "08"), else None."""
    folded = fold(query).strip()
    if not folded or not _CODE_LIKE.match(folded) or not any(ch.isdigit() for ch in folded):
        return None
    return code_key(folded) or None


def prefix_bounds(prefix: str) -> tuple[str, str | None]:
    """[low, high) of the tokens that start with `prefix`, for a b-tree range (high None: no bound).

    Tokens hold only ``[a-z0-9]``, so the bound steps within that alphabet ("e119" -> "e11a",
    "abz" -> "ac"): a punctuation bound such as "e11:" would sort differently under a language
    collation (PostgreSQL's en_US ignores punctuation), letters and digits sort the same in all."""
    stem = prefix
    while stem:
        last = stem[-1]
        if last == "9":
            return prefix, stem[:-1] + "a"
        if last != "z":
            return prefix, stem[:-1] + chr(ord(last) + 1)
        stem = stem[:-1]
    return prefix, None
