"""The `Allow` header of a 405: every method of the resource, not of one route.

Starlette answers a 405 with the methods of the first route whose path matched,
but `GET /schedules` and `POST /schedules` are two routes, so `PUT /schedules`
advertised GET alone. Here the app's OpenAPI paths decide. Where several
templates match, the most specific wins: `/schedules/preview` (POST) over
`/schedules/{schedule_id}`, so `GET /schedules/preview` is a 405 too, not the
422 on the id that routing alone would give.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi import FastAPI

_PARAMETER = re.compile(r"\{[^}/]+\}")
_HTTP_METHODS = ("GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE")


@dataclass(frozen=True)
class _Resource:
    pattern: re.Pattern[str]
    literal_segments: int
    methods: tuple[str, ...]


def _resource(path: str, operations: dict) -> _Resource:
    parts = _PARAMETER.split(path)
    pattern = "[^/]+".join(re.escape(part) for part in parts)
    segments = [segment for segment in path.split("/") if segment]
    literal = sum(1 for segment in segments if not _PARAMETER.fullmatch(segment))
    methods = [method.upper() for method in operations if method.upper() in _HTTP_METHODS]
    if "GET" in methods and "HEAD" not in methods:
        methods.append("HEAD")  # Starlette answers HEAD wherever it answers GET
    return _Resource(re.compile(pattern), literal, tuple(methods))


class AllowedMethods:
    """Built from the schema on first use (after every route is included)."""

    def __init__(self, app: FastAPI):
        self._app = app
        self._resources: list[_Resource] | None = None

    def methods(self, path: str) -> set[str] | None:
        """The methods of the most specific resource at `path`; None if unknown."""
        if self._resources is None:
            paths = self._app.openapi().get("paths", {})
            self._resources = [_resource(path, ops) for path, ops in paths.items()]
        matching = [r for r in self._resources if r.pattern.fullmatch(path)]
        if not matching:
            return None
        specific = max(resource.literal_segments for resource in matching)
        return {m for r in matching if r.literal_segments == specific for m in r.methods}

    def header(self, path: str) -> str | None:
        methods = self.methods(path)
        return ", ".join(sorted(methods)) if methods else None
