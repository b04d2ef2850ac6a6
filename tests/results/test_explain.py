"""Explanations for one idea, and the chart layout, without the web stack."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from core import i18n
from results.charts import bar_chart
from results.explain import percent, step_text


def outcome(step: dict[str, Any] | None, computed: bool) -> Any:
    return SimpleNamespace(step=step, row=SimpleNamespace(computed=computed))


def test_explanations_name_the_numbers_of_the_step() -> None:
    i18n.set_locale("en", "Asia/Bishkek")
    skipped = step_text(outcome({"kind": "greedy", "outcome": "skipped", "score": 12,
                                 "cost": 900_000, "remaining": "300001/2"}, False))
    assert "12 votes" in skipped and "150,000 som" in skipped and "skipped" in skipped
    funded = step_text(outcome({"kind": "mes", "votes": 7, "cost": 500_000}, True))
    assert "7 supporters" in funded and "500,000 som" in funded
    lost = step_text(outcome(None, False))
    assert "equal shares" in lost
    assert "no votes" in step_text(outcome({"kind": "greedy", "outcome": "unsupported",
                                            "score": 0, "cost": 1, "remaining": 1}, False))


def test_percent_keeps_small_shares_visible() -> None:
    i18n.set_locale("en", "Asia/Bishkek")
    assert percent(0, 0) == "—"
    assert percent(1, 4) == "25.0%"
    assert percent(22, 280_000) == "0.0079%"


def test_bars_scale_to_the_largest_value_and_zeros_draw_nothing() -> None:
    chart = bar_chart("c", "Votes", "desc", [("a", 10, "10", True), ("b", 5, "5", False)])
    assert chart.bars[0].width == 2 * chart.bars[1].width
    empty = bar_chart("e", "Votes", "desc", [("a", 0, "0", False)])
    assert empty.bars[0].width == 0 and empty.height > 0
