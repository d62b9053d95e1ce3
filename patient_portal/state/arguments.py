"""Every event's arguments are checked against its handler's signature before the handler runs.

Every public State method is callable from any browser by name, with any JSON as arguments; Reflex
treats type hints as conversion hints and, when conversion fails, hands the raw value over anyway.
So one check, here, for every handler: the payload must name exactly the handler's parameters and
each value must be of its annotated type (``str``, ``int``, ``bool``, ``dict[str, int]`` …, checked
inside containers too; a bare ``dict`` is a form, so its values must be text). Anything else is refused with a plain message and never reaches the handler.
Reflex's generic ``setvar`` (set any var to any value) is refused outright: the app never uses it.

``ArgumentCheck`` is the Reflex middleware; ``check_payload`` is the rule, for tests too.
"""

from __future__ import annotations

import inspect
import logging
import re
import types
import typing
from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

import reflex as rx
from reflex.middleware import Middleware
from reflex.state import BaseState, StateUpdate
from reflex_base.event import Event, EventHandler
from reflex_base.registry import RegistrationContext
from reflex_base.utils.form import FORM_DATA_ENTRIES_KEY, form_data_as_dict

if TYPE_CHECKING:
    from reflex.app import App

log = logging.getLogger(__name__)

REFUSED_MESSAGE = "That request could not be handled. Reload the page and try again."
#: Longest text one argument may carry (a free-text note is far shorter; uploads do not come this way).
MAX_TEXT = 20_000
MAX_ITEMS = 500
MAX_INT = 2**31 - 1
_INT = re.compile(r"-?\d{1,15}")
_FLOAT = re.compile(r"-?\d{1,15}(\.\d{1,15})?")
#: Reflex's own handlers that app pages never call from the browser.
REFUSED_NAMES = frozenset({"setvar"})


def _fits(value: Any, hint: Any, depth: int = 0) -> bool:
    """Is `value` (decoded JSON) acceptable for a parameter annotated `hint`?"""
    if depth > 4:
        return False
    if hint is Any:
        return _plain_json(value, depth)
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_fits(value, arm, depth) for arm in typing.get_args(hint))
    if origin is typing.Literal:
        return value in typing.get_args(hint)
    if hint is type(None):
        return value is None
    if hint is str:
        return isinstance(value, str) and len(value) <= MAX_TEXT
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:  # Reflex turns a digit string into an int for an int parameter
        if isinstance(value, str) and _INT.fullmatch(value) is not None:
            value = int(value)
        # pages, row indexes and versions: a database integer (PostgreSQL refuses more than 32 bits)
        return isinstance(value, int) and not isinstance(value, bool) and -MAX_INT <= value <= MAX_INT
    if hint is float:
        return (isinstance(value, int | float) and not isinstance(value, bool)) or (
            isinstance(value, str) and _FLOAT.fullmatch(value) is not None)
    container = origin or hint
    args = typing.get_args(hint)
    if container is dict:
        if not isinstance(value, dict) or len(value) > MAX_ITEMS:
            return False
        key_hint, value_hint = args or (str, str)  # a bare dict is a form: its fields are text
        return all(_fits(k, key_hint, depth + 1) and _fits(v, value_hint, depth + 1) for k, v in value.items())
    if container is list:
        if not isinstance(value, list) or len(value) > MAX_ITEMS:
            return False
        item_hint = args[0] if args else str
        return all(_fits(v, item_hint, depth + 1) for v in value)
    return False  # a hint this check does not know is refused, so a new kind gets a rule here first


def _plain_json(value: Any, depth: int) -> bool:
    if value is None or isinstance(value, bool | int | float):
        return True
    if isinstance(value, str):
        return len(value) <= MAX_TEXT
    if depth > 4:
        return False
    if isinstance(value, list):
        return len(value) <= MAX_ITEMS and all(_plain_json(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return len(value) <= MAX_ITEMS and all(isinstance(k, str) and _plain_json(v, depth + 1)
                                               for k, v in value.items())
    return False


@cache
def _parameters(fn: Any) -> tuple[tuple[str, Any, bool], ...]:
    """(name, hint, required) for each parameter after self; unannotated ones count as Any."""
    hints = typing.get_type_hints(fn)
    out = []
    for param in list(inspect.signature(fn).parameters.values())[1:]:
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        out.append((param.name, hints.get(param.name, Any), param.default is inspect.Parameter.empty))
    return tuple(out)


def check_payload(handler: EventHandler, payload: Any) -> str | None:
    """None when `payload` fits the handler; else why not (names only, never values: they may be PHI)."""
    if getattr(handler.fn, "__name__", "") in REFUSED_NAMES:
        return "handler not callable from the browser"
    if not isinstance(payload, Mapping):
        return "payload is not an object"
    params = _parameters(handler.fn)
    names = {name for name, _, _ in params}
    extra = sorted(set(payload) - names)
    if extra:
        return f"unknown argument(s) {extra}"
    for name, hint, required in params:
        if name not in payload:
            if required:
                return f"missing argument {name!r}"
            continue
        value = _form_fields(payload[name])
        if not _fits(value, hint):
            return f"argument {name!r} is not {getattr(hint, '__name__', hint)} (got {_shape(value)})"
    return None


def _form_fields(value: Any) -> Any:
    """A submitted form arrives as ``{FORM_DATA_ENTRIES_KEY: [[name, value], ...]}``; Reflex hands the
    handler ``dict(entries)``, so that dict is what is checked (a malformed entry list fails)."""
    entries = value.get(FORM_DATA_ENTRIES_KEY) if isinstance(value, dict) and len(value) == 1 else None
    if entries is None:
        return value
    if not isinstance(entries, list) or len(entries) > MAX_ITEMS or not all(
            isinstance(e, list) and len(e) == 2 and isinstance(e[0], str) for e in entries):
        return None
    return form_data_as_dict(value)


def _shape(value: Any, depth: int = 0) -> str:
    """The value's JSON shape with types only (for the log: the values may be PHI)."""
    if isinstance(value, dict) and depth < 2:
        return "{" + ", ".join(f"{str(k)[:20]!r}: {_shape(v, depth + 1)}" for k, v in list(value.items())[:10]) + "}"
    if isinstance(value, list) and depth < 2:
        return "[" + ", ".join(_shape(v, depth + 1) for v in value[:5]) + "]"
    return type(value).__name__


def _handler_for(event: Event) -> EventHandler | None:
    registered = RegistrationContext.ensure_context().event_handlers.get(event.name)
    return registered.handler if registered is not None else None


class ArgumentCheck(Middleware):
    """Refuse an event whose arguments do not fit its handler (see the module doc)."""

    async def preprocess(self, app: App, state: BaseState, event: Event) -> StateUpdate | None:
        handler = _handler_for(event)
        if handler is None or not handler.fn.__module__.startswith("patient_portal"):
            # Reflex's own handlers (hydrate, on_load_internal, ...) — but never its setvar
            if handler is not None and getattr(handler.fn, "__name__", "") in REFUSED_NAMES:
                return _refusal(event, "handler not callable from the browser")
            return None
        why = check_payload(handler, event.payload)
        return _refusal(event, why) if why else None


def _refusal(event: Event, why: str) -> StateUpdate:
    log.warning("refused event %s: %s", event.name.rsplit(".", 1)[-1][:80], why)
    return StateUpdate(events=Event.from_event_type(rx.toast.error(REFUSED_MESSAGE)))
