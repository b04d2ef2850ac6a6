"""Tables of implementation tracking: the public status of winning projects."""

from __future__ import annotations
