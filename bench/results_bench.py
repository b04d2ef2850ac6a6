"""Benchmark counting a large round and serving its published results page.

    .venv/bin/python bench/results_bench.py           # 100,000 ballots, 150 projects (~2 min)
    .venv/bin/python bench/results_bench.py --quick   # 10,000 ballots, fewer repeats (CI, < 1 min)
    .venv/bin/python bench/results_bench.py --ballots 50000 --repeats 9
    DATABASE_URL=postgresql+psycopg://... .venv/bin/python bench/results_bench.py  # EMPTY db

The round (4 districts with 30 projects each and 30 city-wide projects, every voter casting one
district and one city-wide knapsack ballot, a real hash-chained ballot log) is written straight
into a fresh, migrated database with bulk inserts. Then:

1. Counting: `results.services.count_round` (read the current ballots, build each pot's
   election, count with the round's rule and the comparison rule, store the run), the median
   of --repeats counts.
2. The published results page from the cache (results/cache.py), in-process through
   Starlette's TestClient, the median of 10 x --repeats requests (at least 50; 20 with
   --quick), timed in turn with /healthz (the cost of a request that does nothing), and the
   same page with the cache emptied before each request.
   The signed JSON document and the largest pot's .pb with its signature are timed too.

It checks what it measured: every project is on the page, the page shows every pot, and the
JSON and .pb verify against the city's public key.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

DISTRICTS = 4


@dataclass
class BigRound:
    round_id: int
    #: pot id -> the idea ids on its ballot
    pots: dict[int, list[int]] = field(default_factory=dict)
    titles: dict[int, str] = field(default_factory=dict)
    ballots: int = 0


def split_projects(projects: int) -> list[int]:
    """Projects per pot: the districts first, the city-wide pot last (30 each for 150)."""
    base, extra = divmod(projects, DISTRICTS + 1)
    return [base + (1 if i < extra else 0) for i in range(DISTRICTS + 1)]


def build_round(database: Any, ballots: int, projects: int, seed: int = 7) -> BigRound:
    """A closed round with `projects` projects and `ballots` current ballots (half the voters'
    district ballots, half city-wide), written with bulk inserts; counting is open."""
    from sqlalchemy import insert

    from contests.models import PHASE_ORDER, Contest, Phase, Round, RoundPhase, RoundPot
    from core.models import District, User, utcnow
    from ideas.models import Idea, IdeaStatus
    from voting import ballots as ballot_text
    from voting import ledger
    from voting.models import (
        Ballot,
        BallotItem,
        BallotLogEntry,
        Participation,
        PotVoting,
        RoundVoting,
    )
    from voting.tally.model import BallotKind

    rng = random.Random(seed)
    now = utcnow()
    counting = PHASE_ORDER.index(Phase.COUNTING)
    big = BigRound(round_id=0)
    costs: dict[int, dict[int, int]] = {}
    with database.session(write=True) as s:
        tag = secrets.token_hex(3)
        contest = Contest(slug=f"bench-{tag}", title="Benchmark city budget", year=2027)
        s.add(contest)
        s.flush()
        round_ = Round(contest_id=contest.id, number=1, title="Big round <b>&</b>",
                       max_ideas_per_day=3)
        author = User(email=f"author-{tag}@bench.example.kg", display_name="Author",
                      password_hash="!", created_at=now)
        districts = [District(slug=f"bench-{tag}-{i}", name_ru=f"Район {i}",
                              name_ky=f"Район {i}", name_en=f"District {i}",
                              population=200_000 + 10_000 * i) for i in range(DISTRICTS)]
        s.add_all([round_, author, *districts])
        s.flush()
        assert round_.id is not None
        big.round_id = round_.id
        for i, phase in enumerate(PHASE_ORDER):
            start = now + timedelta(days=10 * (i - counting)) - timedelta(days=1)
            s.add(RoundPhase(round_id=round_.id, phase=phase, starts_at=start,
                             ends_at=start + timedelta(days=10)))
        s.add(RoundVoting(round_id=round_.id, verified_only=False, rule="greedy",
                          updated_at=now))
        number = 0
        for n, count in enumerate(split_projects(projects)):
            district = districts[n] if n < DISTRICTS else None
            budget = 30_000_000 if district else 60_000_000
            pot = RoundPot(round_id=round_.id, district_id=district.id if district else None,
                           budget=budget)
            s.add(pot)
            s.flush()
            assert pot.id is not None
            s.add(PotVoting(round_id=round_.id, pot_id=pot.id, kind="knapsack"))
            big.pots[pot.id] = []
            costs[pot.id] = {}
            for _ in range(count):
                number += 1
                cost = rng.randrange(5, 80) * 100_000
                title = f"Project {number}: park & square <i>{number}</i>"
                idea = Idea(reference=f"B{tag}-{number:04d}", round_id=round_.id,
                            author_id=author.id or 0,
                            district_id=district.id if district else None, title=title,
                            summary="A project", estimated_cost=cost,
                            status=IdeaStatus.PUBLISHED, published_at=now)
                s.add(idea)
                s.flush()
                assert idea.id is not None
                s.add(BallotItem(round_id=round_.id, pot_id=pot.id, idea_id=idea.id,
                                 cost=cost, position=number))
                big.pots[pot.id].append(idea.id)
                big.titles[idea.id] = title
                costs[pot.id][idea.id] = cost
    pot_ids = list(big.pots)
    city_pot, district_pots = pot_ids[-1], pot_ids[:-1]
    # Popularity falls off like a Zipf law, so the outcome is not a coin toss.
    weights = {pot: [1 / (k + 1) for k in range(len(ideas))] for pot, ideas in big.pots.items()}
    voters = (ballots + 1) // 2
    hour = ledger.hour_of(now - timedelta(days=12))
    hour_text = ledger.hour_text(hour)
    ballot_rows: list[dict[str, Any]] = []
    log_rows: list[dict[str, Any]] = []
    participation_rows: list[dict[str, Any]] = []
    previous = None
    for voter in range(voters):
        participation_rows.append({"round_id": big.round_id, "person_id": None,
                                   "id_hash": hashlib.sha256(f"{seed}-{voter}".encode())
                                   .hexdigest(), "channel": "online", "at": hour})
        pots_of_voter = [district_pots[voter % len(district_pots)], city_pot]
        for pot in pots_of_voter:
            if len(ballot_rows) >= ballots:
                break
            ideas = big.pots[pot]
            picks = set(rng.choices(ideas, weights[pot], k=rng.randint(1, 5)))
            content = ballot_text.dumps(BallotKind.KNAPSACK, {i: 1 for i in picks})
            salt = secrets.token_hex(16)
            commitment = ledger.commitment(big.round_id, pot, content, salt)
            entry = ledger.next_entry(big.round_id, previous, commitment, hour_text, None)
            previous = entry
            log_rows.append({"round_id": big.round_id, "seq": entry.seq,
                             "prev_hash": entry.prev_hash, "commitment": commitment,
                             "entry_hash": entry.entry_hash, "hour": hour, "supersedes": None})
            ballot_rows.append({"round_id": big.round_id, "pot_id": pot,
                                "pseudonym": secrets.token_hex(32), "channel": "online",
                                "content": content, "salt": salt, "log_seq": entry.seq,
                                "cast_hour": hour, "is_current": True,
                                "superseded_hour": None})
    with database.write_engine.begin() as conn:
        for table, rows in ((Participation, participation_rows), (BallotLogEntry, log_rows),
                            (Ballot, ballot_rows)):
            for start in range(0, len(rows), 20_000):
                conn.execute(insert(table), rows[start:start + 20_000])  # executemany
    big.ballots = len(ballot_rows)
    return big


def count_once(database: Any, round_id: int) -> tuple[float, float]:
    """Wall and CPU seconds of one count (CPU time is steadier on a shared machine; SQLite
    works inside this process, PostgreSQL's share is not in it)."""
    from contests.models import Round
    from core.models import utcnow
    from results import services

    with database.session(write=True) as s:
        round_ = s.get(Round, round_id)
        start, cpu = time.perf_counter(), time.process_time()
        services.count_round(s, round_, None, utcnow())
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    return elapsed, cpu


def publish(database: Any, round_id: int) -> None:
    from contests.models import Round
    from core.models import utcnow
    from results import services

    with database.session(write=True) as s:
        round_ = s.get(Round, round_id)
        run = services.latest_run(s, round_id)
        assert round_ is not None and run is not None and run.id is not None
        services.publish(s, round_, run.id, "The jury checked the count.", [], None, utcnow())


def median_of(repeats: int, action: Callable[[], Any]) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def paired_medians(repeats: int, first: Callable[[], Any], second: Callable[[], Any]
                   ) -> tuple[float, float]:
    """Medians of two actions timed in alternation, so that a busy machine slows both alike
    and their ratio stays meaningful."""
    a_times, b_times = [], []
    for _ in range(repeats):
        for action, times in ((first, a_times), (second, b_times)):
            start = time.perf_counter()
            action()
            times.append(time.perf_counter() - start)
    return statistics.median(a_times), statistics.median(b_times)


def check_downloads(client: Any, big: BigRound) -> None:
    from results import signing

    key = client.get("/results/public-key.pem").content
    paths = [f"/api/rounds/{big.round_id}/results",
             *[f"/rounds/{big.round_id}/results/pots/{p}.pb" for p in big.pots]]
    for path in paths:
        body, sig = client.get(path), client.get(path + ".sig")
        assert body.status_code == 200 and sig.status_code == 200, path
        problem = signing.check(body.content, sig.content, key)
        assert problem is None, (path, problem)


def check_page(html: str, big: BigRound) -> None:
    """Every project (escaped) and every pot is on the page, once funded or not."""
    from markupsafe import escape

    missing = [t for t in big.titles.values() if str(escape(t)) not in html]
    assert not missing, f"{len(missing)} projects missing from the page, e.g. {missing[0]}"
    assert "<i>" not in html, "a title was not escaped"
    for pot in big.pots:
        assert f'id="pot-{pot}-heading"' in html, pot
    rows = html.count("<td>funded</td>") + html.count("<td>not funded</td>")
    assert rows == 2 * len(big.titles), rows  # outcome and other-rule columns


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="10,000 ballots and few repeats (CI)")
    parser.add_argument("--ballots", type=int, default=0)
    parser.add_argument("--projects", type=int, default=150)
    parser.add_argument("--repeats", type=int, default=0)
    args = parser.parse_args()
    ballots = args.ballots or (10_000 if args.quick else 100_000)
    count_repeats = args.repeats or (3 if args.quick else 5)
    page_repeats = max(count_repeats * 10, 20 if args.quick else 50)

    os.environ.setdefault("SHAAR_ENV", "development")
    from starlette.testclient import TestClient

    from core.app import create_app
    from core.db import make_database
    from core.migrate import upgrade
    from core.settings import Settings

    folder = Path(tempfile.mkdtemp(prefix="shaar-results-bench-"))
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{folder / 'bench.db'}"
    # PAGE_CACHE_SECONDS=0: this bench measures the results cache (results/cache.py) and the
    # page built from it; the anonymous-page layer above both is request_bench.py's.
    settings = Settings.from_env({"SHAAR_ENV": "development", "SHAAR_VAR_DIR": str(folder),
                                  "DATABASE_URL": url, "SECRET_KEY": "bench-" + "x" * 40,
                                  "PAGE_CACHE_SECONDS": "0"})
    print(f"== results benchmark: {ballots:,} ballots, {args.projects} projects, "
          f"{'SQLite' if settings.is_sqlite else 'PostgreSQL'}")
    start = time.perf_counter()
    upgrade(settings.database_url)
    database = make_database(settings.database_url)
    big = build_round(database, ballots, args.projects)
    print(f"setup (migrate + bulk insert of {big.ballots:,} ballots and log entries): "
          f"{time.perf_counter() - start:.1f} s")

    runs = [count_once(database, big.round_id) for _ in range(count_repeats)]
    counts = [wall for wall, _cpu in runs]
    count = statistics.median(counts)
    count_cpu = statistics.median(cpu for _wall, cpu in runs)
    print(f"count (results.services.count_round, all {len(big.pots)} pots): "
          f"median {count * 1000:.0f} ms of {count_repeats} "
          f"(min {min(counts) * 1000:.0f}, max {max(counts) * 1000:.0f}; "
          f"CPU median {count_cpu * 1000:.0f} ms)")
    publish(database, big.round_id)

    app = create_app(settings, database)
    logging.disable(logging.INFO)  # the app logs every request; the figures are what we want
    page_path = f"/rounds/{big.round_id}/results"
    with TestClient(app, headers={"Accept-Language": "en"}) as client:
        first_start = time.perf_counter()
        first = client.get(page_path)
        first_time = time.perf_counter() - first_start
        assert first.status_code == 200, first.status_code
        check_page(first.text, big)
        check_downloads(client, big)

        def cold() -> None:
            app.state.results_pages.clear()
            client.get(page_path)

        cached, healthz = paired_medians(page_repeats, lambda: client.get(page_path),
                                         lambda: client.get("/healthz"))
        uncached = median_of(max(page_repeats // 5, 5), cold)
        largest = max(big.pots, key=lambda p: len(big.pots[p]))
        pb_path = f"/rounds/{big.round_id}/results/pots/{largest}.pb"
        json_time = median_of(count_repeats, lambda: client.get(
            f"/api/rounds/{big.round_id}/results"))
        pb_time = median_of(count_repeats, lambda: client.get(pb_path))
        sig_time = median_of(count_repeats, lambda: client.get(pb_path + ".sig"))
    print(f"results page ({len(first.content) // 1024} KiB): first request "
          f"{first_time * 1000:.1f} ms, from cache median {cached * 1000:.2f} ms of {page_repeats}")
    print(f"  /healthz median {healthz * 1000:.2f} ms (timed in turn with the page): "
          f"page from cache / healthz = "
          f"{cached / healthz:.1f}x")
    print(f"  cache emptied before each request: median {uncached * 1000:.1f} ms = "
          f"{uncached / cached:.1f}x the cached page")
    print(f"signed downloads: results JSON median {json_time * 1000:.0f} ms, largest pot .pb "
          f"{pb_time * 1000:.0f} ms, its .sig {sig_time * 1000:.0f} ms")
    print(json.dumps({"ballots": big.ballots, "projects": len(big.titles),
                      "count_median_s": round(count, 4),
                      "count_cpu_median_s": round(count_cpu, 4),
                      "page_cached_median_ms": round(cached * 1000, 3),
                      "healthz_median_ms": round(healthz * 1000, 3),
                      "page_uncached_median_ms": round(uncached * 1000, 3)}))
    database.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
