"""Training and security awareness: publish a policy or training document the chosen roles must
acknowledge (asked at their next sign-in), see who has acknowledged it, who has not, and retire it."""

from __future__ import annotations

import reflex as rx

from patient_portal.components.confirm import confirm_dialog
from patient_portal.components.feedback import error_callout, success_callout
from patient_portal.components.forms import labelled_control
from patient_portal.components.layout import PRODUCT_NAME, page_header, role_shell
from patient_portal.components.navigation import add_nav_item
from patient_portal.core.access import Action
from patient_portal.state.session import SessionState
from patient_portal.state.training import AdminTrainingState as S

TAP = "44px"
add_nav_item("admin", "Training", "/admin/training", "graduation-cap", needs=Action.TRAINING_MANAGE)


def _error(field: str):
    return rx.cond(S.form_errors.contains(field), S.form_errors[field], "")


def _publish_form() -> rx.Component:
    return rx.card(rx.el.form(rx.vstack(
        rx.heading("Publish a document", size="4", as_="h2"),
        labelled_control("Title", rx.input(name="title", id="training-title", size="3", width="100%", required=True),
                         "training-title", _error("title")),
        labelled_control("Text people must read", rx.text_area(name="body", id="training-body", rows="8", width="100%",
                                                              required=True), "training-body", _error("body")),
        rx.el.fieldset(
            rx.el.legend("Who must acknowledge it"),
            # no id on the boxes: an id adds the box's ref (a bool) to the form data, which must be text
            rx.hstack(*[rx.el.label(rx.hstack(rx.checkbox(name=f"role_{r}", size="3"),
                                              rx.text(r.capitalize()), spacing="2", align="center",
                                              min_height=TAP)) for r in ("staff", "doctor", "admin", "patient")],
                      spacing="4", wrap="wrap"),
            id="training-roles",
        ),
        rx.cond(_error("roles") != "", rx.text(_error("roles"), color=rx.color("red", 11), size="2")),
        rx.button("Publish", type="submit", size="3", min_height=TAP, id="training-publish"),
        spacing="3", width="100%",
    ), on_submit=S.publish, reset_on_submit=False, id="training-form"), width="100%")


def _document(doc) -> rx.Component:
    return rx.card(rx.vstack(
        rx.hstack(rx.heading(doc.title, size="3", as_="h3"),
                  rx.cond(doc.active, rx.badge("Asked", color_scheme="green", high_contrast=True),
                          rx.badge("Retired", color_scheme="gray", high_contrast=True)),
                  spacing="2", align="center", wrap="wrap"),
        rx.text("Published ", doc.published, " · for ", doc.roles.join(", "), size="2"),
        rx.text(doc.acknowledged.to_string() + " of " + doc.due.to_string() + " acknowledged", size="2",
                class_name="training-count"),
        rx.hstack(
            rx.button("Who has not", size="2", variant="outline", min_height=TAP, on_click=S.report(doc.id),
                      aria_label="Who has not acknowledged " + doc.title),
            rx.cond(doc.active, confirm_dialog(
                rx.button("Retire", size="2", variant="outline", color_scheme="red", high_contrast=True, min_height=TAP,
                          aria_label="Retire " + doc.title),
                "Retire “" + doc.title + "”?", "Nobody is asked to acknowledge it any more; the acknowledgements "
                "so far stay on record.", "Retire", S.retire(doc.id))),
            spacing="2", wrap="wrap",
        ),
        spacing="2", width="100%",
    ), width="100%")


def _report() -> rx.Component:
    return rx.cond(S.report_for != "", rx.card(rx.vstack(
        rx.heading("Not yet acknowledged: ", S.report_title, size="4", as_="h2"),
        rx.cond(S.outstanding.length() == 0, rx.text("Everyone asked has acknowledged it."),
                rx.el.ul(rx.foreach(S.outstanding, lambda p: rx.el.li(
                    rx.text(p.name, " — ", p.email, " (", p.role, "), last sign-in ", p.last_sign_in))),
                    style={"padding_left": "1.25rem"})),
        spacing="2", width="100%",
    ), width="100%", id="training-report"))


@rx.page(route="/admin/training", title=f"Training — {PRODUCT_NAME}",
         on_load=[SessionState.require("admin"), S.load])
def admin_training() -> rx.Component:
    return role_shell(
        "admin",
        page_header("Training and policies", "Documents people must acknowledge at their next sign-in"),
        rx.vstack(
            error_callout(S.error, id="training-error"),
            success_callout(S.message, id="training-message"),
            _report(),
            rx.cond(S.documents.length() == 0, rx.text("Nothing published yet — publish the first document below.")),
            rx.vstack(rx.foreach(S.documents, _document), spacing="3", width="100%", id="training-documents"),
            _publish_form(),
            spacing="4", width="100%",
        ),
        title="Training",
    )
