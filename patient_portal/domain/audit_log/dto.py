"""What the audit-log screens show: plain-language rows for patients, full rows for administrators.

Patient rows carry no IP addresses, session ids or internal ids. Times are in the clinic's time zone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from patient_portal.core.errors import Invalid
from patient_portal.domain.breakglass.dto import REASON_WORDS

#: action -> what a patient reads ("Looked at your health history").
PHRASES: dict[str, str] = {
    "patient.clinical.read": "Looked at your health history",
    "patient.clinical.write": "Updated your health history",
    "patient.clinical.report_own": "Added an allergy or a medicine you reported",
    "patient.demographics.read": "Opened your record",
    "patient.demographics.write": "Updated your personal details",
    "patient.insurance.read": "Looked at your insurance",
    "patient.insurance.write": "Updated your insurance",
    "patient.emergency.read": "Looked at your emergency contacts",
    "patient.emergency.write": "Updated your emergency contacts",
    "patient.search": "Found your record in a search",
    "patient.register": "Registered you as a patient",
    "patient.identity.verify": "Checked your identity",
    "patient.identity.link_proposed": "Proposed linking an online account to your record",
    "patient.identity.linked": "Linked an online account to your record",
    "patient.identity.link_declined": "Declined linking an online account to your record",
    "patient.change_request.decide": "Answered your request to change your details",
    "document.download": "Opened a document",
    "document.preview": "Looked at a document",
    "document.list": "Looked at your list of documents",
    "document.versions.read": "Looked at the versions of a document",
    "document.upload": "Added a document",
    "document.version.upload": "Added a new version of a document",
    "document.hold": "Changed when a document is released to you",
    "document.delete": "Removed a document",
    "document.restore": "Restored a document",
    "document.purge": "Deleted a removed document for good",
    "careteam.assign": "Added a doctor to your care team",
    "careteam.unassign": "Removed a doctor from your care team",
    "visit.list": "Looked at your visit notes",
    "visit.read": "Read a note about one of your visits",
    "visit.summary.list": "Looked at your visit summaries",
    "visit.create": "Started a note about your visit",
    "visit.update": "Updated a draft note about your visit",
    "visit.sign": "Signed a note about your visit",
    "visit.addendum": "Added an addendum to a note about your visit",
    "audit.read": "Checked who has looked at your record",
    "observation.read": "Looked at your vital signs and readings",
    "observation.write": "Recorded your vital signs",
    "observation.report_own": "Added a home reading",
    "observation.verify": "Checked a home reading you sent",
    "patient.timeline.read": "Looked at the timeline of your health record",
    "prescription.list": "Looked at your prescriptions",
    "prescription.read": "Read one of your prescriptions",
    "prescription.pdf.read": "Printed one of your prescriptions",
    "history.immunizations.print": "Printed your immunization record",
    "prescription.check.read": "Checked a new prescription against your allergies and medicines",
    "prescription.create": "Prescribed a medicine for you",
    "prescription.stop": "Stopped one of your prescriptions",
    "prescription.complete": "Marked one of your prescriptions completed",
    "prescription.renewal.request": "Asked for a prescription renewal",
    "prescription.renewal.approve": "Renewed one of your prescriptions",
    "prescription.renewal.decline": "Answered your renewal request",
    "prescription.verify.read": "A pharmacy checked that your prescription is valid",
    "result.list": "Looked at your test results",
    "result.read": "Read one of your test results",
    "result.own.list": "Looked at your test results",
    "result.create": "Added test results to your record",
    "result.import": "Added test results from the lab to your record",
    "result.review": "Reviewed your test results",
    "result.release": "Released your test results to you",
    "result.hold": "Kept your test results to discuss with you",
    "result.correct": "Corrected one of your test results",
    "message.list": "Looked at your messages",
    "message.inbox.read": "Looked at their messages, which list yours",
    "message.pool.read": "Looked at the clinic's messages, which list yours",
    "message.thread.read": "Read a conversation of your messages",
    "message.send": "Sent a message to the clinic",
    "message.reply": "Wrote in a conversation of your messages",
    "message.route": "Passed one of your messages to the right person",
    "message.attachment.add": "Attached a file to a message",
    "message.export.list": "Put your messages in your record's download",
    "careplan.list": "Looked at your care plan",
    "careplan.task.list": "Looked at your tasks to do",
    "careplan.create": "Started a care plan for you",
    "careplan.update": "Updated your care plan",
    "careplan.complete": "Marked your care plan completed",
    "careplan.cancel": "Stopped your care plan",
    "careplan.goal.create": "Added a goal to your care plan",
    "careplan.goal.update": "Changed a goal of your care plan",
    "careplan.goal.status": "Marked how a goal of your care plan went",
    "careplan.activity.create": "Added an activity to your care plan",
    "careplan.activity.update": "Changed an activity of your care plan",
    "careplan.activity.remove": "Removed an activity from your care plan",
    "careplan.note.create": "Wrote a progress update on your care plan",
    "careplan.task.tick": "Ticked off a task of your care plan",
    "careplan.task.untick": "Unticked a task of your care plan",
    "billing.account.read": "Looked at your billing account",
    "billing.coverage.save": "Updated the benefits of your insurance",
    "billing.eligibility.check": "Checked your insurance coverage with your insurer",
    "billing.charge.create": "Entered charges for your care",
    "billing.charge.own.list": "Looked at the charges of visits with you",
    "billing.claim.create": "Made an insurance claim for your care",
    "billing.claim.validate": "Checked an insurance claim for your care",
    "billing.claim.export": "Prepared an insurance claim for your care",
    "billing.claim.submit": "Sent an insurance claim to your insurer",
    "billing.claim.status.read": "Asked your insurer about a claim",
    "billing.claim.correct": "Corrected an insurance claim for your care",
    "billing.claim.close": "Closed an insurance claim for your care",
    "billing.claim.secondary.create": "Made a claim to your second insurance for what your first insurer left",
    "billing.claim.read": "Looked at an insurance claim for your care",
    "billing.claim.list": "Looked at a list of insurance claims",
    "billing.remittance.post": "Recorded what your insurer paid",
    "billing.worklist.denials.list": "Looked at insurance claims your insurer denied",
    "billing.appeal.create": "Wrote an appeal to your insurer",
    "billing.appeal.letter.read": "Printed an appeal letter to your insurer",
    "billing.appeal.submit": "Sent an appeal to your insurer",
    "billing.statement.read": "Looked at your statement",
    "billing.statement.pdf.read": "Printed your statement",
    "billing.statement.pay": "Took your online payment",
    "billing.balance.read": "Looked at what you owe",
    "billing.payment.record": "Recorded a payment from you",
    "billing.payment.refund": "Recorded a refund to you",
    "billing.payment.adjust": "Reduced what you owe",
    "appointment.list": "Looked at your appointments",
    "appointment.book": "Booked an appointment for you",
    "appointment.reschedule": "Moved one of your appointments",
    "appointment.cancel": "Cancelled one of your appointments",
    "appointment.approve": "Approved your appointment request",
    "appointment.check_in": "Checked you in for your appointment",
    "appointment.no_show": "Marked that you missed an appointment",
    "appointment.fulfil": "Marked your appointment as attended",
    "appointment.confirm": "Confirmed your appointment",
    "appointment.remind": "Sent you an appointment reminder",
    "appointment.waitlist.join": "Put you on the waitlist for an earlier time",
    "appointment.waitlist.leave": "Took you off the waitlist",
    "appointment.waitlist.offer": "Offered you an earlier time",
    "appointment.waitlist.accept": "Booked the earlier time you took",
    "appointment.waitlist.lapse": "Offered the time held for you to someone else",
    "fhir.request": "Used your record through the clinic's data connection (FHIR)",
    "record.download": "Downloaded your record",
    "emergency.info.read": "Looked at your emergency information",
    "emergency.info.write": "Updated your advance directives and special instructions",
    "emergency.code_status.write": "Recorded your code status",
    "emergency.card.print": "Printed your emergency card",
    "emergency.run.list": "Looked at the emergencies in your record",
    "emergency.run.start": "Started an emergency protocol for you",
    "emergency.step.tick": "Ticked off a step of an emergency protocol for you",
    "emergency.step.untick": "Unticked a step of an emergency protocol for you",
    "emergency.run.close": "Closed an emergency protocol for you",
    "emergency.contacts.notify": "Asked for your emergency contacts to be told",
    "emergency.contact.notify": "Messaged one of your emergency contacts",
    "emergency.contact.skip": "Did not message one of your emergency contacts",
    "emergency_access.start": "Used emergency access to open your record",
    "emergency_access.end": "Ended emergency access to your record",
    "emergency_access.review": "Reviewed an emergency access to your record",
    "consent.list": "Looked at your consents",
    "consent.write": "Recorded one of your consents",
    "record.sensitivity.list": "Looked at which of your records are marked sensitive",
    "record.sensitivity.write": "Changed which of your records are marked sensitive",
    "disclosure.list": "Looked at the list of disclosures of your record",
    "disclosure.record": "Recorded that your health information was sent outside the clinic",
    "disclosure.accounting.print": "Printed the accounting of disclosures of your record",
    "amendment.list": "Looked at your requests to correct your record",
    "amendment.answer": "Answered your request to correct your record",
    "video.visits.read": "Looked at your video visits",
    "video.join": "Joined your video visit",
    "video.admit": "Let you into your video visit",
    "video.leave": "Left your video visit",
}
#: What a patient reads after an event done under emergency access (purpose "emergency").
EMERGENCY_SUFFIX = " — using emergency access"
GENERIC_PHRASE = "Accessed your record"
_BASE_VERBS = {"Opened": "open", "Looked": "look", "Updated": "update", "Found": "find", "Registered": "register",
               "Checked": "check", "Answered": "answer", "Added": "add", "Changed": "change", "Removed": "remove",
               "Restored": "restore", "Deleted": "delete", "Accessed": "access", "Read": "read", "Started": "start",
               "Signed": "sign", "Printed": "print", "Prescribed": "prescribe", "Stopped": "stop", "Marked": "mark",
               "Asked": "ask", "Renewed": "renew",
               "Reviewed": "review", "Released": "release", "Kept": "keep", "Corrected": "correct",
               "Wrote": "write", "Ticked": "tick", "Unticked": "untick",
               "Entered": "enter", "Made": "make", "Prepared": "prepare", "Sent": "send", "Closed": "close",
               "Recorded": "record", "Took": "take", "Reduced": "reduce",
               "Booked": "book", "Moved": "move", "Cancelled": "cancel", "Approved": "approve", "Confirmed": "confirm",
               "Put": "put", "Offered": "offer", "Used": "use", "Downloaded": "download",
               "Messaged": "message", "Did": "do", "Ended": "end", "Proposed": "propose", "Linked": "link",
               "Declined": "decline", "Passed": "pass", "Attached": "attach", "Joined": "join", "Let": "let",
               "Left": "leave"}
ROLE_WORDS = {"doctor": "doctor", "staff": "clinic staff", "admin": "administrator", "patient": "patient"}
OUTCOMES = ("success", "denied", "failed", "throttled")


def phrase(action: str, detail: dict | None = None, outcome: str = "success", purpose: str | None = None) -> str:
    """What happened, in plain words; a refusal reads "Tried to ... (refused)". Emergency access
    says so: its start names the reason (from the short list, never the free text), and everything
    done under it ends "— using emergency access"."""
    text = PHRASES.get(action, GENERIC_PHRASE)
    if action == "emergency_access.start" and outcome == "success":
        reason = REASON_WORDS.get(str((detail or {}).get("reason", "")), "")
        return text + (f" (reason: {reason[:1].lower() + reason[1:]})" if reason else "")
    if purpose == "emergency" and not action.startswith("emergency_access.") and outcome == "success":
        return _phrase_of_page(action, detail, text) + EMERGENCY_SUFFIX
    text = _phrase_of_page(action, detail, text)
    if outcome == "success":
        return text
    verb, _, rest = text.partition(" ")
    if verb not in _BASE_VERBS:  # a phrase that names someone else ("A pharmacy checked …")
        return f"{text} ({'refused' if outcome == 'denied' else 'it did not work'})"
    base = _BASE_VERBS[verb]
    suffix = "(refused)" if outcome == "denied" else "(it did not work)"
    return f"Tried to {base} {rest} {suffix}"


def _phrase_of_page(action: str, detail: dict | None, text: str) -> str:
    """A chart page opened with its header reads as opening the record and that page."""
    sections = (detail or {}).get("sections") or []
    if action == "patient.demographics.read" and "clinical" in sections:
        text = "Opened your record, including your health history"
    if action == "document.list" and (detail or {}).get("header"):  # a chart's documents page, opened
        text = "Opened your record and looked at your list of documents"
    if action == "visit.list" and (detail or {}).get("header"):  # a chart's Visits page, opened
        text = "Opened your record and looked at your visit notes"
    if action == "observation.read" and (detail or {}).get("header"):  # a chart's vitals page, opened
        text = "Opened your record and looked at your vital signs"
    if action == "patient.timeline.read" and (detail or {}).get("header"):  # a chart's Timeline page, opened
        text = "Opened your record and looked at your timeline"
    if action == "prescription.list" and (detail or {}).get("header"):  # a chart's Prescriptions page, opened
        text = "Opened your record and looked at your prescriptions"
    if action == "result.list" and (detail or {}).get("header"):  # a chart's Results page, opened
        text = "Opened your record and looked at your test results"
    if action == "careplan.list" and (detail or {}).get("header"):  # a chart's Care plan page, opened
        text = "Opened your record and looked at your care plan"
    if action == "billing.account.read" and (detail or {}).get("header"):  # a chart's Billing page, opened
        text = "Opened your record and looked at your billing account"
    if action == "fhir.request" and (detail or {}).get("client") not in (None, "portal"):
        text = "An app you connected used your record through the clinic's data connection (FHIR)"
    if action == "emergency.run.list" and (detail or {}).get("header"):  # a chart's Emergency page, opened
        text = "Opened your record and looked at the emergencies in it"
    return text


@dataclass(frozen=True)
class AccessEntry:
    """One access to a patient's record, as the patient reads it."""

    when: str
    who: str
    what: str
    refused: bool


