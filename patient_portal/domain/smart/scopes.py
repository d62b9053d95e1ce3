"""SMART scopes: the v2 grammar ``(patient|user|system)/(Type|*).cruds[?param=value]`` with v1
``.read``/``.write``/``.*`` understood (read = rs, write = cud, * = cruds), plus the launch and
identity scopes. Scopes only narrow: what an app gets is what it asked, the app may hold and the
person allowed — never more, and the policy decision is still asked on every call.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CONTEXT_SCOPES = frozenset({"openid", "fhirUser", "profile", "launch", "launch/patient", "offline_access",
                            "online_access"})
_RESOURCE = re.compile(r"^(patient|user|system)/(\*|[A-Z][A-Za-z]+)\.([a-z*]+)(\?[^\s]*)?$")
_V1 = {"read": "rs", "write": "cud", "*": "cruds"}
_ORDER = "cruds"


@dataclass(frozen=True)
class ResourceScope:
    context: str  # patient | user | system
    resource: str  # a FHIR type or *
    ops: str  # a subset of cruds, in that order
    query: str = ""

    def __str__(self) -> str:
        return f"{self.context}/{self.resource}.{self.ops}{self.query}"

    def covers(self, other: ResourceScope) -> bool:
        return (self.context == other.context and self.resource in ("*", other.resource)
                and set(other.ops) <= set(self.ops) and (not self.query or self.query == other.query))


def parse_resource(text: str) -> ResourceScope | None:
    """One resource scope in v2 form, or None when it is not one (v1 forms are translated)."""
    m = _RESOURCE.match(text)
    if not m:
        return None
    context, resource, ops, query = m.group(1), m.group(2), m.group(3), m.group(4) or ""
    if ops in _V1:
        ops = _V1[ops]
    elif not ops or any(c not in _ORDER for c in ops) or "".join(c for c in _ORDER if c in ops) != ops:
        return None
    return ResourceScope(context, resource, ops, query)


def normalize(scope: str | None) -> list[str]:
    """The scopes of a request in v2 form, unknown ones dropped, duplicates removed, order kept."""
    out: list[str] = []
    for part in (scope or "").split():
        if part in CONTEXT_SCOPES:
            value = part
        else:
            parsed = parse_resource(part)
            if parsed is None:
                continue
            value = str(parsed)
        if value not in out:
            out.append(value)
    return out


def narrow(requested: str | None, allowed: str | None) -> str:
    """The requested scopes that ``allowed`` covers (v2 form, space-separated)."""
    allowed_list = normalize(allowed)
    allowed_resources = [r for r in (parse_resource(a) for a in allowed_list) if r is not None]
    kept = []
    for value in normalize(requested):
        parsed = parse_resource(value)
        if parsed is None:
            if value in allowed_list:
                kept.append(value)
        elif any(a.covers(parsed) for a in allowed_resources):
            kept.append(value)
    return " ".join(kept)


def describe(scope: str) -> list[str]:
    """Plain words for the consent screen, one line a scope."""
    verbs = {"c": "add", "r": "read", "u": "change", "d": "delete", "s": "search"}
    whose = {"patient": "your record", "user": "the records you can see", "system": "all records"}
    lines = []
    for value in normalize(scope):
        parsed = parse_resource(value)
        if parsed is None:
            lines.append({"openid": "Know who you are", "fhirUser": "Know who you are",
                          "profile": "Know who you are",
                          "launch/patient": "Know which patient's record it works with",
                          "launch": "Know which patient's record it works with",
                          "offline_access": "Stay connected when you are not using it",
                          "online_access": "Stay connected while you use it"}[value])
            continue
        what = "all data" if parsed.resource == "*" else f"{parsed.resource} data"
        ops = ", ".join(verbs[c] for c in parsed.ops)
        lines.append(f"{ops.capitalize()} {what} in {whose[parsed.context]}")
    return list(dict.fromkeys(lines))
