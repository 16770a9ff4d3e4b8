"""The errors every service raises; the API maps each to one HTTP answer."""

from __future__ import annotations


class ServiceError(Exception):
    pass


class InvalidInput(ServiceError):
    def __init__(self, field: str | None, message: str):
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message


class NotFound(ServiceError):
    def __init__(self, what: str):
        super().__init__(f"{what} not found")
        self.what = what


class Conflict(ServiceError):
    def __init__(self, message: str, *, code: str = "conflict", field: str | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field
