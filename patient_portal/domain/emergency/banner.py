"""The emergency part of the chart header's critical-information banner, in one statement (see
``banner``). No policy: ``domain.patients.header`` authorizes and audits, and asks only for roles
that read emergency information."""

from __future__ import annotations

import uuid

from sqlalchemy import and_
from sqlmodel import Session, select

from patient_portal.core.crypto import decrypt_value
from patient_portal.domain.emergency.dto import DIRECTIVE_KINDS, Banner
from patient_portal.domain.emergency.models import ACTIVE, EmergencyInfo, EmergencyRun
from patient_portal.domain.patients.models import Patient


def banner(session: Session, patient_id: uuid.UUID, *, with_run: bool) -> Banner:
    """The code status, the directives' kinds, the special instructions, and (`with_run`) the
    protocol in progress, in ONE statement (the patient row outer-joined to their emergency
    information and their active run)."""
    info, run = EmergencyInfo, EmergencyRun
    found = session.exec(
        select(info.id, info.code_status, info.directives, info.instructions, run.id, run.title, run.created_at)
        .select_from(Patient)
        .outerjoin(info, info.patient_id == Patient.id)  # type: ignore[arg-type]
        .outerjoin(run, and_(run.patient_id == Patient.id, run.status == ACTIVE))  # type: ignore[arg-type]
        .where(Patient.id == patient_id)).first()
    if found is None:
        return Banner()
    info_id, code, kinds, lines, run_id, title, started = found
    it, rt = info.__tablename__, run.__tablename__
    code_status = (decrypt_value("str", code, it, "code_status", info_id) or "") if info_id else ""
    directives = (decrypt_value("json", kinds, it, "directives", info_id) or []) if info_id else []
    instructions = (decrypt_value("json", lines, it, "instructions", info_id) or []) if info_id else []
    labels: list[str] = []
    for d in directives:
        label = DIRECTIVE_KINDS.get(d.get("kind", ""), "")
        if label and label not in labels:
            labels.append(label)
    active = with_run and run_id is not None
    return Banner(code_status=code_status, directives=tuple(labels), instructions=tuple(instructions),
                  run_id=str(run_id) if active else "",
                  run_title=decrypt_value("str", title, rt, "title", run_id) if active else "",
                  run_started=started if active else None)
