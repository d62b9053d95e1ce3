"""Moving the person's focus to what needs them: the first field in error after a failed save or step.

A handler that put field errors into state returns ``focus_first_error("<container id>")``: once the
page shows the errors (the script waits for them, up to three seconds on a busy machine), the first
field in error inside that container — in the order the screen shows them — gets the focus and is
scrolled into view; for a few seconds more it takes the focus back if a re-render of the field
dropped it (a CI run saw the focus lost so). The errors are found by the ``<field id>-error``
messages that ``components.forms`` draws under each field.
"""

from __future__ import annotations

import json

import reflex as rx

_SCRIPT = """(() => {
  let tries = 0, done = false;
  const go = () => {
    const box = document.getElementById(%s);
    const error = box && box.querySelector('.field-error[id$="-error"]');
    const field = error && document.getElementById(error.id.slice(0, -6));
    if (field && document.activeElement === field && done) return;
    if (field) { field.focus(); if (!done) field.scrollIntoView({block: 'center'}); done = true; }
    if (++tries < 60) { setTimeout(go, field ? 100 : 50); }
  };
  go();
})()"""


def focus_first_error(container_id: str) -> rx.event.EventSpec:
    """The script that focuses the first field in error inside the element `container_id`."""
    return rx.call_script(_SCRIPT % json.dumps(container_id))
