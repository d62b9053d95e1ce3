"""Navigation of each role's page tree: one list per role that areas append to.

Add a link from your page module (imported before the app compiles)::

    from patient_portal.components.navigation import NAV_ITEMS, NavItem
    NAV_ITEMS["staff"].append(NavItem("Appointments", "/staff/appointments", "calendar"))

``add_nav_item`` does the same and ignores duplicates.
"""

from __future__ import annotations

from typing import NamedTuple


class NavItem(NamedTuple):
    label: str
    href: str
    icon: str = "circle"  # a lucide icon name


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
        NavItem("Register patient", "/staff/register", "user-plus"),
    ],
    "doctor": [
        NavItem("Dashboard", "/doctor", "layout-dashboard"),
        NavItem("My patients", "/doctor/patients", "stethoscope"),
    ],
    "admin": [
        NavItem("Dashboard", "/admin", "layout-dashboard"),
        NavItem("Users", "/admin/users", "user-cog"),
    ],
}

#: The user menu, the same for every role.
USER_MENU: list[NavItem] = [
    NavItem("Profile", "/account", "user-round"),
    NavItem("Sign-in security", "/account/security", "shield-check"),
]


def add_nav_item(role: str, label: str, href: str, icon: str = "circle") -> None:
    """Append a link to a role's navigation unless one with the same href exists."""
    items = NAV_ITEMS.setdefault(role, [])
    if all(item.href != href for item in items):
        items.append(NavItem(label, href, icon))
