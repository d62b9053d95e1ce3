"""The administrator's home: a card for each part of running the clinic (the header's menus hold the
same pages, grouped)."""

from __future__ import annotations

import reflex as rx

from patient_portal.components.layout import PRODUCT_NAME, card_grid, link_card, page_header, role_shell
from patient_portal.state.session import SessionState


@rx.page(route="/admin", title=f"Administration — {PRODUCT_NAME}", on_load=SessionState.require("admin"))
def admin_dashboard() -> rx.Component:
    return role_shell(
        "admin",
        page_header("Welcome, " + SessionState.display_name, "Administration"),
        card_grid(
            link_card("user-cog", "Users", "Create accounts, change roles, unlock sign-ins, see who is signed "
                      "in where.", "/admin/users"),
            link_card("shield", "Permission sets", "Narrow a role: front desk, billing … never beyond the role.",
                      "/admin/permissions"),
            link_card("heart-handshake", "Care teams", "Which doctor is on which patient's team; take one off.",
                      "/admin/care-teams"),
            link_card("graduation-cap", "Training", "Policies and training people must acknowledge; who has not.",
                      "/admin/training"),
            link_card("users", "Patients", "Find, register and update patients; their charts and documents.",
                      "/admin/patients"),
            link_card("clipboard-check", "Review queue", "Identity checks for new sign-ups and patients' "
                      "requests to change legal details.", "/admin/review"),
            link_card("calendar-cog", "Scheduling", "Visit types, doctors' hours and exceptions, the clinic's booking "
                      "rules, no-show rates.", "/admin/scheduling"),
            link_card("scroll-text", "Audit log", "Who did what to which record, filterable; check the chain is "
                      "intact.", "/admin/audit"),
            link_card("activity", "System health", "Database, storage, mail, keys, the audit chain, jobs, backups and "
                      "errors: what needs you.", "/admin/health"),
            link_card("chart-column", "Reports", "Registrations, appointments and no-shows, claims, denials, A/R, "
                      "payments, age bands, access anomalies.", "/admin/reports"),
            link_card("settings", "Settings", "The clinic's name, time zone, opening hours, session lengths, MFA and "
                      "the closing words of emails.", "/admin/settings"),
            link_card("list-checks", "Data quality", "Likely duplicate patients and records missing what the clinic "
                      "needs.", "/admin/data-quality"),
            link_card("git-merge", "Merge records", "Fold a duplicate patient into the record kept; undo it exactly.",
                      "/admin/merge"),
            link_card("archive-x", "Retention", "What the portal deletes once it is past its time; clean up now.",
                      "/admin/retention"),
        ),
        title="Admin dashboard",
    )
