"""App assembly only: the Reflex app, its theme, the API mount and lifespan tasks."""

from __future__ import annotations

import reflex as rx

import patient_portal.pages  # noqa: F401  (registers every page)
import patient_portal.pages.public.not_found  # noqa: F401  (the styled 404 page, Reflex route "404")
from patient_portal.api.app import build_api
from patient_portal.api.smart import TokenCors
from patient_portal.core import jobs
from patient_portal.settings import get_settings
from patient_portal.state import arguments, tabs, timing
from patient_portal.state.errors import on_backend_error

app = rx.App(
    theme=rx.theme(appearance="inherit", accent_color="indigo", radius="medium", scaling="100%"),
    stylesheets=["/portal.css"],  # toast colours that pass contrast (see the file)
    # the API (Reflex adds its CORS for the portal's origin), then CORS for apps' token requests
    api_transformer=[build_api(), TokenCors],
    backend_exception_handler=on_backend_error,  # plain words + a reference; no patient data in the log
)
app.add_middleware(tabs.SessionBinding(), index=0)  # a tab's state dies with its sign-in session
app.add_middleware(arguments.ArgumentCheck(), index=1)  # every event's arguments fit its handler
app.add_middleware(timing.EventTiming())  # last: event-handler latency for /metrics
app.register_lifespan_task(tabs.purge_loop)
if get_settings().jobs_in_process:  # the embedded default; production may run `portal worker` instead
    app.register_lifespan_task(jobs.run_forever)
