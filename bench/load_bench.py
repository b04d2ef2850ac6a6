"""Load benchmark (issue 8): Shaar under wrk, as a ratio of a bare Starlette app.

    .venv/bin/python bench/load_bench.py --quick      # CI: short runs, smaller data (< 3 min)
    .venv/bin/python bench/load_bench.py              # by hand: 5 runs of 10 s per scenario

For each database it builds a fresh one (the demo city, 10,000 published ideas, thousands of
verified voters each with a session made beforehand), serves it with uvicorn (SQLite: one
process; PostgreSQL: --pg-workers processes) and drives four scenarios with wrk:

  ballots   signed-in voters cast a ballot (CSRF, validation, ballot-log append; 303 to the
            receipt); mostly distinct voters, about one in ten re-casts (replaces a ballot)
  ideas     the idea list (first page of 10,000)
  idea      one idea's page
  results   the results page of a round whose results are published
  paced     casts as in ballots, but offered at a fixed rate (--paced-rate, default 50 a
            second, 180,000 an hour) by connections that pause between casts: the latency
            one voter sees at a load the server can take. The other scenarios saturate the
            server, so their latency is the queue (50 connections / throughput)

The three pages are read anonymously, so after the first request they come from the page
cache (core/pagecache.py, PAGE_CACHE_SECONDS); bench/request_bench.py prints what building
them costs (its '(built)' rows).

The bare baseline (bench/baseline_app.py) runs under the same uvicorn flags and worker count:
GET /page renders a Jinja page of the idea list's size, POST /form parses a form, checks an
HMAC token and renders the same page. Scenarios are interleaved run by run, so a busy
neighbour slows ours and the baseline alike, and the table shows medians of the runs.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCH = ROOT / "bench"
PYTHON = sys.executable
SECRET = "load-bench-secret-key-not-for-production-0123456789"
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_load"
TARGETS = {"ballots": 0.30, "ideas": 0.50, "idea": 0.50, "results": 0.50}
#: The voters' lists: where each run of these scenarios starts (see Scenario.offset).
CASTING = ("ballots", "paced")
P99_TARGET_MS = 100.0


@dataclass
class Sample:
    rps: float
    p50: float
    p99: float
    requests: int
    errors: int  # non-2xx/3xx responses: the app refused or failed
    timeouts: int  # socket errors and timeouts (10 s)


@dataclass
class Scenario:
    name: str
    server: str
    url: str
    script: list[str] = field(default_factory=list)  # wrk -s, "--" and the script's arguments
    headers: list[str] = field(default_factory=list)
    baseline: str = ""  # name of the baseline scenario to divide by
    baseline_server: str = ""
    samples: list[Sample] = field(default_factory=list)
    offset: int = 0  # ballots: where the next run starts in each thread's voters
    stride: int = 0  # ballots: how far apart the runs start, so they reach different voters


# --------------------------------------------------------------------------- data


@dataclass
class Prepared:
    paths: dict[str, str]
    requests_file: Path
    lines: int
    voters: int
    recasts: int
    probe: tuple[str, str, str]  # a voter kept out of the load, to check a cast works


def prepare(url: str, workdir: Path, ideas: int, voters: int, seed: int) -> Prepared:
    """Migrate and fill a fresh database; write the ballots' request file."""
    from sqlalchemy import insert
    from sqlmodel import col, select

    from contests.models import Contest, Round, RoundPot
    from core.db import make_database
    from core.demo import seed as seed_demo
    from core.migrate import upgrade
    from core.models import District, User, UserSession, utcnow
    from core.security import csrf_token, new_token, token_hash
    from ideas.models import Idea, IdeaStatus
    from voting.models import BallotItem, PotVoting

    upgrade(url)
    database = make_database(url)
    rng = random.Random(seed)
    now = utcnow()
    with database.session(write=True) as s:
        seed_demo(s, now)
    with database.session(write=True) as s:
        contest = s.exec(select(Contest)).one()
        rounds = {r.number: r for r in s.exec(select(Round)).all()}
        districts = list(s.exec(select(District).order_by(col(District.id))).all())
        author = s.exec(select(User).where(User.email == "resident@demo.shaar.kg")).one()
        rows = []
        for n in range(1, ideas + 1):
            title = f"Идея жителей номер {n}: скамейки, фонари и деревья во дворе"
            rows.append({
                "reference": f"{contest.year}-{10_000 + n:05d}", "round_id": rounds[1].id,
                "author_id": author.id, "district_id": districts[n % 4].id,
                "category_id": None, "title": title,
                "summary": "Поставить скамейки, посадить деревья и осветить дорожки.",
                "description": "Подробное описание идеи. " * 10, "estimated_cost": 1000 * n,
                "address": "", "status": IdeaStatus.PUBLISHED, "version": 1,
                "search_text": title.lower(), "support_count": n % 50, "comment_count": 0,
                "created_at": now - timedelta(minutes=n), "updated_at": now,
                "submitted_at": now - timedelta(minutes=n), "hidden_reason": "",
                "published_at": now - timedelta(minutes=n),
            })
        for start in range(0, len(rows), 2000):
            s.execute(insert(Idea), rows[start:start + 2000])
        voting_round = rounds[2]
        pots = {p.district_id: p for p in s.exec(
            select(RoundPot).where(RoundPot.round_id == voting_round.id)).all()}
        kinds = {v.pot_id: v.kind for v in s.exec(
            select(PotVoting).where(PotVoting.round_id == voting_round.id)).all()}
        items: dict[int, list[tuple[int, int]]] = {}
        for item in s.exec(select(BallotItem).where(BallotItem.round_id == voting_round.id)
                           .order_by(col(BallotItem.position))).all():
            items.setdefault(item.pot_id, []).append((item.idea_id, item.cost))
        users = [User(email=f"voter{n}@bench.example", display_name=f"Избиратель {n}",
                      created_at=now, email_confirmed_at=now, district_id=districts[0].id,
                      is_verified=True, verified_via="admin", verified_at=now)
                 for n in range(voters + 1)]
        s.add_all(users)
        s.flush()
        tokens = [new_token() for _ in users]
        s.execute(insert(UserSession), [{
            "token_hash": token_hash(t), "user_id": u.id, "created_at": now,
            "last_seen_at": now, "expires_at": now + timedelta(days=30)}
            for u, t in zip(users, tokens, strict=True)])
        idea_ref = s.exec(select(Idea.reference).where(Idea.round_id == rounds[1].id)
                          .order_by(col(Idea.id))).first()

    district_pot, city_pot = pots[districts[0].id], pots[None]
    budget = district_pot.budget
    knapsack = items[district_pot.id or 0]
    # Every pair that fits the budget and spends at least half of it (the demo's rule).
    knapsack_choices = [(a, b) for i, a in enumerate(knapsack) for b in knapsack[i + 1:]
                        if budget // 2 <= a[1] + b[1] <= budget]
    ordinal = [idea for idea, _cost in items[city_pot.id or 0]]
    assert kinds[city_pot.id or 0] == "ordinal" and knapsack_choices

    def line(n: int) -> tuple[str, str, str]:
        token = tokens[n]
        if n % 2:
            pot = district_pot.id
            pair = rng.choice(knapsack_choices)
            marks = [f"{pair[0][0]}:1", f"{pair[1][0]}:1"]
        else:
            pot = city_pot.id
            first, second = rng.sample(ordinal, 2)
            marks = [f"{first}:1", f"{second}:2"]
        body = urlencode([("csrf_token", csrf_token(SECRET, token)),
                          *(("mark", m) for m in marks), ("age_confirmed", "yes")])
        cookie = f"shaar_session={token}; shaar_bid=bench{n:027d}"
        return f"/rounds/{voting_round.id}/vote/{pot}/cast", cookie, body

    order = list(range(1, voters + 1))
    rng.shuffle(order)
    lines, recasts = [], 0
    for position, n in enumerate(order):
        lines.append(line(n))
        if position % 10 == 9:  # one in ten: someone who voted a moment ago changes their mind
            lines.append(line(order[position - rng.randint(1, min(position, 20))]))
            recasts += 1
    if url.startswith("postgresql"):
        # The steady state of a live site, where autovacuum has analysed the tables and set
        # the visibility map (without it, counting ideas reads every row of the table).
        from sqlalchemy import create_engine, text

        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("VACUUM ANALYZE"))
        engine.dispose()
    requests_file = workdir / f"ballots-{abs(hash(url)) % 10_000}.tsv"
    requests_file.write_text("".join("\t".join(parts) + "\n" for parts in lines))
    database.dispose()
    return Prepared(
        paths={"ideas": "/ideas", "idea": f"/ideas/{idea_ref}",
               "results": f"/rounds/{rounds[3].id}/results"},
        requests_file=requests_file, lines=len(lines), voters=voters, recasts=recasts,
        probe=line(0))


