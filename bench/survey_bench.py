"""Benchmark aggregating a large survey wave and serving its results page from the cache.

    .venv/bin/python bench/survey_bench.py            # 100,000 responses x 30 questions
    .venv/bin/python bench/survey_bench.py --quick    # 10,000 responses (CI)

A fresh, migrated SQLite database gets four districts and a closed wave of 30 questions
(the 12 of the "City services and trust" template and 18 more ratings and choices), filled by
bulk insert. Then it times:

1. aggregation: `surveys.results.wave_results` (read every response, weight by district,
   count every cell, Wilson intervals), the median of --repeats runs;
2. the results page, in-process through Starlette's TestClient, from the cache
   (`cached_results`: a count query then the in-memory figures), the median of 50 requests,
   in turn with /healthz; and the page with the cache emptied before each request.
It checks what it measured: the page shows n and the trust index.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def build(url: str, responses: int) -> tuple[int, str]:
    from sqlalchemy import insert

    from core.db import make_database
    from core.migrate import upgrade
    from core.models import District, utcnow
    from surveys.models import QuestionType, SurveyQuestion, SurveyResponse
    from surveys.template import T, create_city_services_survey

    upgrade(url)
    database = make_database(url)
    now = utcnow()
    rng = random.Random(1)  # noqa: S311
    with database.session(write=True) as s:
        districts = [District(slug=f"d{i}", name_ru=f"Район {i}", name_ky=f"Район {i}",
                              name_en=f"District {i}", population=100_000 * (i + 1))
                     for i in range(4)]
        s.add_all(districts)
        s.flush()
        ids = [d.id for d in districts]
        survey, wave = create_city_services_survey(
            s, "bench", (now - timedelta(days=30), now - timedelta(days=1)))
        for i in range(18):
            kind = QuestionType.RATING5 if i % 2 else QuestionType.SINGLE
            s.add(SurveyQuestion(
                wave_id=wave.id or 0, key=f"extra{i}", position=100 + i, kind=kind,
                text=T(f"Вопрос {i}", f"Суроо {i}", f"Question {i}"),
                options=[{"value": v, "label": T(v, v, v)} for v in ("a", "b", "c", "d")]))
        s.flush()
        from surveys.services import questions_of

        questions = questions_of(s, wave.id or 0)
        wave_id, slug = wave.id or 0, survey.slug
    rows: list[dict[str, Any]] = []
    for _n in range(responses):
        answers: dict[str, Any] = {}
        for q in questions:
            if q.kind == QuestionType.RATING5:
                answers[q.key] = rng.randint(1, 5)
            elif q.kind == QuestionType.RATING10:
                answers[q.key] = rng.randint(0, 10)
            elif q.kind == QuestionType.SINGLE:
                answers[q.key] = rng.choice("abcd")
            elif q.kind == QuestionType.MATRIX:
                answers[q.key] = {str(r["value"]): rng.randint(1, 5) for r in q.rows}
            elif q.kind == QuestionType.MULTIPLE:
                answers[q.key] = sorted(rng.sample([str(o["value"]) for o in q.options], 2))
        rows.append({"wave_id": wave_id, "answers": answers, "district_id": rng.choice(ids),
                     "age_band": "", "gender": "", "channel": "web", "text_cleared": False})
        if len(rows) == 5000:
            with database.write_engine.begin() as conn:
                conn.execute(insert(SurveyResponse), rows)
            rows = []
    if rows:
        with database.write_engine.begin() as conn:
            conn.execute(insert(SurveyResponse), rows)
    database.dispose()
    assert len(questions) == 30
    return wave_id, slug


def median_ms(fn: Any, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--responses", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    n = args.responses or (10_000 if args.quick else 100_000)
    logging.disable(logging.INFO)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        start = time.perf_counter()
        wave_id, slug = build(url, n)
        print(f"built {n:,} responses x 30 questions in {time.perf_counter() - start:.1f} s")

        from starlette.testclient import TestClient

        from core.app import create_app
        from core.db import make_database
        from surveys import results
        from surveys.models import SurveyWave
        from tests.helpers import make_settings

        database = make_database(url)
        with database.session() as s:
            wave = s.get(SurveyWave, wave_id)
            assert wave is not None
            agg = median_ms(lambda: results.wave_results(s, wave), args.repeats)
        print(f"aggregation (median of {args.repeats}): {agg:,.0f} ms "
              f"({1000 * agg / n:.3f} ms per 1,000 responses)")
        app = create_app(make_settings(Path(tmp), url), database)
        with TestClient(app) as client:
            page = client.get(f"/surveys/{slug}/results")
            assert page.status_code == 200 and f"{n:,}".replace(",", "") in \
                page.text.replace(",", "").replace("\u00a0", "").replace(" ", "")
            assert "Trust index" in page.text or "Индекс доверия" in page.text
            cached = median_ms(lambda: client.get(f"/surveys/{slug}/results"), 50)
            health = median_ms(lambda: client.get("/healthz"), 50)

            def cold() -> None:
                results._CACHE.clear()
                client.get(f"/surveys/{slug}/results")

            uncached = median_ms(cold, args.repeats)
        print(f"results page from cache (median of 50): {cached:.1f} ms; /healthz {health:.2f}"
              f" ms; ratio {cached / health:.1f}x")
        print(f"results page without cache (median of {args.repeats}): {uncached:,.0f} ms; "
              f"cache speed-up {uncached / cached:.0f}x")
        print(json.dumps({"responses": n, "questions": 30, "aggregate_ms": round(agg),
                          "page_cached_ms": round(cached, 1), "healthz_ms": round(health, 2),
                          "page_uncached_ms": round(uncached)}))
        database.dispose()


if __name__ == "__main__":
    main()
