"""Billing over HTTP: the PDFs, the 835 upload and the card's token (``domain/billing``).

* ``GET /api/billing/statement.pdf?patient=<id>`` — a patient's statement (the patient: their own,
  ``patient`` may be left out; staff and admins: any patient's). The service authorizes and audits.
* ``GET /api/billing/appeals/{id}/letter.pdf`` — an appeal's letter (staff, admins).
* ``POST /api/billing/remittances`` — staff upload an 835 (the body is the file, text, at most
  ``MAX_835`` bytes); it is posted at once, like one fetched from the clearinghouse. JSON answer:
  ``{"claims", "unmatched", "paid_cents", "already_posted"}``.
* ``POST /api/billing/card-token`` — the stand-in for a payment processor's own tokenizing script:
  ``{"number", "exp_month", "exp_year", "cvc"}`` in, ``{"token", "last4", "brand"}`` out (signed-in
  patients only). The number goes to the processor interface and nowhere else: not logged, not kept,
  never in UI state (see ``domain/billing/payments.py``).

Every route reads the signed-in actor from the session cookie (HttpOnly, SameSite=Strict); answers
are never cached; the origin check covers the POSTs. Errors are the service's, as JSON.
"""

from __future__ import annotations

import json
from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from patient_portal.api.auth import actor_from_request
from patient_portal.api.responses import NO_STORE, json_error
from patient_portal.core.access import Action, Role
from patient_portal.core.db import off_loop, transact
from patient_portal.domain.billing import service
from patient_portal.domain.billing.payments import CardProblem, processor

router = APIRouter()
MAX_835 = 20_000_000  # 5,000 claim payments are about 2 MB
MAX_CARD_BODY = 2_000
SIGN_IN = "Sign in again to continue."
TEXT_TYPES = {"text/plain", "application/edi-x12", "application/octet-stream", ""}


def _pdf(data: bytes, filename: str) -> Response:
    return Response(data, media_type="application/pdf",
                    headers={**NO_STORE, "Content-Disposition": f'attachment; filename="{filename}"'})


async def _body(request: Request, limit: int) -> bytes | None:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            return None
    return bytes(body)


@router.get("/billing/statement.pdf")
async def statement_pdf(request: Request, patient: str = "") -> Response:
    actor = await off_loop(actor_from_request, request)
    if actor is None:
        return json_error(401, SIGN_IN)
    if not patient and actor.role == Role.PATIENT and actor.patient_id is not None:
        patient = str(actor.patient_id)
    data = await off_loop(transact, service.statement_pdf, actor, patient_id=patient[:64])
    return _pdf(data, f"statement-{date.today().isoformat()}.pdf")


@router.get("/billing/appeals/{appeal_id}/letter.pdf")
async def appeal_letter(appeal_id: str, request: Request) -> Response:
    actor = await off_loop(actor_from_request, request)
    if actor is None:
        return json_error(401, SIGN_IN)
    data = await off_loop(transact, service.appeal_letter, actor, appeal_id=appeal_id[:64])
    return _pdf(data, "appeal-letter.pdf")


@router.post("/billing/remittances")
async def upload_835(request: Request) -> JSONResponse:
    kind = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if kind not in TEXT_TYPES:
        return json_error(415, "Choose the 835 file the payer sent (a text file).")
    body = await _body(request, MAX_835)
    if body is None:
        return json_error(413, "The file is larger than 20 MB: ask the payer for smaller files.")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return json_error(422, "This is not an 835 file: it is not text.")
    actor = await off_loop(actor_from_request, request)
    result = await off_loop(transact, service.post_835, actor, text=text, source="upload")
    return JSONResponse({"claims": result.claims_posted, "unmatched": result.unmatched,
                         "paid_cents": result.paid_cents, "already_posted": result.already_posted}, headers=NO_STORE)


@router.post("/billing/card-token")
async def card_token(request: Request) -> JSONResponse:
    actor = await off_loop(actor_from_request, request)
    if actor is None:
        return json_error(401, SIGN_IN)
    if not actor.can(Action.STATEMENT_PAY):
        return json_error(403, "Only the patient pays online; record a desk payment instead.")
    body = await _body(request, MAX_CARD_BODY)
    try:
        card = json.loads(body or b"{}")
    except ValueError:
        card = None
    if not isinstance(card, dict):
        return json_error(422, "Enter the card's number, expiry and security code.")
    try:
        token = processor().tokenize(number=str(card.get("number", ""))[:40], exp_month=str(card.get("exp_month", ""))[:4],
                                     exp_year=str(card.get("exp_year", ""))[:4], cvc=str(card.get("cvc", ""))[:4],
                                     today=service.today())
    except CardProblem as exc:
        return json_error(422, str(exc), errors={exc.field: str(exc)})
    return JSONResponse({"token": token.token, "last4": token.last4, "brand": token.brand}, headers=NO_STORE)
