"""State of the billing office's pages (staff, admins): /billing/claims (claims by status),
/billing/denials (the denial worklist by appeal deadline), /billing/remittance (fetch or upload an
835, and what posting could not place) and /billing/aging (A/R aging by payer and patient).

Every handler calls the billing service through ``state.calls.attempt`` (the actor resolved on the
server; the service decides and audits); vars hold display dicts made from the service's DTOs. The
ids buttons send back (a work item to resolve) are requests like any other: the service checks them.
The helpers at the top (money, status words, dates) are shared by every billing state.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from patient_portal.core.clock import plain_day, plain_time
from patient_portal.domain.billing import dto
from patient_portal.domain.billing import service as svc
from patient_portal.domain.billing.validation import money_text
from patient_portal.state.calls import Answer, attempt
from patient_portal.state.uploads import send_file_script

UPLOAD_INPUT = "remittance-file"

#: A claim's status in the words of the billing office, and the badge colour it is drawn in.
STATUS_WORDS = {"draft": "Draft", "ready": "Ready to send", "submitted": "Submitted", "acknowledged": "Acknowledged",
                "rejected": "Rejected", "paid": "Paid", "partial": "Partly paid", "denied": "Denied",
                "appealed": "Appealed", "closed": "Closed"}
STATUS_COLORS = {"draft": "gray", "ready": "blue", "submitted": "blue", "acknowledged": "cyan", "rejected": "red",
                 "paid": "green", "partial": "amber", "denied": "red", "appealed": "purple", "closed": "gray"}
LINE_WORDS = {"open": "Waiting", "paid": "Paid", "partial": "Partly paid", "denied": "Denied"}
#: The filter of the claims list: (value, words); "" every status.
FILTERS = (("all", "All claims"), ("ready", "Ready to send"), ("draft", "Draft"), ("rejected", "Rejected"),
           ("acknowledged", "Acknowledged"), ("denied", "Denied"), ("partial", "Partly paid"), ("appealed", "Appealed"),
           ("paid", "Paid"), ("closed", "Closed"))
WORK_WORDS = {"unmatched_claim": "No claim of ours has this number", "unmatched_line": "A line matches no claim line",
              "unbalanced": "The payment does not add up", "reversal": "The payer took a payment back"}
METHOD_WORDS = {"card_online": "Card (online)", "card_desk": "Card at the desk", "cash": "Cash", "check": "Check"}
AGING_BUCKETS = ("0–30 days", "31–60 days", "61–90 days", "Over 90 days")


def money(cents: int | None) -> str:
    return money_text(int(cents or 0))


def status_word(status: str) -> str:
    return STATUS_WORDS.get(status, status)


def days_left_text(days: int | None) -> str:
    if days is None:
        return "No appeal left"
    if days < 0:
        return f"{-days} days late"
    return "Due today" if days == 0 else f"{days} day{'s' if days != 1 else ''} left"


def claim_row(c: dto.ClaimListItem) -> dict[str, Any]:
    return {"id": str(c.id), "number": c.claim_number, "patient": c.patient_name, "patient_id": str(c.patient_id),
            "payer": c.payer_name, "status": c.status, "status_text": status_word(c.status),
            "color": STATUS_COLORS.get(c.status, "gray"), "total": money(c.total_cents),
            "billed": plain_day(c.billed_on) or "Not sent", "href": f"/billing/claims/{c.id}"}


def receipt_row(r: dto.Receipt) -> dict[str, Any]:
    card = f"{(r.card_brand or 'card').title()} ending {r.card_last4}" if r.card_last4 else ""
    return {"id": str(r.id), "number": r.receipt_number, "when": plain_time(r.at), "refund": r.kind == "refund",
            "kind": "Refund" if r.kind == "refund" else "Payment", "method": METHOD_WORDS.get(r.method, r.method),
            "amount": money(r.amount_cents), "card": card}


def _aging_row(r: dto.AgingRow, href: str = "") -> dict[str, Any]:
    return {"key": r.key, "name": r.name or "—", "b0": money(r.buckets[0]), "b1": money(r.buckets[1]),
            "b2": money(r.buckets[2]), "b3": money(r.buckets[3]), "total": money(r.total), "href": href}


# ---------------------------------------------------------------- the office's worklists


class BillingOfficeState(rx.State):
    """The four worklist pages; each page's on_load names its own loader."""

    status: str = "loading"  # loading | ok | denied
    error: str = ""

    # claims
    claim_filter: str = "all"
    claims: list[dict[str, Any]] = []
    # denials
    denials: list[dict[str, Any]] = []
    # remittance
    work_items: list[dict[str, Any]] = []
    posting: str = ""
    upload_error: str = ""
    # aging
    as_of: str = ""
    totals: list[dict[str, Any]] = []
    total_text: str = ""
    by_payer: list[dict[str, Any]] = []
    by_patient: list[dict[str, Any]] = []

    def _failed(self, answer: Answer) -> Any:
        if answer.signed_out:
            return answer.show(self)
        if answer.denied:
            self.status = "denied"
            return None
        self.error = answer.message
        return None

    def _start(self) -> None:
        self.status, self.error, self.posting, self.upload_error = "loading", "", "", ""

    # ------------------------------------------------------------ claims
    @rx.event
    async def load_claims(self):
        """on_load of /billing/claims."""
        self._start()
        self.claims = []
        return await self._read_claims()

    async def _read_claims(self) -> Any:
        wanted = "" if self.claim_filter == "all" else self.claim_filter
        answer = await attempt(self, svc.claims_worklist, status=wanted)
        if not answer.ok:
            return self._failed(answer)
        self.claims = [claim_row(c) for c in answer.value]
        self.status = "ok"
        return None

    @rx.event
    async def set_claim_filter(self, value: str):
        if value not in {v for v, _w in FILTERS} or self.status != "ok":
            return None
        self.claim_filter = value
        return await self._read_claims()

    # ------------------------------------------------------------ denials
    @rx.event
    async def load_denials(self):
        """on_load of /billing/denials: denied claims, soonest appeal deadline first."""
        self._start()
        self.denials = []
        answer = await attempt(self, svc.denial_worklist)
        if not answer.ok:
            return self._failed(answer)
        self.denials = [{
            "id": str(d.claim_id), "number": d.claim_number, "patient": d.patient_name, "payer": d.payer_name,
            "reasons": ", ".join(d.reasons) or "No reason given", "amount": money(d.denied_cents),
            "deadline": plain_day(d.deadline) or "—", "days_left": days_left_text(d.days_left),
            "urgent": d.days_left is not None and d.days_left <= 14, "href": f"/billing/claims/{d.claim_id}"}
            for d in answer.value]
        self.status = "ok"
        return None

    # ------------------------------------------------------------ remittance
    @rx.event
    async def load_remittance(self):
        """on_load of /billing/remittance: what posting could not place, oldest first."""
        self._start()
        self.work_items = []
        return await self._read_work()

    async def _read_work(self) -> Any:
        answer = await attempt(self, svc.remittance_worklist)
        if not answer.ok:
            return self._failed(answer)
        self.work_items = [{"id": str(w.id), "what": WORK_WORDS.get(w.kind, w.kind), "number": w.control_number or "—",
                            "amount": money(w.amount_cents), "when": plain_time(w.created_at)}
                           for w in answer.value]
        self.status = "ok"
        return None

    @rx.event
    async def fetch_remittances(self):
        """Fetch the 835s waiting at the clearinghouses and post each."""
        self.error, self.posting, self.upload_error = "", "", ""
        answer = await attempt(self, svc.fetch_remittances)
        if not answer.ok:
            return self._failed(answer)
        results: list[dto.PostingResult] = answer.value
        if not results:
            self.posting = "No new remittances are waiting at the clearinghouse."
            return rx.toast.info(self.posting)
        claims = sum(r.claims_posted for r in results)
        unmatched = sum(r.unmatched for r in results)
        paid = sum(r.paid_cents for r in results)
        self.posting = (f"Posted {len(results)} remittance{'s' if len(results) != 1 else ''}: {claims} claim "
                        f"payment{'s' if claims != 1 else ''}, {money(paid)} paid"
                        + (f"; {unmatched} item{'s' if unmatched != 1 else ''} to the worklist." if unmatched else "."))
        await self._read_work()
        return rx.toast.success(self.posting)

    @rx.event
    def start_upload(self):
        """Ask the browser to send the chosen 835 to the upload route; its answer comes to ``upload_done``."""
        self.posting, self.upload_error = "Posting…", ""
        script = send_file_script(UPLOAD_INPUT, "/api/billing/remittances", content_type="text/plain",
                                  choose="Choose the 835 file first.", failed="The file could not be posted.")
        return rx.call_script(script, callback=BillingOfficeState.upload_done)

    @rx.event
    async def upload_done(self, answer: dict[str, Any]):
        """The upload route's answer (only words to show: the route did the work)."""
        answer = answer if isinstance(answer, dict) else {}
        if answer.get("error"):
            self.posting, self.upload_error = "", str(answer["error"])[:500]
            return None
        if answer.get("already_posted"):
            self.posting = "This 835 was posted before: nothing was posted twice."
            return rx.toast.info(self.posting)
        try:
            claims, unmatched = int(answer.get("claims", 0) or 0), int(answer.get("unmatched", 0) or 0)
            paid = int(answer.get("paid_cents", 0) or 0)
        except (TypeError, ValueError):
            claims = unmatched = paid = 0
        self.posting = (f"Posted {claims} claim payment{'s' if claims != 1 else ''}, {money(paid)} paid"
                        + (f"; {unmatched} item{'s' if unmatched != 1 else ''} to the worklist." if unmatched else "."))
        await self._read_work()
        return rx.toast.success(self.posting)

    @rx.event
    async def resolve(self, item_id: str):
        """Mark a worklist item dealt with."""
        self.error = ""
        answer = await attempt(self, svc.resolve_work_item, item_id=str(item_id)[:64])
        if not answer.ok:
            return self._failed(answer)
        await self._read_work()
        return rx.toast.success("Marked as dealt with")

    # ------------------------------------------------------------ aging
    @rx.event
    async def load_aging(self):
        """on_load of /billing/aging."""
        self._start()
        self.totals, self.by_payer, self.by_patient = [], [], []
        answer = await attempt(self, svc.ar_aging)
        if not answer.ok:
            return self._failed(answer)
        aging: dto.Aging = answer.value
        self.as_of = plain_day(aging.as_of)
        self.totals = [{"bucket": name, "dollars": round(cents / 100, 2), "text": money(cents)}
                       for name, cents in zip(AGING_BUCKETS, aging.totals, strict=True)]
        self.total_text = money(sum(aging.totals))
        self.by_payer = [_aging_row(r) for r in aging.by_payer]
        self.by_patient = [_aging_row(r, f"/chart/{r.key}/billing") for r in aging.by_patient]
        self.status = "ok"
        return None
