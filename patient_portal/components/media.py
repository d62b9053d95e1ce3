"""Media elements Reflex does not offer with the events we need."""

from __future__ import annotations

from reflex.components.el.elements.media import Img
from reflex.event import EventHandler, no_args_event_spec


class _ImageWithError(Img):
    """A plain <img> that reports when the browser could not load it (``on_error``)."""

    on_error: EventHandler[no_args_event_spec]


preview_image = _ImageWithError.create
