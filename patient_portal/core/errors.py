"""The one error family every area raises, so the UI and the API answer every area alike.

* ``Invalid`` — the input breaks a rule; ``errors`` maps field names to messages (may be empty when
  the problem is not one field's). UI: the messages next to the fields; API: 422 with ``errors``.
* ``NotFound`` — what was named does not exist (or is not there for this person). 404.
* ``Conflict`` — it changed or is in a state that forbids this (a stale save, already decided). 409.
* ``core.access.AccessDenied`` — the policy said no. 401 when the person must sign in, else 403.

Messages are safe to show: plain words, no ids, no patient data. An area's own errors subclass one
of these (``PatientNotFound(NotFound)``), so a caller may catch either.
"""

from __future__ import annotations


class ServiceError(Exception):
    """Base of the family; ``str(exc)`` is safe to show."""

    status = 400


class Invalid(ServiceError, ValueError):
    """Bad input; ``errors`` maps field names to messages."""

    status = 422

    def __init__(self, message: str = "Some fields need attention.", errors: dict[str, str] | None = None):
        super().__init__(message)
        self.errors: dict[str, str] = dict(errors or {})


class NotFound(ServiceError, LookupError):
    status = 404

    def __init__(self, message: str = "That was not found."):
        super().__init__(message)


class Conflict(ServiceError):
    status = 409

    def __init__(self, message: str = "This was changed by someone else. Reload and try again."):
        super().__init__(message)
