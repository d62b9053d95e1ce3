"""State of the staff review queue (/staff/review, /admin/review): legal-field change requests
and self-registrations waiting for an identity check."""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from patient_portal.core.access import AccessDenied
from patient_portal.domain.patients import review
from patient_portal.domain.patients.common import PatientNotFound
from patient_portal.domain.patients.validation import ValidationFailed
from patient_portal.state.patient_services import run
from patient_portal.state.session import current_actor, signed_out


@dataclass
class ChangeLine:
    field: str
    before: str
    after: str


@dataclass
class ChangeItem:
    id: str
    patient_id: str
    patient: str
    mrn: str
    note: str
    requested: str
    changes: list[ChangeLine]


@dataclass
class Match:
    id: str
    name: str
    dob_display: str
    mrn: str
    reasons: str


@dataclass
class IdentityItem:
    id: str
    name: str
    dob_display: str
    mrn: str
    matches: list[Match]


def _change_item(d: dict) -> ChangeItem:
    lines = [ChangeLine(c["field"], c["from"], c["to"]) for c in d["changes"]]
    return ChangeItem(d["id"], d["patient_id"], d["patient"], d["mrn"], d["note"], d["requested"], lines)


def _identity_item(d: dict) -> IdentityItem:
    matches = [Match(m.get("id", ""), m["name"], m["dob_display"], m["mrn"], m.get("reasons", ""))
               for m in d["matches"]]
    return IdentityItem(d["id"], d["name"], d["dob_display"], d["mrn"], matches)


class ReviewState(rx.State):
    changes: list[ChangeItem] = []
    identity_checks: list[IdentityItem] = []
    error: str = ""
    loaded: bool = False

    @rx.event
    async def load(self):
        self.changes, self.identity_checks, self.error, self.loaded = [], [], "", False
        actor = await current_actor(self)
        if actor is None:
            return None
        try:
            self.changes = [_change_item(d) for d in await run(review.list_change_requests, actor)]
            self.identity_checks = [_identity_item(d) for d in await run(review.list_identity_checks, actor)]
        except AccessDenied as exc:
            self.error = str(exc)
        self.loaded = True
        return None

    async def _act(self, fn, *args, done: str, **kwargs):
        actor = await current_actor(self)
        if actor is None:
            self.changes, self.identity_checks = [], []
            yield signed_out()
            return
        try:
            await run(fn, actor, *args, **kwargs)
        except ValidationFailed as exc:
            self.error = next(iter(exc.errors.values()))
            return
        except (AccessDenied, PatientNotFound) as exc:
            self.error = str(exc)
            return
        self.error = ""
        yield ReviewState.load
        yield rx.toast.success(done)

    @rx.event
    async def approve(self, request_id: str):
        async for event in self._act(review.decide_change_request, request_id, approve=True,
                                     done="Change approved and applied to the record"):
            yield event

    @rx.event
    async def reject(self, request_id: str):
        async for event in self._act(review.decide_change_request, request_id, approve=False,
                                     done="Change request rejected"):
            yield event

    @rx.event
    async def link(self, patient_id: str, existing_id: str):
        async for event in self._act(review.verify_identity, patient_id, link_to=existing_id,
                                     done="Account linked to the existing record"):
            yield event

    @rx.event
    async def accept_new(self, patient_id: str):
        async for event in self._act(review.verify_identity, patient_id, done="Identity verified; new record active"):
            yield event
