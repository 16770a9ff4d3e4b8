r"""Template variables in a request's URL, headers and body.

`{{run_id}}`, `{{schedule_id}}`, `{{scheduled_for}}` (ISO 8601, UTC) and
`{{attempt}}` (1 for the first try) are filled in for every attempt at send
time: URL-encoded in the URL, as they are in headers and body. A request is
checked when it is saved: an unknown name is an error, and so is a variable in
the URL's scheme or host (the SSRF guard must see the real host when saving).
A literal `{{` (a body that is itself a template for the receiver) is written
`\{{` and sent as `{{`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple
from urllib.parse import quote

VARIABLES = ("run_id", "schedule_id", "scheduled_for", "attempt")
# A placeholder is "{{", anything up to the first "}}" after it, and "}}" (so
# "{{a}} and {{b}}" is two; whitespace inside is allowed). An escaped "\{{" is a
# literal "{{". A "{{" with no "}}" after it is no placeholder and stays as is.
ESCAPED_OPEN = "\\{{"
CLOSE = "}}"
# Text up to the next "{{" that is not escaped: escapes, a "{" not followed by
# "{", or any other character; possessive, so one pass over the characters.
_LITERAL_RUN = re.compile(r"(?:\\\{\{|\{(?!\{)|[^{])*+")
LITERAL_OPEN = "{{"
# Stand-ins used to check a templated URL as it will look when sent.
SAMPLE_VALUES = {
    "run_id": "1",
    "schedule_id": "1",
    "scheduled_for": "2026-01-01T00:00:00Z",
    "attempt": "1",
}


class TemplateError(ValueError):
    pass


@dataclass(frozen=True)
class TemplateValues:
    run_id: int
    schedule_id: int
    scheduled_for: datetime
    attempt: int

    def as_strings(self) -> dict[str, str]:
        return {
            "run_id": str(self.run_id),
            "schedule_id": str(self.schedule_id),
            "scheduled_for": format_instant(self.scheduled_for),
            "attempt": str(self.attempt),
        }


def format_instant(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def has_template(text: str | None) -> bool:
    return text is not None and "{{" in text


@dataclass
class ScanWork:
    """Characters the scanner's searches went over: a measure of its cost that
    tests can bound (a few times the text's length, whatever the text)."""

    chars: int = 0


class Piece(NamedTuple):
    """A stretch of text: literal (its escapes to be unescaped) or one placeholder."""

    start: int
    end: int
    name: str | None = None  # a placeholder's text between the braces; None: literal


def scan(text: str, work: ScanWork | None = None) -> Iterator[Piece]:
    """Split `text` into literal runs and placeholders, left to right, in linear time.

    Each search goes forward from where the last one stopped; the one search
    that finds no "}}" ends the scan, as no later "{{" can close either (the
    lazy regex used before (`{{(.*?)}}`) re-read the rest of the text for
    every unclosed "{{": quadratic, seconds for a 24 KiB body).
    """
    work = work if work is not None else ScanWork()
    position = 0
    while position < len(text):
        opener = _LITERAL_RUN.match(text, position).end()
        work.chars += opener - position
        if opener > position:
            yield Piece(position, opener)
        if opener == len(text):
            return
        close = text.find(CLOSE, opener + len(LITERAL_OPEN))
        if close < 0:
            work.chars += len(text) - opener
            yield Piece(opener, len(text))  # unclosed: literal to the end
            return
        position = close + len(CLOSE)
        work.chars += position - opener
        yield Piece(opener, position, text[opener + len(LITERAL_OPEN) : close])


def unescape(literal: str) -> str:
    # Outside placeholders every "\{{" is an escape: two never overlap.
    return literal.replace(ESCAPED_OPEN, LITERAL_OPEN)


def check_template(text: str) -> None:
    """Raise TemplateError naming the first unknown variable."""
    for found in scan(text):
        if found.name is None or found.name.strip() in VARIABLES:
            continue
        whole = text[found.start : found.end]
        shown = whole if len(whole) <= 60 else whole[:57] + "..."
        known = ", ".join(f"{{{{{v}}}}}" for v in VARIABLES)
        raise TemplateError(
            f"unknown template variable {shown}; known: {known} (write \\{{{{ for a literal {{{{)"
        )


def check_url_template(url: str) -> str:
    """Check a templated URL; returns it with sample values filled in (for the URL guard)."""
    check_template(url)
    if _first_marker(url) < _authority_end(url):
        # Escaped or not: the guard checks the host as saved, so braces cannot be there.
        raise TemplateError("template variables may not be used in the URL's scheme or host")
    return render(url, SAMPLE_VALUES, in_url=True)


def _first_marker(url: str) -> int:
    """Where the first placeholder or escaped "{{" starts (len(url) if none)."""
    for piece in scan(url):
        if piece.name is not None:
            return piece.start
        escape = url.find(ESCAPED_OPEN, piece.start, piece.end)
        if escape >= 0:
            return escape
    return len(url)


def _authority_end(url: str) -> int:
    """Index where "scheme://user@host:port" ends: the first / ? or # after "://"."""
    start = url.find("://")
    if start < 0:
        return len(url)  # no authority to speak of: refuse any variable
    for index in range(start + 3, len(url)):
        if url[index] in "/?#":
            return index
    return len(url)


def render(text: str, values: dict[str, str], *, in_url: bool = False) -> str:
    """Fill in known variables; anything else (saved before checks existed) stays as is."""
    if "{{" not in text:
        return text
    return "".join(_rendered(text, piece, values, in_url) for piece in scan(text))


def _rendered(text: str, piece: Piece, values: dict[str, str], in_url: bool) -> str:
    if piece.name is None:
        return unescape(text[piece.start : piece.end])
    name = piece.name.strip()
    if name not in values:
        return text[piece.start : piece.end]
    return quote(values[name], safe="") if in_url else values[name]
