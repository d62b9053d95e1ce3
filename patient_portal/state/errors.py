"""What people see, and what the log keeps, when an event handler fails unexpectedly.

Reflex's default shows "Contact the website administrator" and logs the whole exception. Here the
person gets plain words and a short reference, and the log gets the same reference with the stack
but without the exception's message, which may quote patient data (a value that failed to parse,
the parameters of a failed SQL statement).
"""

import logging
import secrets
import traceback

import reflex as rx
from reflex.event import EventSpec

log = logging.getLogger("patient_portal.errors")


def redacted_traceback(exc: BaseException) -> str:
    """The stack of `exc` and of what caused it, each ending in the exception type only."""
    parts, seen = [], set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        parts.append("".join(traceback.format_tb(current.__traceback__)) + type(current).__qualname__)
        current = current.__cause__ or current.__context__
    return "\n-- while handling --\n".join(reversed(parts))


def _keep(reference: str) -> None:
    """Count the reference for /metrics and keep it for the health page, off the event loop (a
    failure to keep it is logged, never shown)."""
    from patient_portal.core import metrics
    from patient_portal.core.db import _pool
    from patient_portal.domain.operations.service import record_error_reference

    metrics.error_reference()

    def write() -> None:
        try:
            record_error_reference(reference)
        except Exception:
            log.warning("error reference %s not kept for the health page", reference)

    try:
        _pool().submit(write)
    except RuntimeError:  # the pool is shutting down
        pass


def on_backend_error(exception: Exception) -> EventSpec:
    """Reflex's backend exception handler (see patient_portal.py)."""
    reference = secrets.token_hex(3).upper()
    log.error("unexpected error %s in an event handler (message withheld, it may hold patient data)\n%s",
              reference, redacted_traceback(exception))
    _keep(reference)
    return rx.toast.error(
        "Something went wrong on our side.",
        description=f"Please try again. If it keeps happening, tell the clinic's administrator and quote "
                    f"reference {reference}.",
        id="backend_error", position="top-center", duration=20000, close_button=True,
    )
