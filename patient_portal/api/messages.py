"""Message attachments: ``POST /api/messages/{message_id}/attachments`` — the raw file is the body,
``X-Document-Meta: {"filename": ...}`` names it (as for documents). The documents pipeline stores it
(type by its bytes, size, encryption, audit) as a document of the patient's record; the messages
service links it to the message, which must be the caller's own, sent in the last 30 minutes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from patient_portal.api import documents as documents_api
from patient_portal.api.responses import json_error
from patient_portal.core.access import Actor
from patient_portal.domain.messages import service as svc

router = APIRouter()


@router.post("/messages/{message_id}/attachments")
async def attach(message_id: str, request: Request) -> Response:
    def call(actor: Actor | None, meta: dict[str, Any], chunks: Iterator[bytes]):
        return svc.attach(actor, message_id=message_id, filename=meta.get("filename", ""), chunks=chunks)

    try:
        return await documents_api.ingest(request, call)
    except svc.MessageInvalid as exc:
        return json_error(422, str(exc), errors=exc.errors)
    except svc.ThreadNotFound as exc:
        return json_error(404, str(exc))
