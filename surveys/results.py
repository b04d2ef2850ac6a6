"""Figures of a wave: per question counts and shares, unweighted and weighted by district
population, each with a Wilson 95 % interval and n; cells under MIN_CELL responses are
suppressed everywhere. Also satisfaction per service ranked, the trust index and trends."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from core.models import District
from surveys.models import QuestionType, SurveyQuestion, SurveyResponse, SurveyWave
from surveys.services import OTHER, questions_of, scale_of

MIN_CELL = 10
Z95 = 1.959963984540054
CHOICE_KINDS = (QuestionType.SINGLE, QuestionType.MULTIPLE, QuestionType.RATING5,
                QuestionType.RATING10)
TEXT_KINDS = (QuestionType.SHORT, QuestionType.LONG)


def wilson(k: float, n: float, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a share k/n (n may be an effective, weighted n)."""
    if n <= 0:
        return (0.0, 0.0)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def district_weights(population: dict[int, int], sample: Counter[int | None]) -> dict[
        int | None, float]:
    """Weight of a response from each district: its share of the city's population over
    its share of the responses. A response without a district (or from a district without
    a population) weighs 1."""
    total_pop = sum(p for d, p in population.items() if sample.get(d))
    known = sum(c for d, c in sample.items() if d is not None and population.get(d))
    weights: dict[int | None, float] = {None: 1.0}
    for d, c in sample.items():
        if d is None or not population.get(d) or not total_pop or not known:
            weights[d] = 1.0
        else:
            weights[d] = (population[d] / total_pop) / (c / known)
    return weights


@dataclass
class Cell:
    value: str
    count: int
    share: float | None = None
    interval: tuple[float, float] | None = None
    weighted: float | None = None
    weighted_interval: tuple[float, float] | None = None
    suppressed: bool = False


@dataclass
class QuestionResult:
    question: SurveyQuestion
    n: int
    cells: list[Cell] = field(default_factory=list)
    #: Matrix: {row value: [cells]}; number: mean/median; ranking: mean rank per option.
    rows: dict[str, list[Cell]] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    suppressed: bool = False


def _cells(values: list[str], hits: list[tuple[Any, float]], n: int, wn: float,
           eff_n: float) -> list[Cell]:
    """Cells of `values` from `hits` (the value(s) of each answer, the answer's weight)."""
    count: Counter[str] = Counter()
    wsum: defaultdict[str, float] = defaultdict(float)
    for got, w in hits:
        for v in (got if isinstance(got, list) else [got]):
            count[str(v)] += 1
            wsum[str(v)] += w
    out = []
    for v in values:
        c = count.get(v, 0)
        if c < MIN_CELL:
            out.append(Cell(v, c, suppressed=True))
            continue
        wshare = wsum[v] / wn if wn else 0.0
        out.append(Cell(v, c, c / n, wilson(c, n), wshare, wilson(wshare * eff_n, eff_n)))
    return out


def scale_values(q: SurveyQuestion) -> list[str]:
    return [str(i) for i in scale_of(q)]


def choice_values(q: SurveyQuestion) -> list[str]:
    if q.kind in (QuestionType.RATING5, QuestionType.RATING10):
        return scale_values(q)
    return [str(o["value"]) for o in q.options] + ([OTHER] if q.allow_other else [])


def _effective_n(weights: list[float]) -> float:
    s = sum(weights)
    s2 = sum(w * w for w in weights)
    return s * s / s2 if s2 else 0.0


