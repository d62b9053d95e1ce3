"""Profile: who is signed in, where to change sign-in security, and (patients) the phone app."""

from __future__ import annotations

import reflex as rx

from patient_portal.components.layout import PRODUCT_NAME, page_header, role_shell
from patient_portal.pages.account.phone_app import phone_app_card
from patient_portal.state.account import AccountState
from patient_portal.state.session import SessionState


def _row(label: str, value) -> rx.Component:
    return rx.data_list.item(rx.data_list.label(label), rx.data_list.value(value))


@rx.page(route="/account", title=f"Profile — {PRODUCT_NAME}",
         on_load=[SessionState.require("account"), AccountState.load])
def profile() -> rx.Component:
    return role_shell(
        "account",
        page_header("Profile", "Your account"),
        rx.card(
            rx.data_list.root(
                _row("Name", SessionState.display_name),
                _row("Email", AccountState.email),
                _row("Role", SessionState.role),
                _row("Two-step sign-in", rx.cond(AccountState.mfa_enabled, "On", "Off")),
                orientation=rx.breakpoints(initial="vertical", sm="horizontal"),
            ),
            width="100%",
        ),
        rx.link(rx.button("Sign-in security", size="3", min_height="44px", margin_top="1rem"),
                href="/account/security"),
        rx.cond(SessionState.role == "patient", phone_app_card()),
        title="Profile",
    )
