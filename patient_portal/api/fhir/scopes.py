"""SMART App Launch scopes (v2 grammar, v1 understood): do these scopes allow this interaction?

``(patient|user|system)/(Type|*).<cruds>`` with the permissions a subset of ``cruds`` in that order,
optionally followed by ``?param=value`` (a narrower grant: we honour it only as "not more"). SMART v1
``.read`` = ``.rs``, ``.write`` = ``.cud``, ``.*`` = ``.cruds``. Scopes only ever narrow: after them,
the area services still ask the policy decision.
"""

from __future__ import annotations

import re

#: A FHIR interaction -> the SMART permission letter it needs.
INTERACTIONS = {"create": "c", "read": "r", "vread": "r", "history": "r", "update": "u", "delete": "d",
                "search": "s", "everything": "r", "export": "r"}
V1 = {"read": "rs", "write": "cud", "*": "cruds"}
_SCOPE = re.compile(r"^(patient|user|system)/([A-Za-z]+|\*)\.([a-z*]+)(\?.*)?$")


def parse(scope: str) -> tuple[str, str, str] | None:
    """(context, resource type or "*", permission letters) of one clinical scope; None when it is not
    one (``openid``, ``launch`` …) or its permissions are not ``cruds`` in order."""
    found = _SCOPE.match(scope.strip())
    if not found:
        return None
    context, rtype, perms = found.group(1), found.group(2), found.group(3)
    perms = V1.get(perms, perms)
    if not perms or not re.fullmatch(r"c?r?u?d?s?", perms):
        return None
    return context, rtype, perms


def scope_allows(scopes: frozenset[str] | None, resource_type: str, interaction: str) -> bool:
    """True when `scopes` grant `interaction` on `resource_type`; None scopes (the portal's own
    session) allow everything the person may do. A conditional grant (``?category=…``) is taken as
    not granting a whole-type interaction, so it never widens."""
    if scopes is None:
        return True
    letter = INTERACTIONS.get(interaction)
    if letter is None:
        return False
    for scope in scopes:
        parsed = parse(scope)
        if parsed is None or "?" in scope:
            continue
        _context, rtype, perms = parsed
        if rtype in ("*", resource_type) and letter in perms:
            return True
    return False
