"""Photo upload benchmark (issue 12, item 7): what parallel idea posts with big photos cost.

    .venv/bin/python bench/upload_bench.py [--port 8120] [--posts 3] [--photos 5]

Serves a fresh SQLite database with uvicorn (one process) and, per scenario, sends `--posts`
idea posts at once, each from its own signed-in account, and measures the wall time of the
batch and the server's peak resident memory (VmHWM, reset before each scenario):

  plain   the idea form without files (the reference the others are a ratio of)
  bombs   `--photos` PNGs each of 6300 x 6300 black pixels (116 KB on disk, 119 MB decoded):
          the issue's case, 49 s and 621 MB before the header check
  large   `--photos` real 24-megapixel JPEGs each (just under the 25 MP cap, ~1 MB): photos
          that must be decoded; the decode semaphore lets two decode at once

Scenarios run in a fresh server each, so one's peak memory does not hide another's.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SECRET = "upload-bench-secret-key-not-for-production-0123456789"


def png_bomb(width: int = 6300, height: int = 6300) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body)))

    packer = zlib.compressobj(9)
    row = b"\x00" * (1 + 3 * width)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat)
            + chunk(b"IEND", b""))


def large_jpeg(width: int = 6000, height: int = 4000) -> bytes:
    from PIL import Image

    img = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    out = io.BytesIO()
    img.save(out, "JPEG", quality=80)
    return out.getvalue()


def prepare(url: str, accounts: int) -> tuple[int, dict[str, str], list[str]]:
    """Migrate; one round taking ideas; `accounts` verified residents with sessions.
    Returns the round id, the idea form's fields and the session tokens."""
    from sqlalchemy import insert

    from contests.models import PHASE_ORDER, Category, Contest, Round, RoundPhase, RoundPot
    from core.db import make_database
    from core.migrate import upgrade
    from core.models import District, User, UserSession, utcnow
    from core.security import new_token, token_hash

    upgrade(url)
    database = make_database(url)
    now = utcnow()
    with database.session(write=True) as s:
        contest = Contest(slug="bench", title="Bench", year=2027)
        s.add(contest)
        s.flush()
        round_ = Round(contest_id=contest.id, number=1, title="Bench round",
                       max_ideas_per_day=1000)
        district = District(slug="bench-d", name_ru="Район", name_ky="Район", name_en="District")
        category = Category(slug="bench-c", name_ru="Категория", name_ky="Категория",
                            name_en="Category")
        s.add_all([round_, district, category])
        s.flush()
        index = PHASE_ORDER.index("submission")
        for i, phase in enumerate(PHASE_ORDER):
            start = now + timedelta(days=10 * (i - index)) - timedelta(days=1)
            s.add(RoundPhase(round_id=round_.id, phase=phase, starts_at=start,
                             ends_at=start + timedelta(days=10)))
        s.add(RoundPot(round_id=round_.id, district_id=district.id, budget=1_000_000))
        users = [User(email=f"uploader{n}@bench.example", display_name=f"Uploader {n}",
                      created_at=now, email_confirmed_at=now, district_id=district.id,
                      is_verified=True, verified_via="admin", verified_at=now)
                 for n in range(accounts)]
        s.add_all(users)
        s.flush()
        tokens = [new_token() for _ in users]
        s.execute(insert(UserSession), [{
            "token_hash": token_hash(t), "user_id": u.id, "created_at": now,
            "last_seen_at": now, "expires_at": now + timedelta(days=30)}
            for u, t in zip(users, tokens, strict=True)])
        fields = {"title": "Benches in the yard", "summary": "Six benches near the playground",
                  "description": "Benches.", "category": str(category.id),
                  "district": str(district.id), "estimated_cost": "450000",
                  "address": "Toktogul 125", "action": "save"}
        round_id = round_.id
    database.dispose()
    assert round_id is not None
    return round_id, fields, tokens


@contextlib.contextmanager
def serve(port: int, env: dict[str, str], log: Path) -> Iterator[int]:
    command = [sys.executable, "-m", "uvicorn", "core.asgi:app", "--host", "127.0.0.1",
               "--port", str(port), "--no-access-log", "--log-level", "warning"]
    with log.open("w") as out:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out,
                                start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"the server did not start:\n{log.read_text()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise SystemExit("the server did not answer within 60 s")
            time.sleep(0.2)
        yield proc.pid
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def post_all(base: str, round_id: int, fields: dict[str, str], tokens: list[str],
             photos: list[tuple[str, bytes, str]]) -> tuple[float, list[int]]:
    from core.security import csrf_token

    statuses: list[int] = [0] * len(tokens)
    barrier = threading.Barrier(len(tokens))

    def one(n: int) -> None:
        cookies = {"shaar_session": tokens[n], "shaar_bid": f"bench{n:027d}"}
        data = {**fields, "title": f"{fields['title']} {n}",
                "csrf_token": csrf_token(SECRET, tokens[n])}
        files = [("photos", photo) for photo in photos]
        barrier.wait()
        with httpx.Client(base_url=base, cookies=cookies, timeout=600) as client:
            response = client.post(f"/rounds/{round_id}/ideas/new", data=data,
                                   files=files or None, headers={"Origin": base})
            statuses[n] = response.status_code

    threads = [threading.Thread(target=one, args=(n,)) for n in range(len(tokens))]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.monotonic() - started, statuses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8120)
    parser.add_argument("--posts", type=int, default=3, help="idea posts sent at once")
    parser.add_argument("--photos", type=int, default=5, help="photos per post")
    parser.add_argument("--scenarios", default="plain,bombs,large")
    args = parser.parse_args()
    bomb, large = png_bomb(), large_jpeg()
    payloads = {"plain": [],
                "bombs": [(f"bomb{i}.png", bomb, "image/png") for i in range(args.photos)],
                "large": [(f"large{i}.jpg", large, "image/jpeg") for i in range(args.photos)]}
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; "
          f"{args.posts} posts at once, {args.photos} photos each; bomb {len(bomb) / 1024:.0f} KB "
          f"(6300x6300), large {len(large) / 2**20:.1f} MB (6000x4000)")
    rows = []
    with tempfile.TemporaryDirectory(prefix="shaar-upload-") as tmp:
        for name in args.scenarios.split(","):
            work = Path(tmp) / name
            work.mkdir()
            url = f"sqlite:///{work / 'bench.db'}"
            round_id, fields, tokens = prepare(url, args.posts)
            base = f"http://127.0.0.1:{args.port}"
            env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": SECRET,
                   "SHAAR_VAR_DIR": str(work), "BASE_URL": base, "PYTHONPATH": str(ROOT),
                   "UPLOAD_RATE_LIMIT": "1000/3600"}
            with serve(args.port, env, work / "server.log") as pid:
                idle = peak_rss_mb(pid)
                wall, statuses = post_all(base, round_id, fields, tokens, payloads[name])
                rows.append((name, wall, idle, peak_rss_mb(pid), statuses))
    plain = next((r[1] for r in rows if r[0] == "plain"), None)
    print(f"{'scenario':<8} {'wall s':>8} {'x plain':>8} {'idle MB':>8} {'peak MB':>8}  statuses")
    for name, wall, idle, peak, statuses in rows:
        ratio = f"{wall / plain:.1f}" if plain else "-"
        print(f"{name:<8} {wall:>8.2f} {ratio:>8} {idle:>8.0f} {peak:>8.0f}  {statuses}")


if __name__ == "__main__":
    main()
