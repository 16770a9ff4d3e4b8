"""Whitespace as regex character-class ranges, spelled out.

A schema pattern written with `\\s` means ECMAScript's whitespace to clients and
Python's to a fuzzer, and neither is exactly what the server strips. These
name the server's own sets, so a pattern in the OpenAPI schema and the check
behind it agree on every character.
"""

# str.isspace(): what str.strip() removes (\x1c-\x1f included).
PYTHON_SPACE = r"\x09-\x0d\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# Unicode White_Space: what pydantic's strip_whitespace removes (\x1c-\x1f not).
UNICODE_SPACE = r"\x09-\x0d\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
