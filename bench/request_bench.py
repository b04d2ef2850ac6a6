"""Per-request cost (issue 13), in process: SQL statements and CPU milliseconds per request.

    .venv/bin/python bench/request_bench.py                 # SQLite, 300 requests per scenario
    .venv/bin/python bench/request_bench.py --database-url postgresql+psycopg://postgres@127.0.0.1/bench_request

The app is called as an ASGI callable (no server, no socket, no test client), on the data of
bench/load_bench.py (the demo city, 10,000 published ideas, voters with sessions). For each
scenario it counts the statements the app sends to the database (SQLAlchemy's
`before_cursor_execute`; SQLite's BEGIN counts too, a COMMIT is no statement there) and the
process CPU time per request, and sets them beside the bare Starlette app of
bench/baseline_app.py called the same way: its /healthz (the framework's own cost of a
request), GET /page and POST /form. The overhead of a signed-in request (session, roles,
block, CSRF token, language, last-seen) is signed-in /healthz minus bare /healthz.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load_bench import SECRET, fresh_postgres, prepare  # noqa: E402

HOST = "testserver"
#: Statements per request we aim at: the session in one, a cast in a handful.
STATEMENT_TARGETS = {"signed-in /healthz": 1, "signed-in page": 4, "cast": 8}
OVERHEAD_TARGET_MS = 0.5
PROFILE = 0  # --profile N: print the N costliest calls of each scenario


class Counter:
    def __init__(self) -> None:
        self.statements = 0
        self.log: list[str] = []
        self.keep = False

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.statements += 1
        if self.keep:
            self.log.append(" ".join(statement.split())[:160])


async def call(app: Any, method: str, url: str, headers: dict[str, str] | None = None,
               body: bytes = b"") -> tuple[int, bytes]:
    parts = urlsplit(url)
    raw = {"host": HOST, **(headers or {})}
    if body:
        raw.setdefault("content-type", "application/x-www-form-urlencoded")
        raw["content-length"] = str(len(body))
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": method, "scheme": "http", "path": parts.path,
             "raw_path": parts.path.encode(), "query_string": parts.query.encode(),
             "root_path": "", "client": ("127.0.0.1", 50000), "server": (HOST, 80),
             "headers": [(k.lower().encode("latin-1"), v.encode("latin-1"))
                         for k, v in raw.items()]}
    incoming = [{"type": "http.request", "body": body, "more_body": False}]
    status, chunks = 0, []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


Request = Callable[[int], tuple[str, str, dict[str, str], bytes]]


def measure(loop: asyncio.AbstractEventLoop, app: Any, counter: Counter | None,
            make: Request, n: int, expect: tuple[int, ...], warm: int = 20,
            repeats: int = 3) -> tuple[float, float]:
    """(CPU ms per request: median of `repeats` batches of n, statements per request)."""
    def one(i: int) -> None:
        method, url, headers, body = make(i)
        status, content = loop.run_until_complete(call(app, method, url, headers, body))
        if status not in expect:
            raise SystemExit(f"{method} {url} answered {status}: {content[:600]!r}")

    for i in range(warm):
        one(i)
    if PROFILE and counter is not None:
        import cProfile
        import pstats
        profile = cProfile.Profile()
        profile.enable()
        for j in range(n):
            one(i + j)
        profile.disable()
        i += n
        for order in ("cumulative", "tottime"):
            pstats.Stats(profile, stream=sys.stderr).sort_stats(order).print_stats(PROFILE)
    times, statements, i = [], 0, warm
    for _ in range(repeats):
        before = counter.statements if counter else 0
        start = time.process_time()
        for _ in range(n):
            one(i)
            i += 1
        times.append((time.process_time() - start) * 1000 / n)
        statements = (counter.statements - before) if counter else 0
    return statistics.median(times), statements / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="PostgreSQL database to recreate "
                        "(its name must start with bench); default a fresh SQLite file")
    parser.add_argument("-n", type=int, default=300, help="requests per batch (default 300)")
    parser.add_argument("--repeats", type=int, default=3, help="batches (median; default 3)")
    parser.add_argument("--ideas", type=int, default=10_000)
    parser.add_argument("--show-sql", action="store_true",
                        help="print the statements of one request of each scenario")
    parser.add_argument("--only", help="comma-separated scenario names to run (default all)")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="print the N costliest calls (cProfile) of each scenario")
    args = parser.parse_args()
    global PROFILE
    PROFILE = args.profile
    n, repeats = args.n, args.repeats
    casts_needed = (n * repeats + 40) * 2

    from sqlalchemy import event

    from bench import baseline_app
    from core.app import create_app
    from core.db import make_database
    from core.settings import Settings

    workdir = Path(tempfile.mkdtemp(prefix="shaar-request-"))
    try:
        url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
        if args.database_url:
            if not (url.rsplit("/", 1)[-1].startswith("bench")):
                raise SystemExit("the database name must start with bench (it is recreated)")
            fresh_postgres(url)
        t0 = time.monotonic()
        prepared = prepare(url, workdir, args.ideas, casts_needed, seed=13)
        lines = [line.rstrip("\n").split("\t")
                 for line in prepared.requests_file.read_text().splitlines()]
        # First casts only: re-casts are rarer and cost one UPDATE more.
        first, seen = [], set()
        for path, cookie, body in lines:
            if cookie not in seen:
                seen.add(cookie)
                first.append((path, cookie, body))
        print(f"prepared {args.ideas:,} ideas and {len(first):,} voters in "
              f"{time.monotonic() - t0:.0f} s ({url.split(':')[0]})")
        env = {"SHAAR_ENV": "production", "SHAAR_VAR_DIR": str(workdir / "var"),
               "DATABASE_URL": url, "SECRET_KEY": SECRET, "BASE_URL": f"http://{HOST}"}
        settings = Settings.from_env(env)
        database = make_database(url)
        counter = Counter()
        for engine in {database.read_engine, database.write_engine}:
            event.listen(engine, "before_cursor_execute", counter)
        app = create_app(settings, database)
        # The same app without the page cache (core/pagecache.py): what a page costs to build.
        uncached = create_app(Settings.from_env({**env, "PAGE_CACHE_SECONDS": "0"}), database)
        loop = asyncio.new_event_loop()
        reader = first[-1][1]  # a voter who never casts here: a signed-in reader
        anon = {"cookie": "shaar_bid=benchreader0000000000000000000000"}
        signed = {"cookie": reader}

        def get(path: str, headers: dict[str, str]) -> Request:
            return lambda _i: ("GET", path, headers, b"")

        def cast(i: int) -> tuple[str, str, dict[str, str], bytes]:
            path, cookie, body = first[i]
            return "POST", path, {"cookie": cookie, "origin": f"http://{HOST}"}, body.encode()

        from bench.baseline_app import TOKEN
        form_body = (f"csrf_token={TOKEN}&mark=12%3A1&mark=14%3A2&age_confirmed=yes").encode()
        bare = baseline_app.app
        rows: list[tuple[str, float, float, str, str]] = []
        bare_health, _ = measure(loop, bare, None, get("/healthz", {}), n, (200,),
                                 repeats=repeats)
        bare_page, _ = measure(loop, bare, None, get("/page", {}), n, (200,), repeats=repeats)
        bare_form, _ = measure(loop, bare, None, lambda _i: ("POST", "/form", {}, form_body),
                               n, (200,), repeats=repeats)
        rows += [("bare /healthz", bare_health, 0, "", ""),
                 ("bare GET /page", bare_page, 0, "", ""),
                 ("bare POST /form", bare_form, 0, "", "")]
        def filtered(i: int) -> tuple[str, str, dict[str, str], bytes]:
            """The idea list as readers browse it: a sort, a district filter, a page."""
            sort = ("newest", "cost_asc", "cost_desc")[i % 3]
            query = f"sort={sort}&district={1 + i % 4}&page={1 + i // 12 % 20}"
            return "GET", f"{prepared.paths['ideas']}?{query}", anon, b""

        scenarios: list[tuple[str, Request, tuple[int, ...], float]] = [
            ("anonymous /healthz", get("/healthz", anon), (200,), bare_health),
            ("signed-in /healthz", get("/healthz", signed), (200,), bare_health),
            ("signed-in page", get("/account", signed), (200,), bare_page),
            ("cast", cast, (303,), bare_form),
            ("idea list", get(prepared.paths["ideas"], anon), (200,), bare_page),
            ("idea page", get(prepared.paths["idea"], anon), (200,), bare_page),
            ("results page", get(prepared.paths["results"], anon), (200,), bare_page),
            ("idea list (built)", get(prepared.paths["ideas"], anon), (200,), bare_page),
            ("idea list filtered (built)", filtered, (200,), bare_page),
            ("idea page (built)", get(prepared.paths["idea"], anon), (200,), bare_page),
            ("signed-in idea list", get(prepared.paths["ideas"], signed), (200,), bare_page),
        ]
        wanted = set(args.only.split(",")) if args.only else None
        for name, make, expect, base in scenarios:
            if wanted and name not in wanted:
                continue
            target_app = uncached if name.endswith(" (built)") else app
            if args.show_sql:
                counter.keep, counter.log = True, []
                loop.run_until_complete(call(target_app, *make(len(first) - 2)))
                counter.keep = False
                print(f"--- {name}:\n  " + "\n  ".join(counter.log))
            with contextlib.redirect_stdout(io.StringIO()):  # mail without SMTP is printed
                ms, statements = measure(loop, target_app, counter, make, n, expect,
                                         repeats=repeats)
            goal = STATEMENT_TARGETS.get(name)
            target = (f"{'ok' if statements <= goal else 'MISS'} <= {goal}"
                      if goal is not None else "")
            rows.append((name, ms, statements, f"{ms / base:.1f}x", target))
        overhead = next((r[1] for r in rows if r[0] == "signed-in /healthz"), 0) - bare_health
        print(f"\n{'scenario':<26} {'CPU ms':>7} {'x bare':>7} {'SQL/req':>8}  statements target")
        for name, ms, statements, ratio, target in rows:
            print(f"{name:<26} {ms:>7.2f} {ratio:>7} {statements:>8.1f}  {target}")
        verdict = "ok" if overhead < OVERHEAD_TARGET_MS else "MISS"
        print(f"\nsigned-in request overhead (signed-in /healthz - bare /healthz): "
              f"{overhead:.2f} ms CPU, {verdict} < {OVERHEAD_TARGET_MS} ms")
        print(f"(median of {repeats} batches of {n}; 'x bare' = CPU over the bare endpoint "
              f"of the same kind: /healthz, GET /page, POST /form; anonymous pages come from "
              f"the page cache, '(built)' ones from an app without it)")
        database.dispose()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
