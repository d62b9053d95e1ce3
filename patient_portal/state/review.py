"""State of the staff review queue (/staff/review, /admin/review): legal-field change requests
and self-registrations waiting for an identity check, each list paged on the server (25 a page).

Every handler resolves the actor on the server and calls the review service, which decides: the
ids a handler receives (sign-up, record, proposal) are requests, checked again there.
"""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from patient_portal.domain.patients import service as patients
from patient_portal.state.calls import attempt


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
    has_account: bool = False
    needs_second_person: bool = False


@dataclass
class IdentityItem:
    id: str
    name: str
    dob_display: str
    mrn: str
    matches: list[Match]
    # a link waiting for a second person ("" when none)
    proposal_id: str = ""
    proposal_target: str = ""
    proposal_mrn: str = ""
    proposal_by: str = ""
    proposal_at: str = ""
    proposal_mine: bool = False


def _change_item(d: dict) -> ChangeItem:
    lines = [ChangeLine(c["field"], c["from"], c["to"]) for c in d["changes"]]
    return ChangeItem(d["id"], d["patient_id"], d["patient"], d["mrn"], d["note"], d["requested"], lines)


def _identity_item(d: dict) -> IdentityItem:
    matches = [Match(m.get("id", ""), m["name"], m["dob_display"], m["mrn"], m.get("reasons", ""),
                     bool(m.get("has_account")), bool(m.get("needs_second_person")))
               for m in d["matches"]]
    item = IdentityItem(d["id"], d["name"], d["dob_display"], d["mrn"], matches)
    proposal = d.get("proposal")
    if proposal:
        item.proposal_id, item.proposal_target, item.proposal_mrn = (proposal["id"], proposal["target_name"],
                                                                     proposal["target_mrn"])
        item.proposal_by, item.proposal_at, item.proposal_mine = (proposal["proposed_by"], proposal["proposed_at"],
                                                                  bool(proposal["mine"]))
    return item


def _queues(session, actor, *, identity_page: int | None, changes_page: int | None) -> tuple:
    """The pages of the two queues asked for (None: not that queue), read in one unit."""
    identity = patients.list_identity_checks(session, actor, page=identity_page) if identity_page else None
    changes = patients.list_change_requests(session, actor, page=changes_page) if changes_page else None
    return identity, changes


LINKED = "Account linked to the existing record. The email address on the record was told."
PROPOSED = ("Link proposed. Another staff member or an administrator must confirm it before the account "
            "can see the record.")


class ReviewState(rx.State):
    changes: list[ChangeItem] = []
    identity_checks: list[IdentityItem] = []
    identity_page: int = 1
    identity_pages: int = 1
    identity_total: int = 0
    changes_page: int = 1
    changes_pages: int = 1
    changes_total: int = 0
    error: str = ""
    loaded: bool = False

    def _forget(self) -> None:
        self.changes, self.identity_checks = [], []
        self.identity_total = self.changes_total = 0

    async def _refresh(self, *, identity: bool = True, changes: bool = True):
        """Show the queues' current pages again; the sign-in redirect when the session is gone."""
        answer = await attempt(self, _queues, identity_page=self.identity_page if identity else None,
                               changes_page=self.changes_page if changes else None)
        self.loaded = not answer.signed_out
        if not answer.ok:
            self._forget()
            return answer.show(self)
        found_identity, found_changes = answer.value
        if found_identity is not None:
            self.identity_checks = [_identity_item(d) for d in found_identity]
            self.identity_page, self.identity_pages, self.identity_total = (found_identity.page, found_identity.pages,
                                                                            found_identity.total)
        if found_changes is not None:
            self.changes = [_change_item(d) for d in found_changes]
            self.changes_page, self.changes_pages, self.changes_total = (found_changes.page, found_changes.pages,
                                                                         found_changes.total)
        return None

    @rx.event
    async def load(self):
        """on_load: both queues from their first page (signed out: the page guard redirects)."""
        self._forget()
        self.error, self.loaded = "", False
        self.identity_page = self.changes_page = 1
        await self._refresh()
        return None

    async def _turn(self, which: str, step: int):
        if which == "identity":
            self.identity_page = max(1, self.identity_page + step)
        else:
            self.changes_page = max(1, self.changes_page + step)
        self.error = ""
        return await self._refresh(identity=which == "identity", changes=which == "changes")

    @rx.event
    async def identity_next(self):
        return await self._turn("identity", 1)

    @rx.event
    async def identity_prev(self):
        return await self._turn("identity", -1)

    @rx.event
    async def changes_next(self):
        return await self._turn("changes", 1)

    @rx.event
    async def changes_prev(self):
        return await self._turn("changes", -1)

    async def _act(self, fn, *args, done, **kwargs):
        """Run one review action; `done` is the toast text, or a function of the service's answer."""
        answer = await attempt(self, fn, *args, **kwargs)
        if answer.signed_out:
            self._forget()
            yield answer.show(self)
            return
        if not answer.ok:
            self.error = answer.message
            if answer.invalid:  # someone else may have handled it: show the queue as it is now
                gone = await self._refresh()
                if gone is not None:
                    yield gone
            return
        self.error = ""
        gone = await self._refresh()
        if gone is not None:
            yield gone
            return
        yield rx.toast.success(done(answer.value) if callable(done) else done)

    @rx.event
    async def approve(self, request_id: str):
        async for event in self._act(patients.decide_change_request, request_id, approve=True,
                                     done="Change approved and applied to the record"):
            yield event

    @rx.event
    async def reject(self, request_id: str):
        async for event in self._act(patients.decide_change_request, request_id, approve=False,
                                     done="Change request rejected"):
            yield event

    @rx.event
    async def link(self, patient_id: str, existing_id: str):
        """Link (or, for a record with clinical data, propose linking) after the confirm dialog."""
        async for event in self._act(patients.link_identity, patient_id, link_to=existing_id,
                                     done=lambda answer: LINKED if answer["outcome"] == "linked" else PROPOSED):
            yield event

    @rx.event
    async def confirm_link(self, proposal_id: str):
        """The second person confirms a proposed link (the service refuses the proposer)."""
        async for event in self._act(patients.confirm_link, proposal_id, done=LINKED):
            yield event

    @rx.event
    async def decline_link(self, proposal_id: str):
        async for event in self._act(patients.decline_link, proposal_id,
                                     done="Link declined. The sign-up is still waiting for an identity check."):
            yield event

    @rx.event
    async def accept_new(self, patient_id: str):
        async for event in self._act(patients.verify_identity, patient_id, done="Identity verified; new record active"):
            yield event
