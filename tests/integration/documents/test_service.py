"""Document use cases at the service layer: every role, allowed and denied, against a real database."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from sqlmodel import select

from patient_portal.core.access import AccessDenied, Actor, CareTeamMember, Role
from patient_portal.core.audit import AuditEvent, verify_chain
from patient_portal.core.db import unit_of_work, utcnow
from patient_portal.core.storage import get_blob_store
from patient_portal.domain.documents import service as svc
from patient_portal.domain.documents.dto import DocumentInvalid, DocumentNotFound
from patient_portal.domain.documents.models import Document, DocumentVersion
from tests.integration.documents.conftest import PDF_BYTES, PNG_BYTES, chunks_of, meta

ROLES = ["admin", "doctor", "other_doctor", "staff", "patient", "other_patient"]


def _upload(actor, cast, category="lab_result", data=PDF_BYTES, name="lab.pdf", **extra):
    return svc.upload(actor, patient_id=cast.patient_id, meta=meta(category, **extra), filename=name,
                      chunks=chunks_of(data))


def _denied_events(action: str) -> list[AuditEvent]:
    with unit_of_work() as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == action,
                                                          AuditEvent.outcome == "denied")).all())


def _ok(fn) -> bool:
    try:
        fn()
        return True
    except AccessDenied:
        return False


# ---------------------------------------------------------------- upload


@pytest.mark.parametrize(("role", "clinical_ok", "administrative_ok"), [
    ("admin", True, True), ("doctor", True, False), ("other_doctor", False, False),
    ("staff", False, True), ("patient", True, True), ("other_patient", False, False),
])
def test_who_may_upload_which_category(cast, role, clinical_ok, administrative_ok):
    actor = getattr(cast, role)
    assert _ok(lambda: _upload(actor, cast, "lab_result")) is clinical_ok
    assert _ok(lambda: _upload(actor, cast, "insurance_card", PNG_BYTES, "card.png")) is administrative_ok
    denials = (not clinical_ok) + (not administrative_ok)
    assert len(_denied_events("document.upload")) == denials


def test_patient_upload_is_marked_provided_by_patient(cast):
    doc = _upload(cast.patient, cast, "medical_document", source="")
    assert doc.provided_by_patient and doc.source == "Provided by patient"
    assert not _upload(cast.doctor, cast).provided_by_patient


def test_upload_validates_fields_and_stores_nothing(cast):
    with pytest.raises(DocumentInvalid) as err:
        svc.upload(cast.doctor, patient_id=cast.patient_id, filename="lab.pdf", chunks=chunks_of(PDF_BYTES),
                   meta={"category": "nonsense", "title": " ", "service_date": "2999-01-01"})
    assert set(err.value.errors) == {"category", "title", "service_date"}
    assert list(get_blob_store().keys()) == []


def test_metadata_is_encrypted_at_rest(cast):
    doc = _upload(cast.doctor, cast, title="Biopsy Garcia", source="Pathology Dept")
    with unit_of_work() as session:
        raw = session.connection().exec_driver_sql(
            "SELECT title, source, service_date FROM document WHERE id = ?"
            if session.get_bind().dialect.name == "sqlite" else
            "SELECT title, source, service_date FROM document WHERE id = %s", (doc.id.hex if
                                                                               session.get_bind().dialect.name == "sqlite" else doc.id,)).one()
    assert all(value.startswith("v1.") for value in raw)
    assert "Biopsy" not in "".join(raw)


# ---------------------------------------------------------------- reading


@pytest.mark.parametrize(("role", "clinical", "administrative"), [
    ("admin", True, True), ("doctor", True, True), ("other_doctor", False, False),
    ("staff", False, True), ("patient", True, True), ("other_patient", False, False),
])
def test_who_may_read_which_category(cast, role, clinical, administrative):
    lab = _upload(cast.doctor, cast)
    card = _upload(cast.staff, cast, "insurance_card", PNG_BYTES, "card.png")
    actor = getattr(cast, role)
    for doc, allowed in ((lab, clinical), (card, administrative)):
        assert _ok(lambda d=doc: b"".join(svc.open_file(actor, document_id=d.id).chunks)) is allowed
        assert _ok(lambda d=doc: svc.list_versions(actor, d.id)) is allowed
        assert _ok(lambda d=doc: svc.link_for(actor, document_id=d.id, purpose="download")) is allowed
    if clinical or administrative:
        seen = {d.category for d in svc.list_documents(actor, patient_id=cast.patient_id).items}
        assert seen == ({"lab_result"} if clinical else set()) | ({"insurance_card"} if administrative else set())
    else:
        with pytest.raises(AccessDenied):
            svc.list_documents(actor, patient_id=cast.patient_id)


def test_staff_never_see_clinical_documents_in_any_listing(cast):
    for category in ("medical_document", "lab_result", "imaging_report", "prescription", "advance_directive", "other"):
        _upload(cast.doctor if category != "other" else cast.patient, cast, category)
    _upload(cast.staff, cast, "identity_document", PNG_BYTES, "id.png")
    page = svc.list_documents(cast.staff, patient_id=cast.patient_id)
    assert [d.category for d in page.items] == ["identity_document"]
    assert svc.list_documents(cast.staff, patient_id=cast.patient_id, category="lab_result").total == 0


def test_download_returns_the_same_bytes_and_is_audited(cast):
    doc = _upload(cast.doctor, cast)
    opened = svc.open_file(cast.patient, document_id=doc.id)
    assert b"".join(opened.chunks) == PDF_BYTES
    assert opened.media_type == "application/pdf" and opened.filename == "lab.pdf"
    with unit_of_work() as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.action == "document.download")).all()
        assert [(e.actor_id, e.patient_id, e.outcome) for e in events] == [(cast.patient.user_id, cast.patient_id,
                                                                            "success")]
        assert verify_chain(session).ok


def test_list_filters_sorts_and_pages_on_the_server(cast):
    for i in range(30):
        svc.upload(cast.doctor, patient_id=cast.patient_id, filename="x.pdf", chunks=chunks_of(PDF_BYTES),
                   meta={"category": "lab_result" if i % 2 else "imaging_report", "title": f"Doc {i:02d}",
                         "service_date": (date(2025, 1, 1) + timedelta(days=i)).isoformat(),
                         "source": "City Lab" if i % 3 == 0 else "Radiology"})
    first = svc.list_documents(cast.doctor, patient_id=cast.patient_id)
    assert (first.total, first.pages, len(first.items)) == (30, 2, 25)
    assert first.items[0].title == "Doc 29"
    second = svc.list_documents(cast.doctor, patient_id=cast.patient_id, page=2)
    assert [d.title for d in second.items] == [f"Doc {i:02d}" for i in range(4, -1, -1)]
    oldest = svc.list_documents(cast.doctor, patient_id=cast.patient_id, sort="date_asc")
    assert oldest.items[0].title == "Doc 00"
    labs = svc.list_documents(cast.doctor, patient_id=cast.patient_id, category="lab_result")
    assert labs.total == 15 and {d.category for d in labs.items} == {"lab_result"}
    city = svc.list_documents(cast.doctor, patient_id=cast.patient_id, source="city lab")
    assert city.total == 10
    ranged = svc.list_documents(cast.doctor, patient_id=cast.patient_id, date_from="2025-01-03",
                                date_to="2025-01-05")
    assert sorted(d.title for d in ranged.items) == ["Doc 02", "Doc 03", "Doc 04"]
    by_source = svc.list_documents(cast.doctor, patient_id=cast.patient_id, sort="source")
    assert by_source.items[0].source == "City Lab"


# ---------------------------------------------------------------- hold until discussed


def test_held_document_shows_existence_and_release_date_but_not_content(cast):
    release = utcnow().date() + timedelta(days=7)
    doc = _upload(cast.doctor, cast, title="Biopsy result", hold_until=release.isoformat())
    seen = svc.list_documents(cast.patient, patient_id=cast.patient_id).items[0]
    assert seen.restricted and seen.hold_until == release
    assert seen.title == "Lab result" and seen.source is None and not seen.previewable
    with pytest.raises(AccessDenied, match="talk this document through"):
        svc.open_file(cast.patient, document_id=doc.id)
    with pytest.raises(AccessDenied):
        svc.link_for(cast.patient, document_id=doc.id, purpose="preview")
    with pytest.raises(AccessDenied):
        svc.list_versions(cast.patient, doc.id)
    # the care team still sees it all
    assert svc.list_documents(cast.doctor, patient_id=cast.patient_id).items[0].title == "Biopsy result"
    # releasing it gives the patient the content
    svc.set_hold(cast.doctor, document_id=doc.id, release_on=None)
    assert b"".join(svc.open_file(cast.patient, document_id=doc.id).chunks) == PDF_BYTES


def _held_among_probes(cast):
    """A lab result held from the patient (real title "Zebra biopsy", real source "Aardvark Oncology"),
    and three lab results the patient uploads to probe where it sorts. Returns the held one."""
    release = (utcnow().date() + timedelta(days=7)).isoformat()
    held = _upload(cast.doctor, cast, title="Zebra biopsy", source="Aardvark Oncology", hold_until=release)
    for title, source in (("Kiwi", "Aardvark Clinic"), ("Mango", "Mango Clinic"), ("Zz", "Zz Clinic")):
        _upload(cast.patient, cast, title=title, source=source)
    return held


def _titles(page) -> list[str]:
    return [d.title for d in page.items]


@pytest.mark.parametrize("sort", ["title", "category"])
def test_held_document_sorts_by_its_shown_label_not_its_real_title(cast, sort):
    held = _held_among_probes(cast)
    seen = svc.list_documents(cast.patient, patient_id=cast.patient_id, sort=sort)
    assert _titles(seen) == ["Kiwi", "Lab result", "Mango", "Zz"]  # "Lab result" is all the patient sees
    assert seen.items[1].id == held.id
    for page in (1, 2, 3, 4):  # paging one at a time tells no more than the whole list
        one = svc.list_documents(cast.patient, patient_id=cast.patient_id, sort=sort, page=page, page_size=1)
        assert one.items[0].id == seen.items[page - 1].id
    # the care team sorts on what it sees: the real title
    assert _titles(svc.list_documents(cast.doctor, patient_id=cast.patient_id, sort=sort)) == [
        "Kiwi", "Mango", "Zebra biopsy", "Zz"]


def test_held_document_sorts_by_source_as_if_it_had_none(cast):
    held = _held_among_probes(cast)
    seen = svc.list_documents(cast.patient, patient_id=cast.patient_id, sort="source")
    # the real source "Aardvark Oncology" would put it second; shown without a source it goes last
    assert [d.source for d in seen.items] == ["Aardvark Clinic", "Mango Clinic", "Zz Clinic", None]
    assert seen.items[-1].id == held.id
    assert [d.source for d in svc.list_documents(cast.doctor, patient_id=cast.patient_id, sort="source").items] \
        == ["Aardvark Clinic", "Aardvark Oncology", "Mango Clinic", "Zz Clinic"]


def test_search_and_counts_see_only_what_the_patient_sees_of_a_held_document(cast):
    held = _held_among_probes(cast)

    def found(actor, **filters):
        page = svc.list_documents(actor, patient_id=cast.patient_id, **filters)
        return page.total, {d.id for d in page.items}

    assert found(cast.patient)[0] == 4  # that it exists is shown (with its release date)
    assert found(cast.patient, source="oncology") == (0, set())
    total, ids = found(cast.patient, source="aardvark")
    assert total == 1 and held.id not in ids
    assert found(cast.patient, source="aardvark oncology")[0] == 0
    assert found(cast.patient, category="lab_result")[0] == 4  # its category is shown, so it counts there
    assert found(cast.doctor, source="oncology") == (1, {held.id})
    assert found(cast.doctor, source="aardvark")[0] == 2


def test_hold_ends_on_its_release_date(cast, monkeypatch):
    doc = _upload(cast.doctor, cast)
    svc.set_hold(cast.doctor, document_id=doc.id, release_on=(utcnow().date() + timedelta(days=2)).isoformat())
    later = utcnow().date() + timedelta(days=2)
    monkeypatch.setattr(svc, "_today", lambda: later)
    assert not svc.list_documents(cast.patient, patient_id=cast.patient_id).items[0].restricted


@pytest.mark.parametrize(("role", "allowed"), [
    ("admin", True), ("doctor", True), ("other_doctor", False), ("staff", False), ("patient", False),
    ("other_patient", False),
])
def test_who_may_hold_a_document(cast, role, allowed):
    doc = _upload(cast.doctor, cast)
    release = (utcnow().date() + timedelta(days=3)).isoformat()
    assert _ok(lambda: svc.set_hold(getattr(cast, role), document_id=doc.id, release_on=release)) is allowed


def test_hold_rules(cast):
    card = _upload(cast.staff, cast, "insurance_card", PNG_BYTES, "card.png")
    with pytest.raises(AccessDenied):
        svc.set_hold(cast.admin, document_id=card.id, release_on=(utcnow().date() + timedelta(days=3)).isoformat())
    lab = _upload(cast.doctor, cast)
    with pytest.raises(DocumentInvalid):
        svc.set_hold(cast.doctor, document_id=lab.id, release_on=utcnow().date().isoformat())
    with pytest.raises(DocumentInvalid):
        _upload(cast.patient, cast, hold_until=(utcnow().date() + timedelta(days=3)).isoformat())


# ---------------------------------------------------------------- versions


def test_new_version_keeps_earlier_ones_with_who_replaced_them(cast):
    doc = _upload(cast.doctor, cast)
    corrected = PDF_BYTES.replace(b"5.6", b"5.9")
    updated = svc.upload_version(cast.admin, document_id=doc.id, filename="lab-corrected.pdf",
                                 chunks=chunks_of(corrected))
    assert updated.version == 2
    versions = svc.list_versions(cast.patient, doc.id)
    assert [(v.number, v.current, v.filename) for v in versions] == [(2, True, "lab-corrected.pdf"),
                                                                     (1, False, "lab.pdf")]
    assert versions[1].replaced_by_name == "Ada Admin" and versions[1].replaced_at is not None
    assert b"".join(svc.open_file(cast.patient, document_id=doc.id).chunks) == corrected
    assert b"".join(svc.open_file(cast.patient, document_id=doc.id, version=1).chunks) == PDF_BYTES
    with pytest.raises(DocumentNotFound):
        svc.open_file(cast.patient, document_id=doc.id, version=3)


@pytest.mark.parametrize(("role", "allowed"), [
    ("admin", True), ("doctor", True), ("other_doctor", False), ("staff", False), ("patient", False),
    ("other_patient", False),
])
def test_who_may_add_a_version_to_a_clinicians_document(cast, role, allowed):
    doc = _upload(cast.doctor, cast)
    assert _ok(lambda: svc.upload_version(getattr(cast, role), document_id=doc.id, filename="v2.pdf",
                                          chunks=chunks_of(PDF_BYTES))) is allowed


def test_patient_may_correct_their_own_upload(cast):
    doc = _upload(cast.patient, cast, "medical_document")
    assert svc.upload_version(cast.patient, document_id=doc.id, filename="mine.pdf",
                              chunks=chunks_of(PDF_BYTES)).version == 2


# ---------------------------------------------------------------- removal and purge


@pytest.mark.parametrize(("role", "allowed"), [
    ("admin", True), ("doctor", True), ("other_doctor", False), ("staff", False), ("patient", False),
    ("other_patient", False),
])
def test_who_may_remove_a_document(cast, role, allowed):
    doc = _upload(cast.doctor, cast)
    assert _ok(lambda: svc.remove(getattr(cast, role), document_id=doc.id, reason="Filed to wrong patient")) is allowed


def test_only_the_author_of_a_care_team_removes_it(cast):
    colleague = Actor(user_id=uuid.uuid4(), role=Role.DOCTOR, display_name="Dr Col", session_id=uuid.uuid4())
    with unit_of_work() as session:
        session.add(CareTeamMember(patient_id=cast.patient_id, user_id=colleague.user_id))
    doc = _upload(cast.doctor, cast)
    with pytest.raises(AccessDenied):
        svc.remove(colleague, document_id=doc.id, reason="not mine to remove")
    mine = _upload(cast.patient, cast, "medical_document")
    svc.remove(cast.patient, document_id=mine.id, reason="uploaded by mistake")


def test_removed_document_disappears_needs_a_reason_and_can_be_restored(cast):
    doc = _upload(cast.doctor, cast)
    with pytest.raises(DocumentInvalid):
        svc.remove(cast.doctor, document_id=doc.id, reason=" ")
    svc.remove(cast.doctor, document_id=doc.id, reason="Duplicate upload")
    assert svc.list_documents(cast.patient, patient_id=cast.patient_id).total == 0
    with pytest.raises(DocumentNotFound):
        svc.open_file(cast.doctor, document_id=doc.id)
    admin_view = svc.list_documents(cast.admin, patient_id=cast.patient_id, include_removed=True).items
    assert admin_view[0].status == "deleted" and admin_view[0].delete_reason == "Duplicate upload"
    with pytest.raises(DocumentNotFound):  # only admins see removed documents at all
        svc.restore(cast.doctor, document_id=doc.id)
    svc.restore(cast.admin, document_id=doc.id)
    assert svc.list_documents(cast.patient, patient_id=cast.patient_id).total == 1


@pytest.mark.parametrize("role", ["doctor", "other_doctor", "staff", "patient", "other_patient"])
def test_only_admins_purge(cast, role):
    doc = _upload(cast.doctor, cast)
    svc.remove(cast.doctor, document_id=doc.id, reason="Duplicate upload")
    with pytest.raises(AccessDenied):
        svc.purge(getattr(cast, role), document_id=doc.id, now=utcnow() + timedelta(days=400))
    assert _denied_events("document.purge")


def test_purge_waits_for_retention_then_erases_blob_and_keeps_a_tombstone(cast, monkeypatch):
    monkeypatch.setenv("PORTAL_DOCUMENT_PURGE_AFTER_DAYS", "10")
    from patient_portal.settings import reset_settings

    reset_settings()
    doc = _upload(cast.doctor, cast)
    svc.upload_version(cast.doctor, document_id=doc.id, filename="v2.pdf", chunks=chunks_of(PDF_BYTES))
    store = get_blob_store()
    assert len(list(store.keys())) == 2
    with pytest.raises(svc.PurgeTooEarly, match="Remove it first"):
        svc.purge(cast.admin, document_id=doc.id)
    svc.remove(cast.doctor, document_id=doc.id, reason="Wrong patient")
    with pytest.raises(svc.PurgeTooEarly, match="kept for 10 days"):
        svc.purge(cast.admin, document_id=doc.id, now=utcnow() + timedelta(days=9))
    svc.purge(cast.admin, document_id=doc.id, now=utcnow() + timedelta(days=10, minutes=1))
    assert list(store.keys()) == []
    with unit_of_work() as session:
        tomb = session.get(Document, doc.id)
        assert tomb.status == "purged" and tomb.title is None and tomb.purged_by == cast.admin.user_id
        versions = session.exec(select(DocumentVersion).where(DocumentVersion.document_id == doc.id)).all()
        assert len(versions) == 2 and all(v.wrapped_key is None and v.sha256 for v in versions)
        actions = [e.action for e in session.exec(select(AuditEvent).order_by(AuditEvent.seq)).all()]
        assert "document.delete" in actions and "document.purge" in actions
        assert verify_chain(session).ok
    with pytest.raises(DocumentNotFound):
        svc.open_file(cast.admin, document_id=doc.id)


def test_signed_out_actor_is_refused(cast):
    doc = _upload(cast.doctor, cast)
    with pytest.raises(AccessDenied, match="sign in"):
        svc.open_file(None, document_id=doc.id)
    with pytest.raises(DocumentNotFound):
        svc.open_file(cast.doctor, document_id="not-a-uuid")
