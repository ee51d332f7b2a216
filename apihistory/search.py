"""Word search over stored events, fast on a million rows.

Each event stores `search_text`: its words, lower-cased, space-separated, with a space at
both ends, where a word is a whitespace-free value (an IP, a name, an ARN, an error code)
plus the parts of it between punctuation, so "fraud" finds "fraud-detection" and "m5"
finds "ml.m5.large". A query matches events holding every query word as a whole word.

Whole words rather than substrings because PostgreSQL answers "contains these words"
from a GIN index on the word array in milliseconds whatever the words are, while a
substring search (trigrams) degrades to hundreds of milliseconds on the common trigrams
every SageMaker name shares ("end", "poi", "con"…).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.db import connection
from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet
from django.db.models.expressions import RawSQL

MAX_QUERY_WORDS = 8
_PUNCTUATION = re.compile(r"[-./:_@=,;()\[\]{}\"'<>|+*!?#$%&~^`\\]+")
_EDGES = "\"'`,;()[]{}<>"


def _parts(word: str) -> list[str]:
    return [part for part in _PUNCTUATION.split(word) if len(part) >= 2 and part != word]


def search_text_for(values: Iterable[str]) -> str:
    """The stored word list for an event's values (names, IPs, parameters, errors)."""
    words: dict[str, None] = {}
    for value in values:
        for word in str(value).lower().split():
            word = word.strip(_EDGES)
            if not word:
                continue
            words.setdefault(word, None)
            for part in _parts(word):
                words.setdefault(part, None)
    return f" {' '.join(words)} " if words else ""


def query_words(text: str) -> list[str]:
    """The words a query asks for, normalised the way stored words are."""
    words: list[str] = []
    for raw in text.lower().split():
        word = raw.strip(_EDGES)
        if word and word not in words:
            words.append(word)
    return words[:MAX_QUERY_WORDS]


def matching_words(qs: QuerySet, words: list[str]) -> QuerySet:
    """Events whose search_text holds every word.

    On PostgreSQL this is array containment served by the `trail_search_words` GIN index
    (migration 0002); elsewhere (SQLite in development) a LIKE per word, which scans.
    """
    if not words:
        return qs
    if connection.vendor == "postgresql":
        contains = RawSQL("string_to_array(search_text, ' ') @> %s::text[]", (words,))
        return qs.filter(ExpressionWrapper(contains, output_field=BooleanField()))
    condition = Q()
    for word in words:
        condition &= Q(search_text__contains=f" {word} ")
    return qs.filter(condition)
