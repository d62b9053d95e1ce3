"""The patient chart for staff, doctors and admins: /chart/<patient id>.

The chart header (state.chart_header, the same on every /chart/<id>/… page, read with the chart in
one unit: one audit event) comes first, then the sections this role may see.

Staff see demographics, contacts, insurance and emergency contacts; doctors (care team only) also
the clinical history, which they can edit; a patient opening someone else's chart sees "Not permitted".
"""

from __future__ import annotations

import reflex as rx

from patient_portal.components.chart_header import chart_header
from patient_portal.components.emergency import chart_refused, withheld_notice
from patient_portal.components.feedback import checking
from patient_portal.components.layout import PRODUCT_NAME, role_shell
from patient_portal.pages.emergency.pages import info_card
from patient_portal.pages.patients.chart_sections import (
    care_team_card,
    details_card,
    history_card,
    missing_view,
    rows_card,
)
from patient_portal.state.chart import ChartState as C
from patient_portal.state.emergency import EmergencyInfoState
from patient_portal.state.session import SessionState


def chart_view() -> rx.Component:
    return rx.vstack(
        chart_header(),
        rx.flex(
            rx.cond(C.can["emergency_runs"], rx.link(  # start a protocol, its checklist (doctors, front desk)
                rx.button(rx.icon("siren", size=16), "Emergency", variant="soft", color_scheme="red", high_contrast=True,
                          size="3"),
                href="/chart/" + C.patient_ref + "/emergency",
                id="chart-emergency-link",
            )),
            rx.link(
                rx.button(rx.icon("files", size=16), "Documents", variant="soft", size="3"),
                href="/chart/" + C.patient_ref + "/documents",
                id="chart-documents-link",
            ),
            rx.cond(C.show_clinical, rx.link(  # doctors on the care team and admins read visit notes
                rx.button(rx.icon("notebook-pen", size=16), "Visits", variant="soft", size="3"),
                href="/chart/" + C.patient_ref + "/visits",
                id="chart-visits-link",
            )),
            rx.cond(C.show_clinical, rx.link(  # the care team and admins read and record vital signs
                rx.button(rx.icon("activity", size=16), "Vitals", variant="soft", size="3"),
                href="/chart/" + C.patient_ref + "/vitals",
                id="chart-vitals-link",
            )),
            rx.cond(C.show_clinical, rx.link(  # lab results: the care team reviews and releases, admins read
                rx.button(rx.icon("flask-conical", size=16), "Results", variant="soft", size="3"),
                href="/chart/" + C.patient_ref + "/results",
                id="chart-results-link",
            )),
            rx.cond(C.show_clinical, rx.link(  # prescriptions: care-team doctors write, admins read
                rx.button(rx.icon("pill", size=16), "Prescriptions", variant="soft", size="3"),
                href="/chart/" + C.patient_ref + "/prescriptions",
                id="chart-prescriptions-link",
            )),
            rx.cond(C.show_clinical, rx.link(  # care plans: care-team doctors write, admins read
                rx.button(rx.icon("clipboard-list", size=16), "Care plan", variant="soft", size="3"),
                href="/chart/" + C.patient_ref + "/careplan",
                id="chart-careplan-link",
            )),
            rx.cond(C.can["billing"], rx.link(  # coverage, eligibility, charges, claims, payments (staff, admins)
                rx.button(rx.icon("receipt", size=16), "Billing", variant="soft", size="3"),
                href="/chart/" + C.patient_ref + "/billing",
                id="chart-billing-link",
            )),
            rx.link(  # consents, sensitive records, amendments, disclosures (what the role may see of them)
                rx.button(rx.icon("shield", size=16), "Privacy", variant="soft", size="3"),
                href="/chart/" + C.patient_ref + "/privacy",
                id="chart-privacy-link",
            ),
            rx.cond(C.show_clinical, rx.link(  # every clinical event, newest first (care team, admins)
                rx.button(rx.icon("history", size=16), "Timeline", variant="soft", size="3"),
                href="/chart/" + C.patient_ref + "/timeline",
                id="chart-timeline-link",
            )),
            spacing="2", wrap="wrap",
        ),
        rx.grid(  # UI.md: a clinician's chart leads with what they act on, on a phone too
            rx.cond(
                C.show_clinical,
                rx.vstack(
                    withheld_notice(C.withheld, id="chart-withheld"),
                    history_card("conditions", "No conditions recorded."),
                    history_card("medications", "No current medications."),
                    history_card("allergies", "No known allergies."),
                    history_card("immunizations", "No immunizations recorded."),
                    history_card("family_history", "No family history recorded."),
                    spacing="4", width="100%",
                ),
            ),
            rx.vstack(
                info_card(),
                details_card(),
                rows_card("insurance", C.can["edit_insurance"], "No insurance on file (self-pay)."),
                rows_card("emergency", C.can["edit_emergency"], "No emergency contacts on file."),
                care_team_card(),
                spacing="4", width="100%",
            ),
            columns=rx.breakpoints(initial="1", lg="2"),
            spacing="4",
            width="100%",
        ),
        spacing="4", width="100%",
    )


@rx.page(route="/chart/[pid]", title=f"Patient chart — {PRODUCT_NAME}",
         on_load=[SessionState.require("any"), C.load,  # C.load reads the header too
                  EmergencyInfoState.load])  # the emergency information: a read of its own
def patient_chart() -> rx.Component:
    return role_shell(
        "account",
        rx.match(C.status, ("ok", chart_view()), ("denied", chart_refused(C.patient_ref)),
                 ("missing", missing_view(C.merged_into)), checking()),
        title="Patient chart",
    )