def fresh_postgres(url: str) -> None:
    """Drop and create the benchmark's own database (never `test`)."""
    from sqlalchemy import create_engine, make_url, text

    target = make_url(url)
    name = target.database
    if not name or name in ("test", "postgres"):
        raise SystemExit(f"refusing to recreate database {name!r}; use e.g. bench_load")
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def cast_summary(url: str) -> tuple[int, int]:
    """How many ballots the log holds, and how many of them replaced an earlier one (counted
    as the ballots they superseded: the public log never says which entry replaces which)."""
    from sqlmodel import col, func, select

    from core.db import make_database
    from voting.models import Ballot, BallotLogEntry

    database = make_database(url)
    with database.session() as s:
        total = s.exec(select(func.count()).select_from(BallotLogEntry)).one()
        replaced = s.exec(select(func.count()).select_from(Ballot)
                          .where(col(Ballot.is_current).is_(None))).one()
    database.dispose()
    return int(total), int(replaced)


# --------------------------------------------------------------------------- servers


#: --port-base: servers take consecutive ports from here (else any free port).
PORT_BASE: list[int] = []


def free_port() -> int:
    if PORT_BASE:
        PORT_BASE[0] += 1
        return PORT_BASE[0] - 1
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serve(app: str, port: int, workers: int, env: dict[str, str], log: Path) -> Iterator[None]:
    """uvicorn on 127.0.0.1 with the same flags for ours and the baseline; stopped on exit."""
    command = [PYTHON, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port),
               "--workers", str(workers), "--no-access-log", "--log-level", "warning",
               "--no-server-header"]
    with log.open("w") as out:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out,
                                start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"{app} did not start; see {log}:\n{log.read_text()[-2000:]}")
            try:
                if get(port, "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"{app} did not answer within 60 s; see {log}")
            time.sleep(0.2)
        yield
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def get(port: int, path: str, headers: dict[str, str] | None = None,
        body: str | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST" if body is not None else "GET", path, body=body,
                     headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


# --------------------------------------------------------------------------- wrk

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        raise ValueError(f"unreadable latency {text!r}")
    return float(match.group(1)) * UNITS[match.group(2)]


def parse_wrk(output: str) -> Sample:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    errors = timeouts = 0
    if found := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output):
        errors = int(found.group(1))
    if found := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), "
                          r"timeout (\d+)", output):
        timeouts = sum(int(g) for g in found.groups())
    return Sample(rps, p50, p99, requests, errors, timeouts)


