"""The failures of account operations; callers map them to their own answers."""

from __future__ import annotations

from datetime import datetime


class AccountError(Exception):
    pass


class InvalidInputError(AccountError, ValueError):
    """An input breaks a rule; `field` names it. Messages never echo the value."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


class EmailTakenError(AccountError):
    def __init__(self):
        super().__init__("an account with this email already exists")


class InvalidCredentialsError(AccountError):
    def __init__(self):
        # One message for an unknown email and a wrong password.
        super().__init__("invalid email or password")


class ThrottledError(AccountError):
    """Too many attempts; `retry_after` seconds until the next is counted."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(f"{message}; try again in {retry_after} seconds")
        self.retry_after = retry_after


class LoginThrottledError(ThrottledError):
    def __init__(self, retry_after: int):
        super().__init__("too many failed logins", retry_after)


class SignupThrottledError(ThrottledError):
    def __init__(self, retry_after: int):
        super().__init__("too many sign-ups from this address", retry_after)


class NeedsSessionError(AccountError):
    """An action only a signed-in person may take, not an API key."""

    def __init__(self, action: str):
        super().__init__(f"{action} needs a signed-in session, not an API key")


class TotpRequiredError(AccountError):
    """The password is right and the account has two-factor login: a code is due.
    `challenge` (a secret, shown once) goes back with the code to finish the login."""

    def __init__(self, challenge: str, expires_at: datetime):
        super().__init__("a two-factor code is required to finish logging in")
        self.challenge = challenge
        self.expires_at = expires_at


class InvalidChallengeError(AccountError):
    def __init__(self):
        # One message for unknown, expired, used up and already used.
        super().__init__("the login challenge is invalid or expired; log in again")


class InvalidCodeError(InvalidInputError):
    def __init__(self):
        super().__init__("code", "the code is not right, or was already used")


class TwoFactorStateError(AccountError):
    """Two-factor login is not in the state the operation needs (e.g. already on)."""
