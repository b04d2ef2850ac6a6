"""Horizontal bar charts laid out on the server, drawn as SVG by templates/results/_chart.html.
Geometry only: labels and numbers are escaped by the template."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 640
LABEL = 18  # the label line above each bar
BAR_HEIGHT = 20
GAP = 10
RIGHT = 130


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
    span = WIDTH - RIGHT
    row = LABEL + BAR_HEIGHT + GAP
    bars = []
    for n, (label, value, text, highlight) in enumerate(values):
        width = round(span * value / top) if top else 0
        short = label if len(label) <= 80 else label[:79] + "…"
        bars.append(Bar(short, value, text, 0, GAP + n * row, width, highlight))
    height = GAP + len(values) * row
    return Chart(ident, title, desc, bars, WIDTH, height, LABEL)