def run_wrk(scenario: Scenario, seconds: float, connections: int, threads: int,
            record: bool = True) -> Sample:
    script = list(scenario.script)
    if scenario.name in CASTING:
        script[4] = str(scenario.offset)  # FILE THREADS OFFSET ORIGIN after "-s X --"
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--latency",
               "--timeout", "10s"]
    for header in scenario.headers:
        command += ["-H", header]
    if script:
        command += ["-s", script[0], scenario.url, "--", *script[2:]]
    else:
        command.append(scenario.url)
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"wrk failed ({' '.join(command[:8])} ...):\n{done.stderr}{done.stdout}")
    output = done.stdout
    sample = parse_wrk(output)
    settle(scenario.url)
    scenario.offset += scenario.stride
    if record:
        scenario.samples.append(sample)
    return sample


def settle(url: str) -> None:
    """Wait until the server has worked off what wrk left queued when it stopped (a write
    backlog would otherwise slow down the next scenario)."""
    port = int(url.split(":")[2].split("/")[0])
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            if get(port, "/healthz")[0] == 200:
                return
        time.sleep(0.1)


# --------------------------------------------------------------------------- report


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def report(scenarios: list[Scenario], connections: int) -> str:
    by_key = {(s.server, s.name): s for s in scenarios}
    lines = [f"{'server':<22} {'scenario':<9} {'req/s':>8} {'ratio':>7} {'target':>8} "
             f"{'p50 ms':>8} {'p99 ms':>8} {'p99 target':>11} {'err':>4} {'t/o':>4}  "
             f"runs (req/s)"]
    for s in scenarios:
        rps = median([x.rps for x in s.samples])
        ratio, target = "", ""
        if s.baseline:
            base = by_key[(s.baseline_server, s.baseline)]
            value = rps / median([x.rps for x in base.samples])
            goal = TARGETS[s.name]
            ratio = f"{value:.0%}"
            target = f"{'ok' if value >= goal else 'MISS'} {goal:.0%}"
        p99 = median([x.p99 for x in s.samples])
        # Judged on the baseline rows too: when the bare app misses it, so can this machine.
        p99_target = f"{'ok' if p99 < P99_TARGET_MS else 'MISS'} <{P99_TARGET_MS:.0f}"
        lines.append(f"{s.server:<22} {s.name:<9} {rps:>8.0f} {ratio:>7} {target:>8} "
                     f"{median([x.p50 for x in s.samples]):>8.1f} {p99:>8.1f} "
                     f"{p99_target:>11} {sum(x.errors for x in s.samples):>4} "
                     f"{sum(x.timeouts for x in s.samples):>4}  "
                     f"{' '.join(f'{x.rps:.0f}' for x in s.samples)}")
    lines.append(f"(medians of the runs; {connections} connections; ratio = our req/s over "
                 f"the bare baseline's with the same workers;\n err = non-2xx/3xx responses, "
                 f"t/o = socket errors and timeouts; p99 target {P99_TARGET_MS:.0f} ms, judged "
                 f"on the baseline too:\n a baseline that misses it shows what this machine "
                 f"allows at {connections} connections)")
    return "\n".join(lines)


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="CI: 3 runs of 2 s, 1,500 voters (under 3 minutes in all)")
    parser.add_argument("--runs", type=int, help="runs per scenario (default 5; quick 3)")
    parser.add_argument("--seconds", type=int, help="seconds per run (default 10; quick 2)")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--ideas", type=int, default=10_000)
    parser.add_argument("--voters", type=int, help="default 20,000; quick 1,500")
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", PG_DEFAULT),
                        help="PostgreSQL database to recreate (default bench_load)")
    parser.add_argument("--pg-workers", type=int, default=2)
    parser.add_argument("--only", choices=("sqlite", "pg"), help="one database only")
    parser.add_argument("--scenarios", default="ballots,paced,ideas,idea,results")
    parser.add_argument("--paced-rate", type=float, default=50.0,
                        help="casts a second that the paced scenario offers (default 50)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--port-base", type=int, help="serve on consecutive ports from this one "
                        "(at most 4 are used; default: any free ports)")
    args = parser.parse_args()
    if args.port_base:
        PORT_BASE.append(args.port_base)
    runs = args.runs or (3 if args.quick else 5)
    seconds = args.seconds or (2 if args.quick else 10)
    voters = args.voters or (1_500 if args.quick else 20_000)
    wanted = args.scenarios.split(",")
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")

    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="shaar-load-"))
    backends = []
    if args.only != "pg":
        backends.append(("sqlite", f"sqlite:///{workdir / 'bench.db'}", 1))
    if args.only != "sqlite":
        try:
            fresh_postgres(args.pg_url)
            backends.append(("pg", args.pg_url, args.pg_workers))
        except Exception as exc:  # noqa: BLE001 - no PostgreSQL here: say so and go on
            print(f"PostgreSQL skipped: {exc.__class__.__name__}: {str(exc)[:200]}")

    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; "
          f"{runs} runs x {seconds:g} s, {args.connections} connections; work folder {workdir}")
    scenarios: list[Scenario] = []
    with contextlib.ExitStack() as stack:
        worker_counts = sorted({w for _n, _u, w in backends})
        for workers in worker_counts:
            port = free_port()
            env = {**os.environ, "PYTHONPATH": str(ROOT)}
            stack.enter_context(serve("bench.baseline_app:app", port, workers, env,
                                      workdir / f"baseline-{workers}.log"))
            server = f"baseline ({workers} proc)"
            base = f"http://127.0.0.1:{port}"
            scenarios.append(Scenario("page", server, f"{base}/page"))
            from bench.baseline_app import TOKEN
            scenarios.append(Scenario("form", server, f"{base}/form", script=[
                str(BENCH / "form_post.lua"), "--",
                urlencode([("csrf_token", TOKEN), ("mark", "12:1"), ("mark", "14:2"),
                           ("age_confirmed", "yes")])]))
        for name, url, workers in backends:
            t0 = time.monotonic()
            prepared = prepare(url, workdir, args.ideas, voters, seed=8)
            print(f"{name}: {args.ideas:,} ideas, {voters:,} voters with sessions, "
                  f"{prepared.recasts:,} re-casts in the request list "
                  f"(prepared in {time.monotonic() - t0:.1f} s)")
            port = free_port()
            env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": SECRET,
                   "SHAAR_ENV": "production", "SHAAR_VAR_DIR": str(workdir / name),
                   "BASE_URL": f"http://127.0.0.1:{port}", "PYTHONPATH": str(ROOT)}
            stack.enter_context(serve("core.asgi:app", port, workers, env,
                                      workdir / f"{name}.log"))
            server = f"shaar {name} ({workers} proc)"
            base = f"http://127.0.0.1:{port}"
            check(port, prepared)
            bid = "Cookie: shaar_bid=benchreader0000000000000000000000"
            # Each thread's share of the voters, cut so that every run reaches new ones.
            stride = prepared.lines // args.threads // (runs + 1)
            for scenario in wanted:
                if scenario == "ballots":
                    s = Scenario("ballots", server, base, script=[
                        str(BENCH / "ballots.lua"), "--", str(prepared.requests_file),
                        str(args.threads), "0", base], baseline="form", stride=stride)
                elif scenario == "paced":
                    # Each connection pauses so that all of them offer --paced-rate casts a
                    # second; it starts halfway between the ballots runs' voters.
                    pause = args.connections / args.paced_rate * 1000
                    s = Scenario("paced", server, base, script=[
                        str(BENCH / "paced.lua"), "--", str(prepared.requests_file),
                        str(args.threads), "0", base, f"{pause:.0f}"], stride=stride,
                                 offset=stride // 2)
                else:
                    s = Scenario(scenario, server, base + prepared.paths[scenario],
                                 headers=[bid], baseline="page")
                s.baseline_server = f"baseline ({workers} proc)"
                scenarios.append(s)

        for s in scenarios:  # warm up: imports, caches, connection pools, JIT-less but still
            run_wrk(s, 1, args.connections, args.threads, record=False)
        for run in range(runs):
            order = scenarios[:]
            random.Random(run).shuffle(order)
            for s in order:
                run_wrk(s, seconds, args.connections, args.threads)
            print(f"run {run + 1}/{runs} done ({time.monotonic() - started:.0f} s)",
                  flush=True)

    print()
    print(report(scenarios, args.connections))
    if "paced" in wanted:
        print(f"(paced: {args.paced_rate:g} casts a second offered by {args.connections} "
              f"connections pausing between casts; its req/s is what was served)")
    for name, url, _workers in backends:
        total, replaced = cast_summary(url)
        print(f"{name}: ballot log holds {total:,} entries, {replaced:,} of them replaced an "
              f"earlier ballot")
    print(f"load average now {os.getloadavg()[0]:.2f}; total {time.monotonic() - started:.0f} s")
    if args.keep:
        print(f"kept {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    failed = [s for s in scenarios if any(x.errors for x in s.samples)]
    if failed:  # missed targets are reported, not failed; wrong answers fail
        raise SystemExit("error responses in: " + ", ".join(f"{s.server} {s.name}"
                                                             for s in failed))


def check(port: int, prepared: Prepared) -> None:
    """Before loading: a cast answers 303 and every page 200, so wrk measures real work."""
    path, cookie, body = prepared.probe
    status, content = get(port, path, {
        "Cookie": cookie, "Origin": f"http://127.0.0.1:{port}",
        "Content-Type": "application/x-www-form-urlencoded"}, body)
    if status != 303:
        raise SystemExit(f"casting a ballot answered {status}, not 303:\n{content[:800]!r}")
    for name, page in prepared.paths.items():
        status, content = get(port, page)
        if status != 200:
            raise SystemExit(f"{name} ({page}) answered {status}")
        print(f"  {name:<8} {page:<28} {len(content) / 1024:6.1f} KiB")


if __name__ == "__main__":
    main()
