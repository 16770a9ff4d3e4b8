"""The rules account inputs obey (services/accounts/rules.py) and the one name
check every named thing shares (services/fields.check_name)."""

from __future__ import annotations

import pytest

from hookboard.services import InvalidInput
from hookboard.services.accounts import (
    InvalidInputError,
    clean_api_key_name,
    normalise_email,
    validate_email,
    validate_new_password,
)
from hookboard.services.fields import check_name

UNSAFE_IN_NAMES = [
    "line\nbreak",
    "tab\there",
    "bell\x07",
    "c1\x85control",
    "\u202egnp.exe",  # RIGHT-TO-LEFT OVERRIDE
    "isolate\u2067x\u2069",
    "embed\u202ax\u202c",
    "mark\u200fx",  # RIGHT-TO-LEFT MARK
    "para\u2029sep",
]


@pytest.mark.parametrize("name", UNSAFE_IN_NAMES)
def test_it_refuses_control_and_bidi_characters_in_names(name):
    with pytest.raises(InvalidInput) as refused:
        check_name(name)
    assert refused.value.field == "name"
    with pytest.raises(InvalidInputError):
        clean_api_key_name(name)


def test_names_keep_ordinary_unicode():
    for name in ("nightly report", "Zoë's 🔑 hook", "שלום world", "日報", "👩\u200d💻 team"):
        assert check_name(f"  {name} ") == name
        assert clean_api_key_name(name) == name


LOOKALIKES = [
    ("\uff42\uff4f\uff42@example.com", "bob@example.com"),  # fullwidth letters
    ("bob@EXAMPLE.com", "bob@example.com"),
    ("ﬁnance@example.com", "finance@example.com"),  # ligature
    ("bob@exa\u2024mple.com", "bob@exa.mple.com"),  # ONE DOT LEADER
]


@pytest.mark.parametrize(("given", "stored"), LOOKALIKES)
def test_it_folds_lookalike_emails_into_one_form(given, stored):
    assert validate_email(given) == stored
    assert normalise_email(given) == stored


INVISIBLE = ["\u200b", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u202e", "\u3164", "\u180e"]


@pytest.mark.parametrize("char", INVISIBLE)
def test_it_refuses_invisible_characters_in_emails(char):
    for email in (f"bob{char}@example.com", f"bob@exam{char}ple.com"):
        with pytest.raises(InvalidInputError) as refused:
            validate_email(email)
        assert refused.value.field == "email"


WEAK = [
    " " * 8,
    "\u3000" * 10,
    "12345678",
    "123456789",
    "password",
    "Password1",
    "PASSWORD123!",
    "qwertyuiop",
    "iloveyou",
    "aaaaaaaa",
    "abababab",
    "abcabcabcabc",
    "11112222",
    "87654321",
    "abcdefgh",
]


@pytest.mark.parametrize("password", WEAK)
def test_it_refuses_blank_repeated_and_common_passwords(password):
    with pytest.raises(InvalidInputError) as refused:
        validate_new_password(password)
    assert refused.value.field == "password"


def test_ordinary_passwords_pass():
    for password in ("s3cret-pass", "correct horse", "long enough 1", "pässwörd-ünïcode-🔑"):
        assert validate_new_password(password) == password
