"""What appointments do when other areas say something happened (core.events; this module is in
``events.LISTENER_MODULES``). The other areas never import appointments."""

from __future__ import annotations

from typing import Any

from patient_portal.core import events


@events.listener(events.VISIT_SIGNED)
def fulfil_on_signing(session: Any, *, actor: Any, patient_id: Any, author_id: Any, visit_at: Any,
                      note_id: Any = None, **_facts: Any) -> None:
    """The signed note's visit fulfils the patient's appointment with its author that day."""
    from patient_portal.domain.appointments import service

    service.fulfil_visit(session, actor, patient_id=patient_id, doctor_id=author_id, visit_at=visit_at,
                         note_id=note_id)
