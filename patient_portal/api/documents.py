"""Document upload and download endpoints.

* ``POST /api/documents`` — the raw file is the request body (streamed, never buffered whole); its
  description travels in the ``X-Document-Meta`` header as URL-encoded JSON (patient_id, category,
  title, service_date, source, note, hold_until, filename), so nothing identifying lands in URLs/logs.
  A patient_id naming no record (unknown, malformed or merged) answers 404 and nothing is kept.
* ``POST /api/documents/{id}/versions`` — a corrected file (``X-Document-Meta: {"filename": ...}``).
* ``GET /api/documents/{id}/download`` and ``/preview`` — ``?v=<version>&t=<signed link>``: the link
  must be unexpired and minted for the session of the cookie presenting it; the policy is asked again,
  the read is audited, and the bytes stream with ``Cache-Control: no-store`` and the file's
  Content-Length. The first frame is verified before the response starts (a wrong or damaged file is
  a 500 with a plain message); every later frame is verified before it is sent, and one that fails
  aborts the connection (see DownloadAborted), so a client never takes a partial file for a whole one.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote, unquote

from anyio import from_thread, to_thread
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import ClientDisconnect

from patient_portal.api.responses import NO_STORE, denied, json_error
from patient_portal.core.access import AccessDenied, Actor
from patient_portal.core.db import off_loop
from patient_portal.domain.documents import links
from patient_portal.domain.documents import service as svc
from patient_portal.domain.documents.blobs import (
    DocumentDamaged,
    StorageUnavailable,
    UploadTooLarge,
    max_upload_bytes,
)
from patient_portal.domain.documents.dto import DocumentInvalid, DocumentNotFound
from patient_portal.domain.documents.filetypes import KINDS, FileRefused
from patient_portal.domain.documents.preview import PreviewUnavailable
from patient_portal.domain.patients.service import PatientNotFound

router = APIRouter()
META_HEADER = "x-document-meta"
SAVE_FAILED = "The document could not be saved, and nothing was kept. Please try again."


def actor_for(request: Request) -> Actor | None:
    """The signed-in actor (the identity area's cookie session)."""
    from patient_portal.api.auth import actor_from_request

    return actor_from_request(request)


def _upload_error(exc: BaseException) -> JSONResponse:
    if isinstance(exc, AccessDenied):
        return denied(exc)
    if isinstance(exc, DocumentInvalid):
        return json_error(422, str(exc), errors=exc.errors)
    if isinstance(exc, (DocumentNotFound, PatientNotFound)):
        return json_error(404, str(exc))
    if isinstance(exc, UploadTooLarge):
        return json_error(413, str(exc))
    if isinstance(exc, FileRefused):
        return json_error(415, str(exc))
    if isinstance(exc, StorageUnavailable):
        return json_error(503, str(exc))
    if isinstance(exc, SQLAlchemyError):
        return json_error(503, SAVE_FAILED)
    raise exc


def _meta(request: Request) -> dict[str, Any]:
    raw = request.headers.get(META_HEADER, "")
    try:
        data = json.loads(unquote(raw)) if raw else {}
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise DocumentInvalid({"file": "The upload was not described properly. Reload the page and try again."})
    return data


def _body_chunks(request: Request) -> Iterator[bytes]:
    """The request body as a blocking iterator, pulled from the event loop chunk by chunk."""
    stream = request.stream()

    async def _next() -> bytes | None:
        try:
            return await stream.__anext__()
        except StopAsyncIteration:
            return None

    while (chunk := from_thread.run(_next)) is not None:
        if chunk:
            yield chunk


#: How much of a refused body is read and thrown away so the client sees the 413 instead of a reset.
DRAIN_LIMIT = 64 * 1024 * 1024


async def _drain(request: Request) -> None:
    """Discard the rest of a refused body whose declared length is moderate, so the client reads our
    413 instead of a broken pipe; a body without a length (or a huge one) is simply cut off."""
    declared = request.headers.get("content-length", "")
    if not declared.isdigit() or int(declared) > DRAIN_LIMIT:
        return
    drained = 0
    try:
        async for chunk in request.stream():
            drained += len(chunk)
            if drained > DRAIN_LIMIT:
                return
    except (ClientDisconnect, RuntimeError):  # gone, or already fully read
        return


async def _ingest(request: Request, call: Callable[[Actor | None, dict[str, Any], Iterator[bytes]], Any]) -> Response:
    actor = await off_loop(actor_for, request)
    if actor is None:
        return json_error(401, "Please sign in.")
    try:
        meta = _meta(request)
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > max_upload_bytes():
            raise UploadTooLarge(max_upload_bytes())  # refused before a byte of the body is read
        summary = await to_thread.run_sync(lambda: call(actor, meta, _body_chunks(request)))
    except (AccessDenied, DocumentInvalid, DocumentNotFound, PatientNotFound, UploadTooLarge, FileRefused,
            StorageUnavailable, SQLAlchemyError) as exc:
        if isinstance(exc, UploadTooLarge):
            await _drain(request)
        return _upload_error(exc)
    except ClientDisconnect:  # the browser went away mid-upload: nothing was kept
        return json_error(400, SAVE_FAILED)
    except OSError:  # the local store failed
        return json_error(503, SAVE_FAILED)
    return JSONResponse({"id": str(summary.id), "version": summary.version, "title": summary.title,
                         "detail": "Uploaded"}, status_code=201, headers=NO_STORE)


#: The one upload path, for areas whose files are documents of the record (a message's attachments).
ingest = _ingest


@router.post("/documents")
async def upload_document(request: Request) -> Response:
    def call(actor: Actor | None, meta: dict[str, Any], chunks: Iterator[bytes]):
        return svc.upload(actor, patient_id=meta.get("patient_id"), meta=meta, filename=meta.get("filename", ""),
                          chunks=chunks)

    return await _ingest(request, call)


@router.post("/documents/{document_id}/versions")
async def upload_version(document_id: str, request: Request) -> Response:
    def call(actor: Actor | None, meta: dict[str, Any], chunks: Iterator[bytes]):
        return svc.upload_version(actor, document_id=document_id, filename=meta.get("filename", ""), chunks=chunks)

    return await _ingest(request, call)


def content_disposition(disposition: str, filename: str) -> str:
    """RFC 6266 header value with an ASCII fallback and the UTF-8 name."""
    fallback = "".join(ch if ch.isascii() and ch.isprintable() and ch not in '"\\;' else "_" for ch in filename)
    return f"{disposition}; filename=\"{fallback or 'document'}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _file_headers(purpose: str, opened) -> dict[str, str]:
    headers = {
        **NO_STORE,
        "Content-Disposition": content_disposition("inline" if purpose == "preview" else "attachment",
                                                   opened.filename),
        "Content-Length": str(opened.size_bytes),
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "SAMEORIGIN",
    }
    if opened.media_type != KINDS["pdf"].media_type:  # the browser's PDF viewer does not run sandboxed
        headers["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
    return headers


def _text(status: int, message: str) -> PlainTextResponse:
    return PlainTextResponse(message, status_code=status, headers=NO_STORE)


async def _serve(document_id: str, purpose: str, request: Request) -> Response:
    actor = await off_loop(actor_for, request)
    if actor is None:
        return _text(401, "Please sign in, then open the document again from your documents list.")
    try:
        doc_uuid = uuid.UUID(document_id)
        claims = links.verify(request.query_params.get("t", ""), document_id=doc_uuid, purpose=purpose,
                              session_id=actor.session_id)
        version = request.query_params.get("v")
        if version is not None and version != str(claims.version):
            raise links.LinkInvalid()
        opened = await off_loop(svc.open_file, actor, document_id=doc_uuid, version=claims.version, purpose=purpose)
    except ValueError:
        return _text(404, DocumentNotFound().args[0])
    except links.LinkInvalid as exc:
        return _text(403, str(exc))
    except AccessDenied as exc:
        return _text(403, str(exc))
    except DocumentNotFound as exc:
        return _text(404, str(exc))
    except DocumentDamaged as exc:
        return _text(500, str(exc))
    except PreviewUnavailable as exc:
        return _text(422, str(exc))
    except StorageUnavailable as exc:
        return _text(503, str(exc))
    return file_response(opened, document_id, purpose)


def file_response(opened: Any, document_id: str, purpose: str = "download") -> Response:
    """An opened file (``documents.service.open_file``) as every download path sends it: its headers,
    and the transfer aborted if a frame fails its check part-way (the FHIR ``Binary`` read too)."""
    return StreamingResponse(_abort_on_damage(opened.chunks, document_id), media_type=opened.media_type,
                             headers=_file_headers(purpose, opened))


class DownloadAborted(RuntimeError):
    """A file failed part-way through being sent. Raised out of the response so the server drops the
    connection: the client sees a broken download (short of its Content-Length), never an ending that
    looks complete. The message names the document id only."""


def _abort_on_damage(chunks: Iterator[bytes], document_id: str) -> Iterator[bytes]:
    """The verified chunks; damage (or the store failing) after the response started aborts it."""
    try:
        yield from chunks
    except DocumentDamaged:
        raise DownloadAborted(f"document {document_id}: a frame failed its integrity check part-way through "
                              "the transfer; the connection was dropped") from None
    except StorageUnavailable:
        raise DownloadAborted(f"document {document_id}: the store stopped answering part-way through the "
                              "transfer; the connection was dropped") from None


@router.get("/documents/{document_id}/download")
async def download(document_id: str, request: Request) -> Response:
    return await _serve(document_id, "download", request)


@router.get("/documents/{document_id}/preview")
async def preview(document_id: str, request: Request) -> Response:
    return await _serve(document_id, "preview", request)

