"""Content negotiation: pick one of our media types from an ``Accept`` header (RFC 9110 §12.5.1).

>>> negotiate("text/turtle;q=0.5, application/ld+json", ["text/turtle", "application/ld+json"])
'application/ld+json'
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import NamedTuple

from sparql_api.errors import BadRequest, NotAcceptable

_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_RANGE = re.compile(rf"^\s*({_TOKEN}|\*)/({_TOKEN}|\*)\s*$")
_QVALUE = re.compile(r"^(0(\.\d{0,3})?|1(\.0{0,3})?)\Z")


class MediaRange(NamedTuple):
    """One entry of an Accept header."""

    type: str
    subtype: str
    q: float

    def specificity(self, offer: str) -> int:
        """How closely this range matches ``offer``: 3 exact, 2 ``type/*``, 1 ``*/*``, 0 not at all."""
        offer_type, _, offer_subtype = offer.partition("/")
        if self.type == "*":
            return 1 if self.subtype == "*" else 0
        if self.type != offer_type:
            return 0
        if self.subtype == "*":
            return 2
        return 3 if self.subtype == offer_subtype else 0


def parse_accept(accept: str | None) -> list[MediaRange]:
    """The media ranges of an Accept header; malformed entries are skipped.

    >>> parse_accept("text/html;level=1;q=0.7, */*;q=0.1")
    [MediaRange(type='text', subtype='html', q=0.7), MediaRange(type='*', subtype='*', q=0.1)]
    >>> parse_accept("text/turtle;q=abc, application/json")
    [MediaRange(type='application', subtype='json', q=1.0)]
    >>> parse_accept("*/turtle, nonsense, ")
    []
    """
    ranges: list[MediaRange] = []
    for entry in (accept or "").split(","):
        media, *params = entry.split(";")
        match = _RANGE.match(media)
        if not match:
            continue
        type_, subtype = match.group(1).lower(), match.group(2).lower()
        if type_ == "*" and subtype != "*":
            continue
        q = 1.0
        valid = True
        for param in params:
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                value = value.strip()
                if not _QVALUE.match(value):
                    valid = False
                q = float(value) if valid else 0.0
                break  # parameters after q are accept-extensions, not part of the range
        if valid:
            ranges.append(MediaRange(type_, subtype, q))
    return ranges


def quality(ranges: list[MediaRange], offer: str) -> float:
    """The q-value the client gives ``offer``: the one of the most specific range that matches it."""
    best, q = 0, 0.0
    for media_range in ranges:
        specificity = media_range.specificity(offer)
        if specificity > best:
            best, q = specificity, media_range.q
    return q


def negotiate(accept: str | None, offers: list[str]) -> str:
    """The offer the client prefers most; ties go to the earlier offer (our preference).

    An absent, empty or entirely malformed header accepts anything, so the first offer wins.
    ``q=0`` excludes a type; NotAcceptable when nothing is left.

    >>> offers = ["application/sparql-results+json", "application/sparql-results+xml", "text/csv"]
    >>> negotiate(None, offers)
    'application/sparql-results+json'
    >>> negotiate("*/*", offers)
    'application/sparql-results+json'
    >>> negotiate("text/*", offers)
    'text/csv'
    >>> negotiate("application/sparql-results+xml, */*;q=0.1", offers)
    'application/sparql-results+xml'
    >>> negotiate("*/*;q=0.5, application/sparql-results+json;q=0", offers)
    'application/sparql-results+xml'
    >>> negotiate("TEXT/CSV; charset=utf-8", offers)
    'text/csv'
    >>> negotiate("garbage;;;, ", offers)
    'application/sparql-results+json'
    >>> negotiate("image/png", offers)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    sparql_api.errors.NotAcceptable: none of image/png is available; this resource is available as ...
    """
    if not offers:
        raise ValueError("nothing to offer")
    ranges = parse_accept(accept)
    if not ranges:
        return offers[0]
    best, best_q = None, 0.0
    for offer in offers:
        q = quality(ranges, offer.lower())
        if q > best_q:
            best, best_q = offer, q
    if best is None:
        asked = ", ".join(f"{r.type}/{r.subtype}" for r in ranges)
        if len(asked) > 200:  # the header is the client's: echo the start of it, not kilobytes
            asked = asked[:200] + " ..."
        raise NotAcceptable(f"none of {asked} is available; this resource is available as {', '.join(offers)}")
    return best


def choose_format(accept: str | None, formats: Mapping[str, str], override: str | None) -> str:
    """The short name of the format to answer with: ``format=`` when given, else the one ``Accept`` prefers.

    >>> formats = {"json": "application/json", "html": "text/html"}
    >>> choose_format("text/html", formats, None), choose_format("text/html", formats, "json")
    ('html', 'json')
    """
    if override is not None:
        if override not in formats:
            raise BadRequest(f"unknown format {override!r}; use one of {', '.join(formats)}")
        return override
    media = negotiate(accept, list(formats.values()))
    return next(name for name, value in formats.items() if value == media)
