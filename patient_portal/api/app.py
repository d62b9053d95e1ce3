"""The FastAPI app mounted under /api. Each area adds its router here."""

from __future__ import annotations

from fastapi import FastAPI

from patient_portal.api import (
    audit,
    auth,
    billing,
    clinic,
    documents,
    emergency,
    health,
    immunizations,
    messages,
    metrics,
    prescriptions,
    privacy,
    push,
    reports,
    responses,
    results,
    smart,
    video,
)
from patient_portal.api.fhir import bulk as fhir_bulk
from patient_portal.api.fhir import download as record_download
from patient_portal.api.fhir import routes as fhir
from patient_portal.api.headers import SecurityHeaders
from patient_portal.core.errors import ServiceError


def build_api() -> FastAPI:
    """The API app; its docs pages are off (they would shadow Reflex pages)."""
    api = FastAPI(title="Patient Portal API", docs_url=None, redoc_url=None, openapi_url=None)
    api.add_exception_handler(ServiceError, lambda _request, exc: responses.service_error(exc))
    api.include_router(health.router, prefix="/api")
    api.include_router(auth.router, prefix="/api")
    api.include_router(documents.router, prefix="/api")
    api.include_router(audit.router, prefix="/api")
    api.include_router(prescriptions.router, prefix="/api")  # public: /api/verify/rx/{code}, validity only
    api.include_router(results.router, prefix="/api")  # POST /api/results/import: a lab's CSV (doctors)
    api.include_router(immunizations.router, prefix="/api")  # GET the printable immunization record (PDF)
    api.include_router(emergency.router, prefix="/api")  # GET the printable emergency card (PDF)
    api.include_router(messages.router, prefix="/api")  # POST a message's attachment (the documents pipeline)
    api.include_router(billing.router, prefix="/api")  # statement and appeal PDFs, 835 upload, card token
    api.include_router(smart.router)  # SMART: /.well-known/smart-configuration, /api/smart/{authorize,token,...}
    api.include_router(record_download.router, prefix="/api")  # GET /api/record/download.{json,pdf}: the patient's own
    api.include_router(fhir_bulk.router)  # /fhir/$export…: Bulk Data (before /fhir/{type}/{id})
    api.include_router(fhir.router)  # /fhir: the FHIR R4 API (a path Reflex pages cannot take)
    api.include_router(clinic.router, prefix="/api")  # GET /api/clinic/logo (public, no PHI)
    api.include_router(privacy.router, prefix="/api")  # GET the accounting of disclosures (PDF)
    api.include_router(push.router, prefix="/api")  # Web Push: the VAPID key, a device's subscription
    api.include_router(reports.router, prefix="/api")  # GET the admins' reports as CSV and PDF
    api.include_router(video.router, prefix="/api")  # WS /api/video/{appointment_id}/signal: a video visit's signalling
    api.add_middleware(auth.OriginCheck)  # origin check + token-free websocket cookies, whole app
    api.include_router(metrics.router)  # GET /metrics: Prometheus text, bearer token (PORTAL_METRICS_TOKEN)
    api.add_middleware(SecurityHeaders)  # no framing, no sniffing, no referrer to other sites; HSTS under https
    api.add_middleware(metrics.RequestMetrics)  # outermost: latency by route, 5xx counted
    return api
