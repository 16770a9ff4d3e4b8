"""Field types and base models every request and response body shares.

Requests are strict about shape (unknown fields are a 422 naming them) and
check types and ranges; `hookboard.services` checks the rest (URL
guard, body size, the timing itself, ownership). Responses mask the values of
secret-looking headers (`Authorization`, `X-Api-Key`, ...) as "***"; sending
"***" back in an edit keeps the stored value.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from hookboard import services as service
from hookboard.domain.limits import HTTP_METHODS, MAX_NAME_CHARS, MAX_URL_CHARS
from hookboard.services import MAX_ID, InvalidInput
from hookboard.services.fields import NAME_SCHEMA_PATTERN, ranged, utc_instant


def clean_text(value: str) -> str:
    try:
        return service.check_text(value, "")
    except InvalidInput as error:
        raise ValueError(error.message) from None


_NUMBER = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*")


def iso_instant(value: Any) -> Any:
    """Refuse what pydantic's lax mode would read as Unix time: the schema says date-time."""
    if isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.fullmatch(value)):
        raise ValueError("must be an ISO 8601 date-time such as 2026-01-31T09:00:00Z, not a number")
    return value


def _upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


def _headers(value: dict[str, str]) -> dict[str, str]:
    try:
        return service.check_headers(value)
    except InvalidInput as error:
        raise ValueError(error.message) from None


Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NAME_CHARS),
    AfterValidator(clean_text),
    Field(json_schema_extra={"pattern": NAME_SCHEMA_PATTERN}),
]
# JSON true/false only: lax mode would take 0/1 and "yes" for a boolean.
Flag = StrictBool
Url = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_URL_CHARS),
    AfterValidator(clean_text),
]
Method = Annotated[Literal[HTTP_METHODS], BeforeValidator(_upper)]
Headers = Annotated[dict[str, str], AfterValidator(_headers)]
# Checked by the service (size, NUL), which names the field: errors.field_path drops
# every "body" part of a pydantic location, so "request.body" would read "request".
Body = str
Instant = Annotated[AwareDatetime, BeforeValidator(iso_instant), AfterValidator(utc_instant)]
Timeout = ranged(float, "timeout_seconds")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Patch(Strict):
    """A partial update: a field left out stays as it is (None here). Those in
    NOT_NULL may be left out but not set to null, and the JSON schema says so."""

    NOT_NULL: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="before")
    @classmethod
    def _refuse_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name in cls.NOT_NULL:
            raise ValueError("must not be null")
        return value

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema, handler):
        schema = handler(core_schema)
        properties = handler.resolve_ref_schema(schema)["properties"]
        for name in cls.NOT_NULL:
            _drop_null(properties[name])
        return schema


def _drop_null(prop: dict[str, Any]) -> None:
    kept = [option for option in prop.pop("anyOf", []) if option.get("type") != "null"]
    if len(kept) == 1:
        prop.update(kept[0])
    elif kept:
        prop["anyOf"] = kept
    if prop.get("default", 0) is None:
        del prop["default"]
