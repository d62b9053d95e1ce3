"""Push subscriptions and pushes: the use cases (actor first) and the "push" job.

* ``subscribe`` / ``unsubscribe`` / ``unsubscribe_all`` / ``device_count`` — a patient, for their own
  account only (Action.PUSH_OWN, scope own account: another account's subscription is refused and the
  refusal audited). A device subscribing again (same endpoint) updates its keys; a device another
  account had subscribed passes to the one who subscribed last (a shared phone notifies one person) —
  only when the caller sends that device's auth secret, which only that browser holds.
* ``notify_patient(session, patient_id, kind)`` — called by the messages and appointment-reminder
  code inside their own transaction: queues one "push" job per device of the patient's accounts, so
  a push goes only if the message or reminder was saved, and a failing device retries on its own.
* the "push" job sends through pywebpush (RFC 8291 aes128gcm encryption, RFC 8292 VAPID signature);
  a push service answering 404/410 means the subscription is gone, and it is deleted.

Texts (``TEXTS``) carry nothing clinical: no sender, subject, time, doctor or place.
Endpoints must be https on a known push service (PORTAL_PUSH_HOSTS adds hosts; a loopback host
there may use http — the tests' local push service): the server POSTs to them, so an arbitrary URL
would let anyone make the portal call into the clinic's network.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import logging
import uuid
from typing import Any
from urllib.parse import urlsplit

from sqlmodel import Session, select

from patient_portal.core import audit, jobs
from patient_portal.core.access import Action, Actor, Resource, require
from patient_portal.core.crypto import blind_index
from patient_portal.core.db import read_only, unit_of_work
from patient_portal.core.errors import Invalid
from patient_portal.domain.identity.models import User
from patient_portal.domain.push import vapid
from patient_portal.domain.push.models import PushSubscription
from patient_portal.settings import get_settings

log = logging.getLogger(__name__)

JOB = "push"
MESSAGE, REMINDER = "message", "reminder"
#: kind → (title, body, page the tap opens). Nothing clinical, nothing that names anyone.
TEXTS = {
    MESSAGE: ("Patient Portal", "You have a new message", "/patient/messages"),
    REMINDER: ("Patient Portal", "You have an appointment reminder", "/patient/appointments"),
}
#: the push services of the browsers people use (Chrome/Edge/Opera/Samsung, Firefox, Safari, Windows)
PUSH_SERVICES = ("fcm.googleapis.com", "android.googleapis.com", "push.services.mozilla.com",
                 "push.apple.com", "notify.windows.com")
MAX_ENDPOINT = 2048
INDEX = "push_endpoint"
TIMEOUT = 10.0


def _b64url(value: Any) -> bytes | None:
    if not isinstance(value, str) or not value or len(value) > 200:
        return None
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        return None


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def allowed_endpoint(endpoint: str) -> bool:
    """Is this a push service the portal may POST to? (see the module doc)"""
    parts = urlsplit(endpoint)
    host = (parts.hostname or "").lower()
    if not host or parts.username or parts.password:
        return False
    extra = {h.strip().lower() for h in get_settings().push_hosts.split(",") if h.strip()}
    if host in extra:
        return parts.scheme == "https" or (parts.scheme == "http" and _loopback(host))
    known = any(host == s or host.endswith("." + s) for s in PUSH_SERVICES)
    return known and parts.scheme == "https"


def _check(endpoint: Any, p256dh: Any, auth: Any) -> tuple[str, dict[str, str]]:
    errors = {}
    if not isinstance(endpoint, str) or not endpoint or len(endpoint) > MAX_ENDPOINT or not allowed_endpoint(endpoint):
        errors["endpoint"] = "This browser's push service is not one the portal can send to."
    point, secret = _b64url(p256dh), _b64url(auth)
    if point is None or len(point) != 65 or point[0] != 4:
        errors["p256dh"] = "The browser's push key is not valid."
    if secret is None or len(secret) != 16:
        errors["auth"] = "The browser's push secret is not valid."
    if errors:
        raise Invalid("Notifications could not be turned on for this browser.", errors)
    return endpoint, {"p256dh": p256dh, "auth": auth}


def _own(session: Session, actor: Actor | None, owner: uuid.UUID | None = None, what: str = "push.subscribe") -> Actor:
    require(session, actor, Action.PUSH_OWN, Resource(owner_id=owner), audit_as=what,
            message="Only a patient can turn on notifications, for their own account.")
    assert actor is not None
    return actor


def public_key() -> str:
    """The applicationServerKey browsers subscribe with (no sign-in needed: it is public)."""
    return vapid.application_server_key()


def subscribe(session: Session, actor: Actor | None, *, endpoint: Any, p256dh: Any, auth: Any) -> uuid.UUID:
    """Keep this device's subscription for the actor's account; returns its id."""
    actor = _own(session, actor)
    endpoint, keys = _check(endpoint, p256dh, auth)
    index = blind_index(INDEX, endpoint, normalized=True)
    row = session.exec(select(PushSubscription).where(PushSubscription.endpoint_index == index)).first()
    if row is None:
        row = PushSubscription(user_id=actor.user_id, endpoint=endpoint, keys=keys, endpoint_index=index)
    else:
        if row.user_id != actor.user_id and row.keys.get("auth") != auth:
            # another account's device, and the caller does not hold its secret: not the same browser
            _own(session, actor, row.user_id, "push.subscribe")
        row.user_id, row.endpoint, row.keys = actor.user_id, endpoint, keys
    session.add(row)
    session.flush()
    audit.record(session, actor, "push.subscribe", object_type="push_subscription", object_id=row.id)
    return row.id


def unsubscribe(session: Session, actor: Actor | None, *, endpoint: Any) -> bool:
    """Stop pushes to this device; True if it was subscribed. Another account's device is refused."""
    _own(session, actor, what="push.unsubscribe")
    if not isinstance(endpoint, str) or not endpoint or len(endpoint) > MAX_ENDPOINT:
        raise Invalid("That is not a push subscription.", {"endpoint": "The browser's push address is missing."})
    index = blind_index(INDEX, endpoint, normalized=True)
    row = session.exec(select(PushSubscription).where(PushSubscription.endpoint_index == index)).first()
    if row is None:
        return False
    actor = _own(session, actor, row.user_id, "push.unsubscribe")
    session.delete(row)
    audit.record(session, actor, "push.unsubscribe", object_type="push_subscription", object_id=row.id)
    return True


