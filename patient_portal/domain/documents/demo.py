"""Demo documents for `portal seed`: small real files (PDF lab results, visit summaries, imaging
reports; PNG insurance cards and photo IDs) drawn in code for about one patient in seven, and a fuller
set for the demo patient account's record.

Each file goes through ``documents.service.upload`` as the person who would add it — a doctor on the
patient's care team for clinical documents, the front desk for administrative ones, the patient for
what they provide — so it is type-checked, encrypted with its own data key into the BlobStore and
audited as in real use. Idempotent: a record that has any document gets no demo documents.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import select

from patient_portal.core.access import AccessDenied, Actor
from patient_portal.core.db import unit_of_work
from patient_portal.core.pdf import pdf
from patient_portal.domain.demo import DemoClinic, DemoPatient, seeded
from patient_portal.domain.documents.models import Category, Document

CLINIC = "Demo Clinic"
CLINIC_ADDRESS = "12 Harbor Street, Boston, MA 02110"
LAB = "Demo Clinic Laboratory"
SHARE = 0.15  # of the generated patients have documents (about 30 of 200)
FOOTER = "Synthetic demo data - not a real person or a real result."


@dataclass(frozen=True)
class DemoFile:
    """One document to upload: its metadata (as the upload form sends it), file and who adds it."""

    uploader: Actor
    meta: dict[str, str]
    filename: str
    data: bytes


# ---------------------------------------------------------------- tiny real files


def card_png(title: str, rows: list[tuple[str, str]], *, colour: tuple[int, int, int], stamp: str,
             photo: bool = False) -> bytes:
    """A wallet-card-sized PNG (ID-1 proportions): a coloured band with `title`, label/value rows, a stamp."""
    from PIL import Image, ImageDraw, ImageFont

    width, height = 512, 323
    image = Image.new("RGB", (width, height), (250, 250, 247))
    draw = ImageDraw.Draw(image)
    big, small, tiny = (ImageFont.load_default(size=s) for s in (22, 16, 12))
    draw.rounded_rectangle((0, 0, width - 1, height - 1), radius=18, outline=(180, 180, 175), width=2)
    draw.rectangle((2, 16, width - 3, 64), fill=colour)
    draw.text((20, 26), title, fill=(255, 255, 255), font=big)
    left = 20
    if photo:
        draw.rectangle((20, 84, 130, 224), fill=(215, 218, 224))
        draw.ellipse((52, 100, 98, 146), fill=(170, 175, 186))
        draw.pieslice((36, 150, 114, 230), 180, 360, fill=(170, 175, 186))
        left = 150
    y = 84
    for label, value in rows:
        draw.text((left, y), label.upper(), fill=(110, 110, 110), font=tiny)
        draw.text((left, y + 14), value, fill=(20, 20, 20), font=small)
        y += 40
    draw.text((20, height - 30), stamp, fill=(160, 40, 40), font=tiny)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def readings_png(name: str, readings: list[tuple[str, int, int]]) -> bytes:
    """A patient's photo of their home blood-pressure log, as a PNG chart."""
    from PIL import Image, ImageDraw, ImageFont

    width, height = 640, 360
    image = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    font, small = ImageFont.load_default(size=18), ImageFont.load_default(size=12)
    draw.text((24, 16), f"Home blood pressure - {name}", fill=(20, 20, 20), font=font)
    top, bottom, left, right = 60, 300, 60, width - 24
    for value in (80, 100, 120, 140, 160):
        y = bottom - (value - 60) * (bottom - top) // 110
        draw.line((left, y, right, y), fill=(225, 225, 225))
        draw.text((20, y - 7), str(value), fill=(110, 110, 110), font=small)
    step = (right - left) // max(1, len(readings) - 1)
    for series, colour in ((1, (200, 60, 60)), (2, (60, 90, 200))):
        points = [(left + n * step, bottom - (r[series] - 60) * (bottom - top) // 110) for n, r in enumerate(readings)]
        draw.line(points, fill=colour, width=3)
        for x, y in points:
            draw.ellipse((x - 4, y - 4, x + 4, y + 4), fill=colour)
    for n, (day, _s, _d) in enumerate(readings):
        draw.text((left + n * step - 14, bottom + 10), day, fill=(110, 110, 110), font=small)
    draw.text((24, height - 24), "Red: systolic, blue: diastolic (mmHg). " + FOOTER, fill=(110, 110, 110),
              font=small)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


# ---------------------------------------------------------------- what each document says


def _header(title: str, patient: DemoPatient) -> list[tuple[int, str]]:
    basic = patient.person.draft.basic
    return [(18, f"{CLINIC} - {title}"), (10, CLINIC_ADDRESS), (0, ""),
            (11, f"Patient: {basic['given_name']} {basic['family_name']}    DOB: {basic['date_of_birth']}    "
                 f"MRN: {patient.person.mrn}"), (0, "")]


def _lab(patient: DemoPatient, title: str, rows: list[tuple[str, ...]], on: date,
         ordered_by: Actor) -> bytes:
    lines = _header(title, patient)
    lines += [(11, f"Collected: {on.isoformat()}    Ordered by: {ordered_by.display_name}    Lab: {LAB}"), (0, ""),
              (11, ("Test", "Result", "Units", "Reference range"))]
    lines += [(11, row) for row in rows]
    lines += [(0, ""), (10, "H = above the reference range, L = below it."), (0, ""), (9, FOOTER)]
    return pdf(lines)


def _flag(value: float, low: float | None, high: float | None) -> str:
    return " H" if high is not None and value > high else " L" if low is not None and value < low else ""


def lipid_panel(rng: random.Random, patient: DemoPatient, on: date, doctor: Actor) -> DemoFile:
    total, hdl, trig = rng.randint(165, 265), rng.randint(34, 78), rng.randint(70, 260)
    ldl = max(50, total - hdl - trig // 5)
    rows = [("Total cholesterol", f"{total}{_flag(total, None, 199)}", "mg/dL", "< 200"),
            ("LDL cholesterol (calculated)", f"{ldl}{_flag(ldl, None, 99)}", "mg/dL", "< 100"),
            ("HDL cholesterol", f"{hdl}{_flag(hdl, 40, None)}", "mg/dL", "> 40"),
            ("Triglycerides", f"{trig}{_flag(trig, None, 149)}", "mg/dL", "< 150")]
    return DemoFile(doctor, {"category": Category.LAB_RESULT, "title": "Lipid panel", "service_date": on.isoformat(),
                             "source": LAB}, f"lipid-panel-{on.isoformat()}.pdf",
                    _lab(patient, "Lipid panel", rows, on, doctor))


def a1c(rng: random.Random, patient: DemoPatient, on: date, doctor: Actor) -> DemoFile:
    value = rng.randint(62, 92) / 10
    rows = [("Hemoglobin A1c", f"{value:.1f}{_flag(value, None, 5.6)}", "%", "< 5.7"),
            ("Estimated average glucose", f"{round(28.7 * value - 46.7)}", "mg/dL", "")]
    return DemoFile(doctor, {"category": Category.LAB_RESULT, "title": "Hemoglobin A1c",
                             "service_date": on.isoformat(), "source": LAB}, f"hba1c-{on.isoformat()}.pdf",
                    _lab(patient, "Hemoglobin A1c", rows, on, doctor))


def blood_count(rng: random.Random, patient: DemoPatient, on: date, doctor: Actor) -> DemoFile:
    wbc, hgb, plt = rng.randint(38, 112) / 10, rng.randint(108, 168) / 10, rng.randint(140, 420)
    rows = [("White blood cells", f"{wbc:.1f}{_flag(wbc, 4.0, 11.0)}", "x10^3/uL", "4.0 - 11.0"),
            ("Hemoglobin", f"{hgb:.1f}{_flag(hgb, 12.0, 17.5)}", "g/dL", "12.0 - 17.5"),
            ("Platelets", f"{plt}{_flag(plt, 150, 400)}", "x10^3/uL", "150 - 400")]
    return DemoFile(doctor, {"category": Category.LAB_RESULT, "title": "Complete blood count",
                             "service_date": on.isoformat(), "source": LAB}, f"cbc-{on.isoformat()}.pdf",
                    _lab(patient, "Complete blood count (CBC)", rows, on, doctor))


def metabolic_panel(rng: random.Random, patient: DemoPatient, on: date, doctor: Actor) -> DemoFile:
    sodium, potassium = rng.randint(134, 145), rng.randint(34, 52) / 10
    creatinine, glucose = rng.randint(6, 16) / 10, rng.randint(72, 160)
    rows = [("Sodium", f"{sodium}{_flag(sodium, 135, 145)}", "mmol/L", "135 - 145"),
            ("Potassium", f"{potassium:.1f}{_flag(potassium, 3.5, 5.1)}", "mmol/L", "3.5 - 5.1"),
            ("Creatinine", f"{creatinine:.1f}{_flag(creatinine, 0.6, 1.3)}", "mg/dL", "0.6 - 1.3"),
            ("Glucose, fasting", f"{glucose}{_flag(glucose, 70, 99)}", "mg/dL", "70 - 99")]
    return DemoFile(doctor, {"category": Category.LAB_RESULT, "title": "Basic metabolic panel",
                             "service_date": on.isoformat(), "source": LAB}, f"bmp-{on.isoformat()}.pdf",
                    _lab(patient, "Basic metabolic panel", rows, on, doctor))


def chest_xray(rng: random.Random, patient: DemoPatient, on: date, doctor: Actor) -> DemoFile:
    clear = rng.random() < .8
    lines = _header("Radiology report", patient)
    lines += [(11, f"Exam: Chest X-ray, 2 views (PA and lateral)    Date: {on.isoformat()}"),
              (11, f"Ordered by: {doctor.display_name}    Reason: cough for three weeks"), (0, ""),
              (12, "Findings"),
              (11, "The lungs are clear. No pleural effusion or pneumothorax." if clear
               else "Mild peribronchial thickening. No focal consolidation, effusion or pneumothorax."),
              (11, "Heart size is normal. The mediastinum is unremarkable."), (0, ""), (12, "Impression"),
              (11, "No acute cardiopulmonary process." if clear
               else "Findings may reflect bronchitis or reactive airway disease; no pneumonia."),
              (0, ""), (9, FOOTER)]
    return DemoFile(doctor, {"category": Category.IMAGING, "title": "Chest X-ray report",
                             "service_date": on.isoformat(), "source": "Demo Clinic Radiology"},
                    f"chest-xray-{on.isoformat()}.pdf", pdf(lines))


def visit_summary(rng: random.Random, patient: DemoPatient, on: date, doctor: Actor) -> DemoFile:
    history = patient.person.draft.history
    active = [c for c in history.get("conditions", []) if c.get("status") == "active"]
    reason = (f"Follow-up: {active[0]['description'].split(',')[0]}" if active and rng.random() < .6
              else "Annual wellness visit")
    lines = _header("Visit summary", patient)
    lines += [(11, f"Date of visit: {on.isoformat()}    Clinician: {doctor.display_name}"),
              (11, f"Reason for visit: {reason}"), (0, ""), (12, "Problems")]
    lines += [(11, f"- {c['description']} ({c['code']})") for c in active[:6]] or [(11, "- None on file")]
    lines += [(0, ""), (12, "Medications")]
    lines += [(11, f"- {m['name']}, {m.get('dose', '')} {m.get('frequency', '')}".rstrip())
              for m in history.get("medications", [])[:6]] or [(11, "- None")]
    lines += [(0, ""), (12, "Plan"),
              (11, rng.choice(("Continue current medicines. Recheck in 6 months.",
                               "Labs before the next visit. Return in 3 months.",
                               "Lifestyle advice given (diet, activity). Follow up in one year."))),
              (0, ""), (9, FOOTER)]
    return DemoFile(doctor, {"category": Category.MEDICAL, "title": "Visit summary", "service_date": on.isoformat(),
                             "source": CLINIC}, f"visit-summary-{on.isoformat()}.pdf", pdf(lines))


def health_care_proxy(rng: random.Random, patient: DemoPatient, on: date, doctor: Actor) -> DemoFile:
    basic = patient.person.draft.basic
    agent = patient.person.draft.emergency[0] if patient.person.draft.emergency else {"name": "-", "relationship": "-"}
    lines = _header("Health care proxy", patient)
    lines += [(11, f"I, {basic['given_name']} {basic['family_name']}, appoint {agent['name']} "
                   f"({agent['relationship'].lower()})"),
              (11, "as my health care agent to make any and all health care decisions for me,"),
              (11, "except to the extent I state otherwise, if I am unable to make them myself."), (0, ""),
              (11, f"Signed on {on.isoformat()} before two witnesses. Copy received by {CLINIC}."), (0, ""),
              (9, FOOTER)]
    return DemoFile(doctor, {"category": Category.ADVANCE_DIRECTIVE, "title": "Health care proxy",
                             "service_date": on.isoformat(), "source": "Provided at the front desk"},
                    "health-care-proxy.pdf", pdf(lines))


PAYER_COLOURS = {"Medicare": (30, 70, 140), "MassHealth": (20, 110, 120)}


def insurance_card(rng: random.Random, patient: DemoPatient, on: date, desk: Actor) -> DemoFile | None:
    policies = patient.person.draft.insurance
    if not policies:
        return None
    policy, basic = policies[0], patient.person.draft.basic
    member = policy.get("subscriber_name") if policy.get("relationship") not in (None, "", "self") else None
    rows = [("Member", f"{basic['given_name']} {basic['family_name']}"), ("Member ID", policy["member_id"])]
    if policy.get("group_number"):
        rows.append(("Group", policy["group_number"]))
    rows.append(("Plan", policy.get("plan") or "-"))
    if member:
        rows.append(("Subscriber", member))
    colour = PAYER_COLOURS.get(policy["payer"], (rng.randint(20, 90), rng.randint(60, 120), rng.randint(120, 180)))
    data = card_png(policy["payer"][:36], rows, colour=colour, stamp="DEMO CARD - NOT VALID FOR COVERAGE")
    return DemoFile(desk, {"category": Category.INSURANCE_CARD, "title": f"{policy['payer']} card (front)",
                           "service_date": on.isoformat(), "source": "Scanned at the front desk"},
                    "insurance-card-front.png", data)


def photo_id(rng: random.Random, patient: DemoPatient, on: date, desk: Actor) -> DemoFile:
    basic = patient.person.draft.basic
    rows = [("Name", f"{basic['given_name']} {basic['family_name']}"), ("Date of birth", basic["date_of_birth"]),
            ("Address", f"{basic.get('address_line1', '')}, {basic.get('city', '')}"[:40]),
            ("Checked", f"{on.isoformat()} by {desk.display_name}")]
    data = card_png("Photo identification", rows, colour=(90, 90, 100), stamp="DEMO IMAGE - NOT AN IDENTITY DOCUMENT",
                    photo=True)
    return DemoFile(desk, {"category": Category.IDENTITY, "title": "Photo ID", "service_date": on.isoformat(),
                           "source": "Scanned at the front desk"}, "photo-id.png", data)


# ---------------------------------------------------------------- who gets what


def _days_ago(rng: random.Random, today: date, low: int, high: int) -> date:
    return today - timedelta(days=rng.randint(low, high))


def plan(clinic: DemoClinic, patient: DemoPatient) -> list[DemoFile]:
    """The documents one generated patient gets (none for most): 1-3, clinical and administrative."""
    person, today = patient.person, clinic.today
    rng = seeded(f"demo-documents-{person.index}")
    if rng.random() >= SHARE:
        return []
    doctor, desk = clinic.doctor(person.doctors[0]), clinic.front_desk(person.index)
    codes, age = set(person.condition_codes), person.age
    clinical = [visit_summary, blood_count]
    if age >= 18:
        clinical.append(lipid_panel)
    if "E11.9" in codes:
        clinical.append(a1c)
    if codes & {"I10", "N18.30"} or age >= 50:
        clinical.append(metabolic_panel)
    if codes & {"J44.9", "J45.909"} or rng.random() < .3:
        clinical.append(chest_xray)
    if age >= 65:
        clinical.append(health_care_proxy)
    administrative = [insurance_card] + ([photo_id] if age >= 18 else [])
    count = rng.choice((1, 1, 2, 2, 3))
    admin_count = min(len(administrative), 1 if count > 1 or rng.random() < .4 else 0)
    makers = rng.sample(clinical, min(len(clinical), count - admin_count)) + rng.sample(administrative, admin_count)
    out = []
    for make in makers:
        who = desk if make in (insurance_card, photo_id) else doctor
        made = make(rng, patient, _days_ago(rng, today, 3, 400), who)
        if made is not None:
            out.append(made)
    return out


def plan_for_demo_account(clinic: DemoClinic, patient: DemoPatient) -> list[DemoFile]:
    """The demo patient account's record: a lab result, a visit summary, the insurance card and
    something the patient added themselves."""
    rng = seeded("demo-documents-account")
    doctor, desk, today = clinic.doctors[0], clinic.staff[0], clinic.today
    files = [lipid_panel(rng, patient, today - timedelta(days=41), doctor),
             visit_summary(rng, patient, today - timedelta(days=38), doctor),
             insurance_card(rng, patient, today - timedelta(days=120), desk)]
    if clinic.patient is not None:
        readings = [((today - timedelta(days=d)).strftime("%b %d"), rng.randint(124, 146), rng.randint(78, 92))
                    for d in (13, 11, 9, 7, 5, 3, 1)]
        name = patient.person.draft.basic["given_name"] + " " + patient.person.draft.basic["family_name"]
        files.append(DemoFile(clinic.patient, {"category": Category.MEDICAL, "title": "Home blood pressure readings",
                                               "service_date": (today - timedelta(days=1)).isoformat(),
                                               "note": "Taken each morning before my medicine."},
                              "blood-pressure-log.png", readings_png(name, readings)))
    return [f for f in files if f is not None]


def _has_documents(patient_id) -> bool:
    with unit_of_work() as session:
        return session.exec(select(Document.id).where(Document.patient_id == patient_id)).first() is not None


def seed_documents(clinic: DemoClinic) -> int:
    """Upload the demo documents of every record that has none yet; returns how many were added."""
    from patient_portal.domain.documents import service

    added = 0
    account_record = clinic.patient.patient_id if clinic.patient is not None else None
    for patient in clinic.patients:
        files = (plan_for_demo_account(clinic, patient) if patient.id == account_record
                 else plan(clinic, patient) if patient.person.index >= 0 else [])
        if not files or _has_documents(patient.id):
            continue
        for demo_file in files:
            try:
                service.upload(demo_file.uploader, patient_id=patient.id, meta=demo_file.meta,
                               filename=demo_file.filename, chunks=[demo_file.data])
            except AccessDenied:  # someone took that doctor off the care team since: leave it out
                continue
            added += 1
    return added

