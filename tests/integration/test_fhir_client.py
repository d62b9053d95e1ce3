"""A common Python FHIR client (SMART's ``fhirclient``, R4 models) reads the API without special
cases: the CapabilityStatement, a Patient read, a Condition search with paging, and a create — the
client parses every answer into its own R4 models. Its requests go to the app in-process (a
``requests`` adapter in front of Starlette's test client), signed in with the portal's cookie."""

from __future__ import annotations

import pytest
import requests
from fhirclient import client as fhir_client
from fhirclient.models.condition import Condition
from fhirclient.models.fhirsearch import FHIRSearch
from fhirclient.models.patient import Patient

from tests.integration.fhir_support import fhir_clinic
from tests.integration.identity_support import ORIGIN


class _InProcess(requests.adapters.BaseAdapter):
    """Sends a ``requests`` request to the app through `web` (a signed-in test client)."""

    def __init__(self, web):
        super().__init__()
        self.web = web

    def send(self, request, **_kwargs):
        answer = self.web.request(request.method, request.url, content=request.body,
                                  headers={k: v for k, v in request.headers.items() if k.lower() != "cookie"})
        out = requests.Response()
        out.status_code, out._content, out.url, out.request = answer.status_code, answer.content, request.url, request
        out.headers = requests.structures.CaseInsensitiveDict(answer.headers)
        return out

    def close(self):
        pass


@pytest.fixture
def smart(code_tables):
    clinic = fhir_clinic()
    app = fhir_client.FHIRClient(settings={"app_id": "portal-tests", "api_base": f"{ORIGIN}/fhir/"})
    app.server.session.mount(ORIGIN, _InProcess(clinic["doc"]))
    return clinic, app.server


def test_fhirclient_reads_the_capability_statement_a_patient_and_searches(smart):
    clinic, server = smart
    server.get_capability()
    assert server.capabilityStatement.fhirVersion == "4.0.1"
    patient = Patient.read(clinic["elena"], server)
    assert patient.name[0].family == "Marsh" and patient.birthDate.isostring == "1979-04-23"
    found = Condition.where(struct={"patient": clinic["elena"]}).perform_resources(server)
    assert [c.code.coding[0].code for c in found] == ["J45"]


def test_fhirclient_creates_a_condition_and_pages_a_search(smart):
    clinic, server = smart
    for text in ("Migraine", "Gout", "Eczema"):
        made = Condition({"resourceType": "Condition", "subject": {"reference": f"Patient/{clinic['elena']}"},
                          "code": {"text": text}})
        assert made.create(server)["code"]["text"] == text
    bundle = FHIRSearch(Condition, struct={"patient": clinic["elena"], "_count": "2"}).perform(server)
    assert bundle.total == 4 and len(bundle.entry) == 2
    following = [link.url for link in bundle.link if link.relation == "next"]
    assert following and len(server.request_json(following[0])["entry"]) == 2
