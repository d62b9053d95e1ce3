"""Navigation of each role's page tree: one list per role that areas append to.

Add a link from your page module (imported before the app compiles)::

    from patient_portal.components.navigation import NAV_ITEMS, NavItem
    NAV_ITEMS["staff"].append(NavItem("Appointments", "/staff/appointments", "calendar"))

``add_nav_item`` does the same and ignores duplicates. A staff, doctor or admin link names the
action its page needs (``needs=Action.REPORTS``): a person whose permission set leaves that action
out does not see the link (``SessionState.hidden_links``), as the page would refuse them anyway.
"""

from __future__ import annotations

from typing import NamedTuple

from patient_portal.core.access import Action


class NavItem(NamedTuple):
    label: str
    href: str
    icon: str = "circle"  # a lucide icon name
    #: the action (core.access.Action value) the page needs; "" for a page every holder of the role may open
    needs: str = ""


HOMES = {"admin": "/admin", "doctor": "/doctor", "staff": "/staff", "patient": "/patient"}

NAV_ITEMS: dict[str, list[NavItem]] = {
    "patient": [
        NavItem("Home", "/patient", "house"),
        NavItem("My record", "/patient/record", "heart-pulse"),
        NavItem("Documents", "/patient/documents", "file-text"),
    ],
    "staff": [
        NavItem("Dashboard", "/staff", "layout-dashboard"),
        NavItem("Patients", "/staff/patients", "users"),
        NavItem("Register patient", "/staff/register", "user-plus", Action.PATIENT_REGISTER.value),
    ],
    "doctor": [
        NavItem("Dashboard", "/doctor", "layout-dashboard"),
        NavItem("My patients", "/doctor/patients", "stethoscope", Action.PATIENT_WORKLIST.value),
    ],
    "admin": [
        NavItem("Dashboard", "/admin", "layout-dashboard"),
        NavItem("Users", "/admin/users", "user-cog", Action.USER_MANAGE.value),
    ],
}

#: The user menu, the same for every role.
USER_MENU: list[NavItem] = [
    NavItem("Profile", "/account", "user-round"),
    NavItem("Sign-in security", "/account/security", "shield-check"),
]


#: On a desktop a role's links stand in one row; where a role has more than fits, its links are put
#: under a few named menus (the section, by href) and the rest stay in the row. A phone's menu lists
#: them all. A link not named here stands in the row.
SECTIONS: dict[str, dict[str, str]] = {
    "admin": {
        **dict.fromkeys(("/admin/users", "/admin/permissions", "/admin/care-teams", "/admin/training"), "People"),
        **dict.fromkeys(("/admin/patients", "/admin/review", "/admin/merge", "/admin/data-quality"), "Records"),
        **dict.fromkeys(("/admin/settings", "/admin/scheduling", "/billing/claims", "/admin/protocols",
                         "/admin/apps"), "Clinic"),
        **dict.fromkeys(("/admin/audit", "/admin/reports", "/admin/emergency-access", "/admin/health",
                         "/admin/retention"), "Oversight"),
    },
    "patient": {
        **dict.fromkeys(("/patient/record", "/patient/results", "/patient/prescriptions", "/patient/visits",
                         "/patient/readings", "/patient/documents"), "My health"),
        **dict.fromkeys(("/patient/billing", "/account/apps", "/patient/access-log", "/patient/privacy"),
                        "Account"),
    },
}


def sectioned(role: str, items: list[NavItem]) -> tuple[list[NavItem], list[tuple[str, list[NavItem]]]]:
    """A role's links for the desktop row: those of no section, and each section with its links (in
    the order they were added)."""
    names = SECTIONS.get(role, {})
    row = [item for item in items if item.href not in names]
    groups: dict[str, list[NavItem]] = {name: [] for name in dict.fromkeys(names.values())}  # sections in order
    for item in items:
        if item.href in names:
            groups[names[item.href]].append(item)
    return row, [(name, links) for name, links in groups.items() if links]


def add_nav_item(role: str, label: str, href: str, icon: str = "circle", needs: Action | None = None) -> None:
    """Append a link to a role's navigation unless one with the same href exists; `needs` is the
    action its page asks for (the link is hidden from those whose permission set lacks it)."""
    items = NAV_ITEMS.setdefault(role, [])
    if all(item.href != href for item in items):
        items.append(NavItem(label, href, icon, needs.value if needs else ""))


def hidden_links(role: str, can) -> list[str]:
    """The hrefs of `role`'s links whose action `can` (an Actor's ``can``) refuses."""
    return [item.href for item in NAV_ITEMS.get(role, []) if item.needs and not can(Action(item.needs))]
