"""Registries kept by hand are checked here, so a new area cannot forget one: a page module that is
never imported, a table Alembic never sees, a router never mounted, a job kind with no handler, an
Action without a scope (test_access_matrix) — each fails with the name of what is missing."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "patient_portal"


def _modules_whose_source(pattern: str, under: str = "") -> set[str]:
    found = set()
    for path in (PACKAGE / under).rglob("*.py"):
        if re.search(pattern, path.read_text(encoding="utf-8")):
            rel = path.relative_to(PACKAGE.parent).with_suffix("")
            found.add(".".join(rel.parts).removesuffix(".__init__"))
    return found


def _imported_by(module: str) -> set[str]:
    """The patient_portal modules a fresh interpreter has loaded after importing `module`."""
    code = (f"import sys, json, {module}; "
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith('patient_portal'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_every_page_module_is_registered_with_the_app():
    pages = _modules_whose_source(r"@rx\.page\(|\bapp\.add_page\(", "pages")
    missing = sorted(pages - _imported_by("patient_portal.patient_portal"))
    assert pages and not missing, f"import these page modules in patient_portal/pages/__init__.py: {missing}"


def test_every_table_is_in_the_metadata_alembic_reads():
    tables = _modules_whose_source(r"table\s*=\s*True")
    missing = sorted(tables - _imported_by("patient_portal.models"))
    assert tables and not missing, f"import these model modules in patient_portal/models.py: {missing}"


def test_every_api_router_is_mounted():
    from patient_portal.api.app import build_api

    routers = _modules_whose_source(r"^router\s*=\s*APIRouter\(", "api") | _modules_whose_source(
        r"\nrouter\s*=\s*APIRouter\(", "api")
    import importlib

    for name in routers:
        importlib.import_module(name)
    included = {id(getattr(route, "original_router", None)) for route in build_api().routes}
    mounted = {name for name in routers if id(getattr(sys.modules.get(name), "router", None)) in included}
    missing = sorted(routers - mounted)
    assert routers and not missing, f"include these routers in patient_portal/api/app.py: {missing}"


def test_every_job_kind_has_a_handler_any_worker_loads():
    from patient_portal.core import jobs

    kinds = set()
    for path in PACKAGE.rglob("*.py"):
        kinds |= set(re.findall(r"""enqueue\(\s*\w+\s*,\s*["']([\w.-]+)["']""", path.read_text(encoding="utf-8")))
    jobs.load_handlers()
    missing = sorted(k for k in kinds if k not in jobs._HANDLERS)
    assert kinds and not missing, f"register a @jobs.handler in a module of jobs.HANDLER_MODULES for: {missing}"


def _imports_of(path: Path) -> set[str]:
    """Every module `path` imports, at the top or inside a function (``from . import x`` resolved)."""
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package.split(".")[: len(package.split(".")) - node.level + 1], base]).strip(".")
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return found


def test_settings_imports_nothing_of_core():
    """core reads settings; settings never reads core (core modules register their cache resets
    with settings.on_reset instead), so the two never import each other."""
    wrong = sorted(m for m in _imports_of(PACKAGE / "settings.py") if m.startswith("patient_portal.core"))
    assert not wrong, f"settings.py must not import {wrong}: register a reset with settings.on_reset instead"


def test_domain_and_core_never_import_reflex():
    wrong = sorted(str(path.relative_to(PACKAGE.parent)) for under in ("domain", "core")
                   for path in (PACKAGE / under).rglob("*.py")
                   if any(m == "reflex" or m.startswith("reflex.") for m in _imports_of(path)))
    assert not wrong, f"domain/ and core/ draw nothing: these import reflex: {wrong}"


def test_every_domain_area_has_a_service():
    """Each area under domain/ is entered through its service.py (use cases ``verb(session, actor, *, …)``)."""
    areas = sorted(p.name for p in (PACKAGE / "domain").iterdir() if (p / "__init__.py").exists())
    missing = [name for name in areas if not (PACKAGE / "domain" / name / "service.py").exists()]
    assert areas and not missing, f"give these domain areas a service.py (their one way in): {missing}"


def test_the_patient_record_never_imports_another_areas_rows():
    """patients/ reads insurance, emergency contacts and history through their services (the chart
    composes them in profile.get_chart), never their rows modules, so imports point one way."""
    wrong = sorted(f"{path.name}: {m}" for path in (PACKAGE / "domain" / "patients").glob("*.py")
                   for m in _imports_of(path) if re.fullmatch(r"patient_portal\.domain\.(?!patients\.)\w+\.rows", m))
    assert not wrong, f"call the area's service instead: {wrong}"


def test_every_event_listener_module_is_loaded_before_an_emit():
    from patient_portal.core import events

    declaring = _modules_whose_source(r"(?m)^@events\.listener\(")
    missing = sorted(declaring - set(events.LISTENER_MODULES))
    assert declaring and not missing, f"name these modules in core.events.LISTENER_MODULES: {missing}"
