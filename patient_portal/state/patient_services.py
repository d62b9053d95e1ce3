"""Moved to ``state.calls`` (the one way a handler calls a service); kept for the states not yet
converted to ``attempt``."""

from patient_portal.state.calls import first_error_message, run

__all__ = ["first_error_message", "run"]
