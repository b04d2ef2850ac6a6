"""The shape every form validator returns: cleaned values and field errors."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Form:
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors
