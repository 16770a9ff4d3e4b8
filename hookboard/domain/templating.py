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
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

VARIABLES = ("run_id", "schedule_id", "scheduled_for", "attempt")
# Lazy, so "{{a}} and {{b}}" is two placeholders; whitespace inside is allowed.
# An escaped "\{{" matches first and stands for a literal "{{" (group 1 is None).
_PLACEHOLDER = re.compile(r"\\\{\{|\{\{(.*?)\}\}", re.DOTALL)
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


def check_template(text: str) -> None:
    """Raise TemplateError naming the first unknown variable."""
    for match in _PLACEHOLDER.finditer(text):
        if match.group(1) is None:
            continue  # an escaped "{{"
        name = match.group(1).strip()
        if name not in VARIABLES:
            shown = match.group(0) if len(match.group(0)) <= 60 else match.group(0)[:57] + "..."
            known = ", ".join(f"{{{{{v}}}}}" for v in VARIABLES)
            raise TemplateError(
                f"unknown template variable {shown}; known: {known} "
                f"(write \\{{{{ for a literal {{{{)"
            )


def check_url_template(url: str) -> str:
    """Check a templated URL; returns it with sample values filled in (for the URL guard)."""
    check_template(url)
    first = _PLACEHOLDER.search(url)
    if first is not None and first.start() < _authority_end(url):
        # Escaped or not: the guard checks the host as saved, so braces cannot be there.
        raise TemplateError("template variables may not be used in the URL's scheme or host")
    return render(url, SAMPLE_VALUES, in_url=True)


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

    def value(match: re.Match[str]) -> str:
        if match.group(1) is None:
            return LITERAL_OPEN
        name = match.group(1).strip()
        if name not in values:
            return match.group(0)
        return quote(values[name], safe="") if in_url else values[name]

    return _PLACEHOLDER.sub(value, text)
