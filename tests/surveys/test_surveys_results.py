"""Weighting, intervals, suppression and the trust index against hand-computed figures and
statsmodels' independent proportion interval."""

from __future__ import annotations

from collections import Counter

import pytest
from statsmodels.stats.proportion import proportion_confint

from surveys.models import QuestionType, SurveyQuestion
from surveys.results import (
    aggregate,
    district_weights,
    satisfied_share,
    trust_index,
    wilson,
)


def q(key: str = "q", kind: str = QuestionType.SINGLE, **kw: object) -> SurveyQuestion:
    options = [{"value": "yes", "label": {"en": "Yes"}}, {"value": "no", "label": {"en": "No"}}]
    return SurveyQuestion(wave_id=1, key=key, kind=kind, options=options, **kw)


@pytest.mark.parametrize(("k", "n"), [(0, 10), (3, 10), (10, 10), (37, 120), (500, 1000)])
def test_wilson_matches_statsmodels(k: int, n: int) -> None:
    low, high = proportion_confint(k, n, alpha=0.05, method="wilson")
    ours = wilson(k, n)
    assert ours == pytest.approx((low, high), abs=1e-9)


def test_wilson_by_hand() -> None:
    # p = 0.5, n = 100: centre 0.5, half = 1.96*sqrt(0.0025 + 0.96/40000)/1.0384 = 0.0962
    low, high = wilson(50, 100)
    assert round(low, 4) == 0.4038 and round(high, 4) == 0.5962


def test_district_weights_and_weighted_share_by_hand() -> None:
    # Population 60 % north / 40 % south; the sample is 20 north, 30 south.
    population = {1: 60000, 2: 40000}
    weights = district_weights(population, Counter({1: 20, 2: 30}))
    assert weights[1] == pytest.approx(0.6 / 0.4) and weights[2] == pytest.approx(0.4 / 0.6)
    # North: 16 yes, 4 no; south: 12 yes, 18 no. Unweighted yes = 28/50 = 56 %.
    # Weighted yes = 0.6 * 16/20 + 0.4 * 12/30 = 0.48 + 0.16 = 64 %.
    responses = ([({"q": "yes"}, 1)] * 16 + [({"q": "no"}, 1)] * 4
                 + [({"q": "yes"}, 2)] * 12 + [({"q": "no"}, 2)] * 18)
    result = aggregate([q()], responses, population)["q"]
    yes = result.cells[0]
    assert result.n == 50 and yes.count == 28
    assert yes.share == pytest.approx(0.56) and yes.weighted == pytest.approx(0.64)
    assert yes.interval == pytest.approx(proportion_confint(28, 50, method="wilson"))
    # The weighted interval uses Kish's effective n: (sum w)^2 / sum w^2.
    eff = 50**2 / (20 * 1.5**2 + 30 * (2 / 3) ** 2)
    assert yes.weighted_interval == pytest.approx(
        proportion_confint(0.64 * eff, eff, method="wilson"))


def test_small_cells_and_small_questions_are_suppressed() -> None:
    responses = [({"q": "yes"}, 1)] * 15 + [({"q": "no"}, 1)] * 9
    result = aggregate([q()], responses, {1: 100})["q"]
    yes, no = result.cells
    assert not yes.suppressed and yes.count == 15
    assert no.suppressed and no.share is None and no.weighted is None
    few = aggregate([q()], [({"q": "yes"}, 1)] * 9, {1: 100})["q"]
    assert few.suppressed and few.cells == []


def test_trust_index_is_trusting_minus_distrusting() -> None:
    question = q("t", QuestionType.RATING5)
    answers = [5] * 20 + [4] * 20 + [3] * 20 + [2] * 15 + [1] * 25
    result = aggregate([question], [({"t": a}, None) for a in answers], {})["t"]
    # 40 % trusting, 40 % distrusting.
    assert trust_index(result) == 0.0
    answers = [5] * 30 + [4] * 30 + [3] * 20 + [2] * 10 + [1] * 10
    result = aggregate([question], [({"t": a}, None) for a in answers], {})["t"]
    assert trust_index(result) == 40.0 and satisfied_share(result) == pytest.approx(0.6)
    # A suppressed end makes the index unavailable rather than computed from a hidden cell.
    answers = [5] * 30 + [4] * 30 + [3] * 20 + [2] * 5 + [1] * 15
    result = aggregate([question], [({"t": a}, None) for a in answers], {})["t"]
    assert trust_index(result) is None
