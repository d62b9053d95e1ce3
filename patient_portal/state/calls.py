"""The one way a state handler calls a service.

``attempt(state, fn, *args, **kwargs)`` resolves the actor on the server, runs ``fn(session, actor,
*args, **kwargs)`` in its own unit of work on the DB thread pool, and turns the error family
(``core.errors``: Invalid, NotFound, Conflict, AccessDenied) into an ``Answer`` the handler shows —
so a handler never catches service errors itself and never forgets one::

    answer = await attempt(self, registration.record_duplicate_decision, decision="open_existing", ...)
    if not answer.ok:
        return answer.show(self)          # message (and field errors), or the sign-in redirect
    return rx.redirect(...)

Three keywords of ``attempt`` (never passed on to ``fn``) cover the handlers that differ:

* ``allow_enrol=True`` — also act for a session that must still enrol in MFA (the own account's
  security handlers: that is the one place such a session is sent to);
* ``anonymous=True`` — a pre-sign-in flow (sign-up, forgotten password): no actor is resolved or
  passed, ``fn(session, *args, **kwargs)``;
* ``own_units=True`` — ``fn`` opens its own units of work (slow Argon2 between them) and is called
  without a session, off the loop: ``fn(actor, *args, **kwargs)`` (or ``fn(*args, **kwargs)``).

``Answer.error`` keeps the exception, for a handler that tells its kinds apart (a used reset link).

``run(fn, *args)`` is the bare unit-of-work call, for handlers that already hold the actor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from patient_portal.core.access import AccessDenied
from patient_portal.core.db import off_loop, transact
from patient_portal.core.errors import Invalid, ServiceError


async def run(fn, *args: Any, **kwargs: Any) -> Any:
    """``fn(session, *args, **kwargs)`` in its own transaction on the DB thread pool."""
    return await off_loop(transact, fn, *args, **kwargs)


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
    #: the service's error itself (None when ok or signed out), for a subclass's own attributes
    error: ServiceError | None = None

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

    def show_page(self, state: Any, *, status_var: str = "status", message_var: str = "error") -> Any:
        """A page's load that did not go through: the page says "Not permitted" when refused (else
        shows the message), or waits on "loading" while the sign-in redirect goes out."""
        if self.signed_out:
            setattr(state, status_var, "loading")
        else:
            setattr(state, status_var, "denied" if self.denied else "ok")
        return self.show(state, message_var=message_var)


async def attempt(state: Any, fn, *args: Any, allow_enrol: bool = False, anonymous: bool = False,
                  own_units: bool = False, **kwargs: Any) -> Answer:
    """Resolve the actor, call ``fn(session, actor, *args, **kwargs)``, answer (see the module doc)."""
    from patient_portal.state.session import current_actor

    actor = None
    if not anonymous:
        actor = await current_actor(state, allow_enrol=allow_enrol)
        if actor is None:
            return Answer(False, signed_out=True)
        args = (actor, *args)
    try:
        value = await (off_loop(fn, *args, **kwargs) if own_units else run(fn, *args, **kwargs))
    except ServiceError as exc:
        return _answer(exc, actor)
    return Answer(True, value, actor=actor)


def _answer(exc: ServiceError, actor: Any) -> Answer:
    """The error family as the UI's answer; any error whose ``must_sign_in`` is true (a refusal that
    says "sign in", a lockout that ended the session) answers with the sign-in page."""
    gone = bool(getattr(exc, "must_sign_in", False))
    if isinstance(exc, AccessDenied):
        return Answer(False, message=str(exc), signed_out=gone, denied=True, actor=actor, error=exc)
    if isinstance(exc, Invalid):
        first = next(iter(exc.errors.values()), "") if exc.errors else ""
        return Answer(False, message=first or str(exc), errors=exc.errors, signed_out=gone, invalid=True,
                      actor=actor, error=exc)
    return Answer(False, message=str(exc), signed_out=gone, actor=actor, error=exc)


def show_read_failure(state: Any, answer: Answer, *, loading: bool = True) -> Any:
    """A page's read that did not work, nothing of it kept (``state._clear()``): the sign-in redirect
    (``state.status`` back to "loading" unless `loading` is false), else "denied" or "missing"."""
    state._clear()
    if answer.signed_out:
        if loading:
            state.status = "loading"
        return answer.show(state)
    state.status = "denied" if answer.denied else "missing"
    return None


def show_kept_failure(state: Any, answer: Answer) -> Any:
    """A call that did not work on a page that keeps what it shows: the sign-in redirect; before the
    page has loaded (``state.status`` not "ok"), "denied" or "missing"; after, the message in
    ``state.error``."""
    if answer.signed_out:
        return answer.show(state)
    if state.status != "ok":
        state.status = "denied" if answer.denied else "missing"
        return None
    state.error = answer.message
    return None


def first_error_message(errors: dict[str, str]) -> str:
    return "Some fields need attention — see the messages next to them." if errors else ""
