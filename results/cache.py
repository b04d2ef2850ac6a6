"""The rendered published results, kept per process. A publication is never edited, so its
HTML in one language never changes: each worker renders it once and serves it from memory.
Only the part that is the same for every reader is kept (never the header, a form token or a
flash message). The cache is bounded: the least recently read page goes first."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

from markupsafe import Markup

MAX_PAGES = 64


class PageCache:
    def __init__(self, max_pages: int = MAX_PAGES) -> None:
        self.max_pages = max_pages
        self._pages: OrderedDict[tuple[int, str], Markup] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._pages)

    def get(self, key: tuple[int, str], build: Callable[[], Markup]) -> Markup:
        """The page for (publication id, locale), built with `build` when not kept yet.
        Two requests may both build it at first; they build the same thing."""
        with self._lock:
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
                return page
        page = build()
        with self._lock:
            self._pages[key] = page
            self._pages.move_to_end(key)
            while len(self._pages) > self.max_pages:
                self._pages.popitem(last=False)
        return page

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()
