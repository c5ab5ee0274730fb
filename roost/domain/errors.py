"""Errors the domain and services raise; each web layer turns them into its own responses."""

from __future__ import annotations


class RoostError(Exception):
    """Base of errors a client caused and can be told about."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Invalid(RoostError):
    """A value broke a rule (Mastodon answers 422)."""

    status = 422

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field.replace('_', ' ').capitalize()} {problem}")
        self.field = field


class NotFound(RoostError):
    status = 404

    def __init__(self, what: str = "Record") -> None:
        super().__init__(f"{what} not found")


class Forbidden(RoostError):
    status = 403


class Conflict(RoostError):
    status = 422


class Busy(RoostError):
    """The server cannot take this now (too many expensive requests at once): retry soon."""

    status = 503
