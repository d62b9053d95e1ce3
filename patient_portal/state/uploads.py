"""The browser sends a chosen file straight to an API route (never through Reflex's public upload
folder, never through the websocket): ``send_file_script`` is the script a handler returns with
``rx.call_script(script, callback=…)``; the callback gets the route's JSON answer, or
``{"error": message}`` when no file was chosen, the route refused it, or the network failed."""

from __future__ import annotations

import json


def send_file_script(input_id: str, url: str, *, content_type: str | None, choose: str, failed: str) -> str:
    """POST the file chosen in ``<input id=input_id type=file>`` to `url` as the request body, with
    `content_type` (None: the file's own type). `choose` is the message when no file is chosen,
    `failed` when the route refuses without saying why; the input is cleared after a success."""
    kind = json.dumps(content_type) if content_type else "(file.type || 'application/octet-stream')"
    return (
        "(async () => {const input = document.getElementById(" + json.dumps(input_id) + ");"
        "const file = input && input.files && input.files[0];"
        "if (!file) return {error: " + json.dumps(choose) + "};"
        "try {const r = await fetch(" + json.dumps(url) + ", {method: 'POST', credentials: 'same-origin',"
        "headers: {'Content-Type': " + kind + "}, body: file});"
        "const body = await r.json().catch(() => ({}));"
        "if (r.ok && input) input.value = '';"
        "return r.ok ? body : {error: body.detail || " + json.dumps(failed) + "};"
        "} catch (e) {return {error: 'The file could not be sent. Check the connection and try again.'};}})()"
    )