@dataclass(frozen=True)
class AccessPage:
    rows: list[AccessEntry]
    total: int
    page: int
    pages: int


@dataclass(frozen=True)
class AuditEntry:
    """One audit event, as an administrator reads it."""

    seq: int
    at: str
    actor: str
    actor_email: str
    role: str
    action: str
    patient_mrn: str
    object: str
    outcome: str
    ip: str


@dataclass(frozen=True)
class AuditPage:
    rows: list[AuditEntry]
    total: int
    page: int
    pages: int


@dataclass(frozen=True)
class AuditFilters:
    """The administrator's filters, as typed (validated by the service)."""

    action: str = ""
    actor: str = ""
    patient: str = ""
    outcome: str = ""
    date_from: str = ""
    date_to: str = ""

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> AuditFilters:
        """Filters from a mapping of names to typed text (a form, a query string); other keys ignored."""
        return cls(**{name: str(values.get(name, "") or "").strip()[:320] for name in FILTER_FIELDS})

    def used(self) -> list[str]:
        """Names of the filters in use (what the audit trail records; never their values)."""
        return [name for name, value in vars(self).items() if str(value or "").strip()]


@dataclass(frozen=True)
class ChainStatus:
    ok: bool
    message: str
    checked: int = 0


class FilterInvalid(Invalid):
    """A filter the service cannot use; the message is safe to show. ``field`` names the filter at
    fault (one of FILTER_FIELDS), so the screen says it next to that field. The CSV export answers
    it 400 (a bad query string), as it always has."""

    status = 400

    def __init__(self, message: str, field: str = ""):
        super().__init__(message, {field: message} if field else None)


def pages_for(total: int, size: int) -> int:
    return max(1, -(-total // size))




FILTER_FIELDS = tuple(f.name for f in fields(AuditFilters))


@dataclass(frozen=True)
class AccessRecord:
    """One audit event as data (the FHIR AuditEvent): a patient's rows name no IP and no account id."""

    id: Any
    at: Any  # datetime, UTC
    action: str
    outcome: str
    purpose: str | None
    who: str
    role: str
    patient_id: Any
    what: str
    ip: str
    actor_id: Any = None


@dataclass(frozen=True)
class RecordPage:
    rows: list[AccessRecord]
    total: int
