"""The one way a state handler calls a service.

``attempt(state, fn, *args, **kwargs)`` resolves the actor on the server, runs ``fn(session, actor,
*args, **kwargs)`` in its own unit of work on the DB thread pool, and turns the error family
(``core.errors``: Invalid, NotFound, Conflict, AccessDenied) into an ``Answer`` the handler shows —
so a handler never catches service errors itself and never forgets one::

    answer = await attempt(self, registration.record_duplicate_decision, decision="open_existing", ...)
    if not answer.ok:
        return answer.show(self)          # message (and field errors), or the sign-in redirect
    return rx.redirect(...)

``run(fn, *args)`` is the bare unit-of-work call, for handlers that already hold the actor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from patient_portal.core.access import AccessDenied
from patient_portal.core.db import off_loop, unit_of_work
from patient_portal.core.errors import Invalid, ServiceError


def _in_transaction(fn, args: tuple, kwargs: dict) -> Any:
    with unit_of_work() as session:
        return fn(session, *args, **kwargs)


async def run(fn, *args: Any, **kwargs: Any) -> Any:
    """``fn(session, *args, **kwargs)`` in its own transaction on the DB thread pool."""
    return await off_loop(_in_transaction, fn, args, kwargs)


@dataclass
class Answer:
    """What a service call came to: ``value`` when ``ok``; else a message safe to show, the field
    errors of an Invalid, and whether the person must sign in (again)."""

    ok: bool
    value: Any = None
    message: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    signed_out: bool = False
    denied: bool = False
    invalid: bool = False
    #: who asked (None when signed out), for a handler that reloads after the call
    actor: Any = None

    def show(self, state: Any, *, message_var: str = "error", errors_var: str | None = None) -> Any:
        """Put the answer where the person is looking (``state.<message_var>``, and the field errors
        in ``state.<errors_var>``); returns the sign-in redirect when the session is gone."""
        from patient_portal.state.session import signed_out

        if self.signed_out:
            return signed_out()
        setattr(state, message_var, self.message)
        if errors_var is not None:
            setattr(state, errors_var, dict(self.errors))
        return None


async def attempt(state: Any, fn, *args: Any, **kwargs: Any) -> Answer:
    """Resolve the actor, call ``fn(session, actor, *args, **kwargs)``, answer (see the module doc)."""
    from patient_portal.state.session import current_actor

    actor = await current_actor(state)
    if actor is None:
        return Answer(False, signed_out=True)
    try:
        return Answer(True, await run(fn, actor, *args, **kwargs), actor=actor)
    except AccessDenied as exc:
        return Answer(False, message=str(exc), signed_out=exc.must_sign_in, denied=True, actor=actor)
    except Invalid as exc:
        first = next(iter(exc.errors.values()), "") if exc.errors else ""
        return Answer(False, message=first or str(exc), errors=exc.errors, invalid=True, actor=actor)
    except ServiceError as exc:
        return Answer(False, message=str(exc), actor=actor)


def first_error_message(errors: dict[str, str]) -> str:
    return "Some fields need attention — see the messages next to them." if errors else ""
