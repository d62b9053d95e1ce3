"""Who is signed in, decided on the server for every event.

* ``await current_actor(state)`` — the ``Actor`` for this event, or None. It reads the connection's
  Cookie header (``state.router.headers.cookie``; on the live websocket the token arrives as a
  server-made credential, see ``api.auth.websocket_cookie``), checks the server-side session
  (revoked, idle and absolute timeouts, MFA enrolment) off the event loop, and returns None unless
  the session is fully valid.
* ``SessionState.require("doctor")`` — the page guard for ``on_load``: signed-out visitors go to
  /login, timed-out ones see a notice there, other roles see "Not permitted" (``SessionState.guard``).
* ``SessionState.sign_out`` — clears UI state and posts the sign-out form (full page load).

A data handler does not call these itself: ``state.calls.attempt`` resolves the actor (with
``allow_enrol=True`` for the own account's security handlers) and answers a gone session with
``signed_out()``, the sign-in redirect.
"""

from __future__ import annotations

from contextvars import ContextVar

import reflex as rx

from patient_portal.components.navigation import hidden_links
from patient_portal.core.access import Actor
from patient_portal.core.db import off_loop
from patient_portal.domain.identity import sessions
from patient_portal.domain.training import service as training

SIGN_OUT_FORM_ID = "portal-sign-out"
NOTICE_ENDED = "ended"
ANY_ROLE = "any"
ROLES = ("admin", "doctor", "staff", "patient")
HOMES = {"admin": "/admin", "doctor": "/doctor", "staff": "/staff", "patient": "/patient"}
#: Where an account with documents to acknowledge is sent from every other page (the guard).
TRAINING_PATH = "/account/training"


def _client_ip(state: rx.State) -> str | None:
    try:
        return state.router.session.client_ip or None
    except AttributeError:
        return None


def _check_sync(cookie_header: str, ip: str | None) -> sessions.SessionCheck:
    """The websocket's server-made credential, or (HTTP-side callers, tests) the token itself."""
    try:
        cookies = sessions.parse_cookies(cookie_header)
    except sessions.AmbiguousCookies:
        return sessions.NO_SESSION
    credential = cookies.get(sessions.WS_COOKIE_NAME)
    if credential:
        return sessions.check_ws_credential(credential, ip=ip)
    return sessions.check_session(cookies.get(sessions.COOKIE_NAME), ip=ip)


#: The verdict state.tabs.SessionBinding reached before this event, for the event's first check
#: (so an event costs one session lookup, not two). Keyed by the cookie it was reached for.
_EVENT_CHECK: ContextVar[tuple[str, sessions.SessionCheck] | None] = ContextVar("portal_event_check", default=None)


def _cookie(state: rx.State) -> str:
    try:
        return state.router.headers.cookie or ""
    except AttributeError:
        return ""


def remember_check(state: rx.State, check: sessions.SessionCheck) -> None:
    """Keep this event's verdict for its first session_check (used by the binding middleware)."""
    _EVENT_CHECK.set((_cookie(state), check))


async def session_check(state: rx.State) -> sessions.SessionCheck:
    """The full session verdict for this event's connection (see SessionCheck.status).

    The middleware's verdict is used once, by the first call of the event; later calls (a handler
    that ends a session and looks again) ask the database afresh."""
    cookie = _cookie(state)
    kept = _EVENT_CHECK.get()
    if kept is not None:
        _EVENT_CHECK.set(None)
        if kept[0] == cookie:
            return kept[1]
    if not cookie:
        return sessions.NO_SESSION
    return await off_loop(_check_sync, cookie, _client_ip(state))


async def current_actor(state: rx.State, *, allow_enrol: bool = False) -> Actor | None:
    """The signed-in Actor for this event, or None (signed out, timed out, or MFA enrolment pending).

    ``allow_enrol=True`` also accepts a session that must still enrol in MFA (status ``enrol``): only
    for the own account's security handlers (enrolment, recovery codes, signed-in devices), where
    such a session is sent to finish; every other handler refuses it."""
    check = await session_check(state)
    return check.actor if check.ok or (allow_enrol and check.status == "enrol") else None


