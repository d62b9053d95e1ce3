"""Paging shared by every list state: the current page and the two buttons' events."""

from __future__ import annotations

import reflex as rx


class PagedMixin(rx.State, mixin=True):
    """Adds `page` and next/previous events; the state provides `pages` and `_load_page()`."""

    page: int = 1

    async def _load_page(self):
        raise NotImplementedError

    @rx.event
    async def next_page(self):
        if self.page < self.pages:
            self.page += 1
            return await self._load_page()
        return None

    @rx.event
    async def prev_page(self):
        if self.page > 1:
            self.page -= 1
            return await self._load_page()
        return None