def unsubscribe_all(session: Session, actor: Actor | None) -> int:
    """Stop pushes to every device of the actor's account (a lost phone); returns how many."""
    actor = _own(session, actor, what="push.unsubscribe")
    rows = session.exec(select(PushSubscription).where(PushSubscription.user_id == actor.user_id)).all()
    for row in rows:
        session.delete(row)
    audit.record(session, actor, "push.unsubscribe_all", detail={"devices": len(rows)})
    return len(rows)


def device_count(session: Session, actor: Actor | None) -> int:
    """How many devices of the actor's account get notifications."""
    actor = _own(session, actor, what="push.read")
    return len(session.exec(select(PushSubscription.id).where(PushSubscription.user_id == actor.user_id)).all())


def notify_patient(session: Session, patient_id: uuid.UUID, kind: str) -> int:
    """Queue a `kind` push to every device of the patient's active accounts (the caller's unit)."""
    if kind not in TEXTS:
        raise ValueError(f"unknown push kind {kind!r}")
    ids = session.exec(select(PushSubscription.id).join(User, User.id == PushSubscription.user_id).where(
        User.patient_id == patient_id, User.role == "patient", User.active == True)).all()  # noqa: E712
    for sub_id in ids:
        jobs.enqueue(session, JOB, {"subscription": str(sub_id), "kind": kind})
    return len(ids)


def payload(kind: str) -> dict[str, str]:
    """What the service worker shows: title, body, the page a tap opens, a tag (one per kind)."""
    title, body, url = TEXTS[kind]
    return {"title": title, "body": body, "url": url, "tag": kind}


def _claims() -> dict[str, str]:
    """VAPID's contact: the public https address, else the sender mailbox (push services want one)."""
    settings = get_settings()
    sub = settings.public_url if settings.public_url.startswith("https://") else f"mailto:{settings.smtp_sender}"
    return {"sub": sub}


@jobs.handler(JOB)
def send(job: dict) -> None:
    """The "push" job: encrypt and POST one push to one device (raising retries it later)."""
    from py_vapid import Vapid02
    from pywebpush import WebPushException, webpush

    with read_only() as session:
        row = session.get(PushSubscription, uuid.UUID(job["subscription"]))
        if row is None:
            return  # unsubscribed since
        info = {"endpoint": row.endpoint, "keys": dict(row.keys)}
    if not allowed_endpoint(info["endpoint"]):
        raise jobs.PermanentFailure("push endpoint no longer allowed")
    try:
        webpush(info, json.dumps(payload(job["kind"])), vapid_private_key=Vapid02(private_key=vapid.private_key()),
                vapid_claims=_claims(), ttl=24 * 3600, timeout=TIMEOUT)
    except WebPushException as exc:
        status = getattr(exc.response, "status_code", None)
        if status in (404, 410):  # the browser dropped it: forget the device
            with unit_of_work() as session:
                gone = session.get(PushSubscription, uuid.UUID(job["subscription"]))
                if gone is not None:
                    session.delete(gone)
            return
        raise RuntimeError(f"push service answered {status}") from None