def aggregate(questions: list[SurveyQuestion], responses: list[tuple[dict[str, Any], int | None]],
              population: dict[int, int]) -> dict[str, QuestionResult]:
    """Results per question key from (answers, district id) pairs."""
    sample: Counter[int | None] = Counter(d for _a, d in responses)
    weights = district_weights(population, sample)
    out: dict[str, QuestionResult] = {}
    weighted = [(a, weights.get(d, 1.0)) for a, d in responses]
    for q in questions:
        key = q.key  # an ORM attribute: read once, not once per response
        hits = [(a[key], w) for a, w in weighted if key in a]
        n = len(hits)
        result = QuestionResult(q, n)
        out[q.key] = result
        if n < MIN_CELL:
            result.suppressed = True
            continue
        ws = [w for _v, w in hits]
        wn, eff = sum(ws), _effective_n(ws)
        if q.kind in CHOICE_KINDS:
            result.cells = _cells(choice_values(q), hits, n, wn, eff)
        elif q.kind == QuestionType.MATRIX:
            for row in q.rows:
                r = str(row["value"])
                rhits = [(v[r], w) for v, w in hits if isinstance(v, dict) and r in v]
                rws = [w for _v, w in rhits]
                if len(rhits) < MIN_CELL:
                    result.rows[r] = [Cell(v, 0, suppressed=True) for v in scale_values(q)]
                    continue
                result.rows[r] = _cells(scale_values(q), rhits, len(rhits), sum(rws),
                                        _effective_n(rws))
        elif q.kind == QuestionType.RANKING:
            ranks: defaultdict[str, list[int]] = defaultdict(list)
            for v, _w in hits:
                for i, o in enumerate(v):
                    ranks[str(o)].append(i + 1)
            result.summary["mean_rank"] = sorted(
                ((o, sum(r) / len(r)) for o, r in ranks.items()), key=lambda t: t[1])
            result.cells = _cells([str(o["value"]) for o in q.options],
                                  [(v[0], w) for v, w in hits if v], n, wn, eff)
        elif q.kind == QuestionType.NUMBER:
            nums = sorted(float(v) for v, _w in hits)
            result.summary = {"mean": sum(nums) / n, "median": nums[n // 2] if n % 2 else
                              (nums[n // 2 - 1] + nums[n // 2]) / 2}
    return out


def satisfied_share(result: QuestionResult, weighted: bool = False) -> float | None:
    """Share satisfied: 4 or 5 on a 1-5 scale, 7 to 10 on a 0-10 scale."""
    if result.suppressed or not result.cells:
        return None
    return _sum_share(result, _top(result.question), weighted)


def _sum_share(result: QuestionResult, values: set[str], weighted: bool) -> float | None:
    """A share summed over cells; None if any of those cells is suppressed (a sum must not
    let a reader subtract their way to a hidden cell)."""
    picked = [c for c in result.cells if c.value in values]
    if any(c.suppressed for c in picked):
        return None
    return sum((c.weighted if weighted else c.share) or 0.0 for c in picked)


def trust_index(result: QuestionResult, weighted: bool = False) -> float | None:
    """% trusting (4-5) minus % distrusting (1-2), from -100 to +100, as the national
    Population Trust Index is computed."""
    if result.suppressed or not result.cells:
        return None
    trusting = _sum_share(result, {"4", "5"}, weighted)
    distrusting = _sum_share(result, {"1", "2"}, weighted)
    if trusting is None or distrusting is None:
        return None
    return round(100 * (trusting - distrusting), 1)


#: Share satisfied per district: {question key: {district id: (share or None, n)}}.
Breakdown = dict[str, dict[int, tuple[float | None, int]]]


def district_breakdown(questions: list[SurveyQuestion],
                       responses: list[tuple[dict[str, Any], int | None]]) -> Breakdown:
    """Per service question and district, the share satisfied among that district's answers
    (no weights: within a district every response weighs the same) and n. A district with
    fewer than MIN_CELL answers, or whose satisfied cells (4 and 5, or 7 to 10) are that
    small, gets None, as the city-wide share does. One pass over the responses."""
    services = [(q.key, _top(q)) for q in questions if q.service]
    counts: dict[str, defaultdict[int, Counter[str]]] = {
        key: defaultdict(Counter) for key, _t in services}
    for answers, d in responses:
        if d is None:
            continue
        for key, _t in services:
            v = answers.get(key)
            if v is not None:
                counts[key][d][str(v)] += 1
    out: Breakdown = {}
    for key, top in services:
        row: dict[int, tuple[float | None, int]] = {}
        for d, counter in counts[key].items():
            n = sum(counter.values())
            hidden = n < MIN_CELL or any(counter.get(v, 0) < MIN_CELL for v in top)
            row[d] = (None if hidden else sum(counter.get(v, 0) for v in top) / n, n)
        out[key] = row
    return out


def _top(q: SurveyQuestion) -> set[str]:
    """The answers counted as satisfied."""
    return {"4", "5"} if q.kind == QuestionType.RATING5 else {"7", "8", "9", "10"}


@dataclass
class WaveResults:
    wave: SurveyWave
    n: int
    questions: list[SurveyQuestion]
    by_key: dict[str, QuestionResult]
    weights: dict[int | None, float]
    districts: list[District]
    sample: Counter[int | None]
    services: list[tuple[SurveyQuestion, float | None, float | None]]
    trust: list[tuple[SurveyQuestion, float | None, float | None]]
    by_district: Breakdown = field(default_factory=dict)


def population_of(s: Session) -> tuple[list[District], dict[int, int]]:
    districts = list(s.exec(select(District).order_by(col(District.id))).all())
    return districts, {d.id or 0: d.population for d in districts}


def wave_results(s: Session, wave: SurveyWave) -> WaveResults:
    questions = questions_of(s, wave.id or 0)
    rows = s.exec(select(SurveyResponse.answers, SurveyResponse.district_id)
                  .where(SurveyResponse.wave_id == wave.id)).all()
    responses = [(dict(a), d) for a, d in rows]
    districts, population = population_of(s)
    by_key = aggregate(questions, responses, population)
    sample: Counter[int | None] = Counter(d for _a, d in responses)
    services = sorted(((q, satisfied_share(by_key[q.key]), satisfied_share(by_key[q.key], True))
                       for q in questions if q.service),
                      key=lambda t: -1.0 if t[2] is None else t[2], reverse=True)
    trust = [(q, trust_index(by_key[q.key]), trust_index(by_key[q.key], True))
             for q in questions if q.trust]
    return WaveResults(wave, len(responses), questions, by_key,
                       district_weights(population, sample), districts, sample, services, trust,
                       district_breakdown(questions, responses))


def trends(s: Session, survey_id: int, visible_wave_ids: set[int]) -> list[dict[str, Any]]:
    """Per service and trust question key: the weighted headline figure of each wave."""
    waves = s.exec(select(SurveyWave).where(SurveyWave.survey_id == survey_id)
                   .order_by(col(SurveyWave.number))).all()
    table: dict[str, dict[str, Any]] = {}
    for w in waves:
        if w.id not in visible_wave_ids:
            continue
        r = cached_results(s, w)
        for q, _u, weighted in r.services:
            table.setdefault(q.key, {"question": q, "kind": "satisfied", "waves": {}})
            table[q.key]["waves"][w.number] = None if weighted is None else 100 * weighted
        for q, _u, weighted in r.trust:
            table.setdefault(q.key, {"question": q, "kind": "trust", "waves": {}})
            table[q.key]["waves"][w.number] = weighted
        for q in r.questions:  # other ratings (overall satisfaction): share satisfied
            if q.key in table or q.trust or q.kind not in (QuestionType.RATING5,
                                                           QuestionType.RATING10):
                continue
            share = satisfied_share(r.by_key[q.key], True)
            table.setdefault(q.key, {"question": q, "kind": "satisfied", "waves": {}})
            table[q.key]["waves"][w.number] = None if share is None else 100 * share
    numbers = [w.number for w in waves if w.id in visible_wave_ids]
    for row in table.values():
        row["series"] = [row["waves"].get(n) for n in numbers]
    return list(table.values())


def sparkline(values: list[float | None], kind: str, width: int = 120,
              height: int = 28) -> str:
    """SVG polyline points of a trend (0..100 for shares, -100..100 for the trust index);
    a wave without a figure breaks nothing: it is skipped."""
    low, high = (-100.0, 100.0) if kind == "trust" else (0.0, 100.0)
    if len(values) < 2:
        return ""
    step = width / (len(values) - 1)
    points = [f"{i * step:.1f},{height - (v - low) / (high - low) * height:.1f}"
              for i, v in enumerate(values) if v is not None]
    return " ".join(points)


_CACHE: dict[int, tuple[tuple[int, int, int], WaveResults]] = {}


def cached_results(s: Session, wave: SurveyWave, now: Any = None) -> WaveResults:
    """Results of a closed wave kept in memory until it gains or loses a response (clerks
    may still type in paper interviews); an open wave's (live) results are computed afresh,
    since answers there may change in place."""
    from sqlalchemy import func

    if now is not None and now < wave.closes_at:
        return wave_results(s, wave)
    stamp_row: Any = s.exec(select(func.count(col(SurveyResponse.id)),
                              func.coalesce(func.max(SurveyResponse.id), 0))
                       .where(SurveyResponse.wave_id == wave.id)).one()
    stamp = (int(stamp_row[0]), int(stamp_row[1]), 0)
    hit = _CACHE.get(wave.id or 0)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    result = wave_results(s, wave)
    _CACHE[wave.id or 0] = (stamp, result)
    return result