def signed_out() -> rx.event.EventSpec:
    """Where a handler sends a browser whose session is gone: sign-in, with a notice."""
    return rx.redirect(f"/login?notice={NOTICE_ENDED}", replace=True)


def _clear_client_state_script() -> str:
    """Forget this tab's Reflex token (so the next page starts with empty state), stop this device's
    push notifications (assets/pwa.js, at most 2 s), then sign out."""
    return ("window.sessionStorage.removeItem('token');"
            "Promise.resolve(window.portalPwa && window.portalPwa.forgetDevice ? window.portalPwa.forgetDevice() : null)"
            f".catch(function () {{}}).then(function () {{ document.getElementById('{SIGN_OUT_FORM_ID}').submit(); }});")


class SessionState(rx.State):
    """Safe facts about the signed-in user for the shell, and the page guard."""

    display_name: str = ""
    role: str = ""
    mfa_enabled: bool = False
    #: "checking" until on_load ran, then "ok" or "denied" (another role's page) ...
    guard: str = "checking"
    #: ... for this page tree (so a page never shows content on the strength of the previous page).
    guard_for: str = ""
    #: The hrefs of this role's links whose page the person's permission set refuses (not shown).
    hidden_links: list[str] = []
    #: The sign-in session this tab's state was filled under (see state/tabs.py); never sent.
    _bound_session: str = ""

    @rx.var
    def home(self) -> str:
        """The signed-in user's home page (or the landing page)."""
        return HOMES.get(self.role, "/")

    def _clear(self) -> None:
        self.display_name = ""
        self.role = ""
        self.mfa_enabled = False
        self.guard = "checking"
        self.guard_for = ""
        self.hidden_links = []

    @rx.event
    async def require(self, role: str = ANY_ROLE):
        """Page guard for on_load: ``on_load=SessionState.require("doctor")`` (or "any", "account").
        Before any page but the own account's, MFA enrolment and then training documents the role
        must acknowledge (TRAINING_PATH) come first."""
        self.guard = "checking"
        self.guard_for = str(role)[:16]
        check = await session_check(self)
        if check.status == "expired":
            self._clear()
            return signed_out()
        if check.actor is None:
            self._clear()
            path = self.router.url.path if self.router.url else ""
            return rx.redirect("/login" + (f"?next={path}" if path.startswith("/") else ""), replace=True)
        actor = check.actor
        self.display_name = actor.display_name
        self.role = actor.role.value
        self.mfa_enabled = check.mfa_enabled
        links = [] if actor.permissions is None else hidden_links(actor.role.value, actor.can)
        if links != self.hidden_links:
            self.hidden_links = links
        if check.status == "enrol" and role != "account":
            self.guard = "checking"
            return rx.redirect("/account/security?required=1", replace=True)
        if role != "account" and await off_loop(training.has_pending, actor):
            self.guard = "checking"
            return rx.redirect(TRAINING_PATH, replace=True)
        permitted = role in (ANY_ROLE, "account") or role == actor.role.value
        self.guard = "ok" if permitted else "denied"
        return None

    def _forget_everything(self) -> None:
        """Reset every app state loaded for this tab to its (data-free) defaults."""
        root = self
        while root.parent_state is not None:
            root = root.parent_state
        todo = list(root.substates.values())
        while todo:
            state = todo.pop()
            todo.extend(state.substates.values())
            if type(state).__module__.startswith("patient_portal"):
                state.reset()

    @rx.event
    def sign_out(self):
        """Forget what this tab shows, then post the sign-out form (the server ends the session)."""
        self._forget_everything()
        self._clear()
        return rx.call_script(_clear_client_state_script())
