"""Benchmark the counting engine against pabutools, and time it alone on the large files.

    .venv/bin/python bench/tally_bench.py            # Wieliczka + Świecie ratio, large files
    .venv/bin/python bench/tally_bench.py --full     # also Łódź 2022 MES add1 in pabutools (~45 s)

Part 1 runs our engine and pabutools on the same instance in this process, both with MES +
add1 in pabutools' convention (start at budget/voters, stop when exhaustive), checks that they
select the same projects and prints the ratio of rule times (parsing excluded on both sides;
pabutools gets the deduplicated multiprofile, its fastest input).

Part 2 runs ``python -m voting.tally FILE`` as a whole process, as an official would, and
reports the median wall time of several runs and the peak resident memory (getrusage of the
child) for greedy (the file's rule) and MES add1 on Warszawa 2026, Łódź 2022 and Kraków 2024.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PABULIB = Path(os.environ.get("PABULIB_DIR", REPO.parent / "shared" / "pabulib"))
PYTHON = sys.executable
LARGE = ("Poland_Warszawa_2026.pb", "Poland_Lodz_2022.pb", "Poland_Krakow_2024.pb")
MEDIUM = ("Poland_Wieliczka_2023_Green_Budget.pb", "Poland_Swiecie_2023.pb")

# Measures one child process: its wall time and its own peak RSS (the wrapper stays tiny).
_MEASURE = """
import resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
wall = time.perf_counter() - start
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(done.returncode, wall, rss)
"""


def ours_rule_time(path: Path, repeats: int) -> tuple[float, set[str]]:
    sys.path.insert(0, str(REPO))
    from voting.tally.pabulib import read_pabulib
    from voting.tally.rules import RuleSpec, tally

    election = read_pabulib(path, keep_votes=False).to_election()
    spec = RuleSpec(rule="mes", completion="add1", integral_start=False, exhaustive_stop=True)
    times, selected = [], set()
    for _ in range(repeats):
        start = time.perf_counter()
        selected = set(tally(election, spec, explain=False).selected)
        times.append(time.perf_counter() - start)
    return statistics.median(times), selected


def pabutools_rule_time(path: Path) -> tuple[float, set[str]]:
    from pabutools.election import Cost_Sat, parse_pabulib
    from pabutools.rules import method_of_equal_shares
    from pabutools.tiebreaking import TieBreakingRule

    instance, profile = parse_pabulib(str(path))
    multi = profile.as_multiprofile()
    # The same chain as ours: lowest cost, then most votes, then project id.
    votes = {p: profile.approval_score(p) for p in instance}
    tie = TieBreakingRule(lambda inst, prof, p: (p.cost, -votes[p], p.name))
    start = time.perf_counter()
    out = method_of_equal_shares(
        instance, multi, sat_class=Cost_Sat, tie_breaking=tie, voter_budget_increment=1
    )
    return time.perf_counter() - start, {p.name for p in out}


def compare(names: tuple[str, ...], repeats: int) -> None:
    print("== MES add1 (pabutools convention): our engine vs pabutools 1.2.3, rule time only")
    for name in names:
        path = PABULIB / name
        ours, ours_sel = ours_rule_time(path, repeats)
        theirs, theirs_sel = pabutools_rule_time(path)
        same = "same projects" if ours_sel == theirs_sel else "DIFFERENT PROJECTS"
        print(
            f"{name:42s} ours {ours * 1000:8.1f} ms (median of {repeats})"
            f"  pabutools {theirs:7.2f} s  ratio {theirs / ours:7.0f}x  {same}"
        )


def whole_process(path: Path, args: list[str], repeats: int) -> tuple[float, float]:
    walls, peak = [], 0.0
    for _ in range(repeats):
        command = [PYTHON, "-c", _MEASURE, PYTHON, "-m", "voting.tally", str(path), *args]
        out = subprocess.run(command, capture_output=True, text=True, cwd=REPO, check=True)
        code, wall, rss = out.stdout.split()
        if code != "0":
            raise SystemExit(f"tally failed on {path.name} {args}")
        walls.append(float(wall))
        peak = max(peak, int(rss) / 1024)
    return statistics.median(walls), peak


def absolute(repeats: int) -> None:
    print(f"== whole process `python -m voting.tally FILE`, median of {repeats} runs, peak RSS")
    for name in LARGE:
        path = PABULIB / name
        for label, args in (
            ("greedy (META rule)", []),
            ("MES add1", ["--rule", "mes", "--completion", "add1"]),
        ):
            wall, rss = whole_process(path, args, repeats)
            print(f"{name:28s} {label:20s} wall {wall:6.2f} s   peak RSS {rss:6.1f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="also Łódź 2022 in pabutools")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-pabutools", action="store_true")
    options = parser.parse_args()
    if not PABULIB.exists():
        raise SystemExit(f"no pabulib folder at {PABULIB} (set PABULIB_DIR)")
    if not options.skip_pabutools:
        names = MEDIUM + (("Poland_Lodz_2022.pb",) if options.full else ())
        compare(names, options.repeats)
    absolute(options.repeats)


if __name__ == "__main__":
    main()
