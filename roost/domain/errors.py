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
        self.problem = problem

    def __reduce__(self) -> tuple:  # sent back from the picture workers' processes
        return (type(self), (self.field, self.problem))


class ValidationFailed(RoostError):
    """A request that breaks a rule, said in Mastodon's words ("Validation failed: ...")."""

    status = 422

    def __init__(self, problem: str) -> None:
        super().__init__(f"Validation failed: {problem}")


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


class OAuthError(RoostError):
    """An OAuth 2 refusal (RFC 6749 5.2): ``code`` is the ``error`` a client reads, the message
    its ``error_description``."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
