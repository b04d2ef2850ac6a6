"""Horizontal bar charts laid out on the server, drawn as SVG by templates/results/_chart.html.
Geometry only: labels and numbers are escaped by the template."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 640
LABEL = 220
BAR_HEIGHT = 22
GAP = 8
RIGHT = 110


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    text: str
    x: int
    y: int
    width: int
    highlight: bool


@dataclass(frozen=True)
class Chart:
    ident: str
    title: str
    desc: str
    bars: list[Bar]
    width: int
    height: int
    label_width: int


def bar_chart(ident: str, title: str, desc: str,
              values: Sequence[tuple[str, int, str, bool]]) -> Chart:
    """One bar per (label, value, value as text, highlighted); bars scale to the largest
    value, so a chart of zeros has no bars but still lists every label."""
    top = max((v for _l, v, _t, _h in values), default=0)
    span = WIDTH - LABEL - RIGHT
    bars = []
    for n, (label, value, text, highlight) in enumerate(values):
        width = round(span * value / top) if top else 0
        bars.append(Bar(label[:40], value, text, LABEL, GAP + n * (BAR_HEIGHT + GAP), width,
                        highlight))
    height = GAP + len(values) * (BAR_HEIGHT + GAP)
    return Chart(ident, title, desc, bars, WIDTH, height, LABEL)
