"""Rule simulation for administrators: count one set of ballots under every rule the engine
offers and compare the outcomes. Nothing here stores a result; the routes audit each run.

The ballots come from an uploaded pabulib file (`read_upload`) or from the current ballots of a
round whose voting has closed (`round_pots`, which reuses the results code's own election
building). `simulate` is pure: plain values in, a `Simulation` out.
"""

from __future__ import annotations

import csv
import hashlib
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlmodel import Session, col, select

from contests.models import Contest, Phase, Round, RoundPhase
from results.counting import election_of, rule_spec
from results.services import is_voting_closed, pot_inputs
from voting import queries as voting_queries
from voting.models import RoundVoting
from voting.tally.greedy import greedy
from voting.tally.model import Election, Money
from voting.tally.pabulib import PabulibError, PabulibFile, loads
from voting.tally.rules import RuleSpec, UnknownRule, tally
from voting.tally.tiebreak import DEFAULT_TIE_BREAK, TieBreak

MAX_FILE_BYTES = 32 * 1024 * 1024
"""Larger than any city's pabulib file we know (Warszawa 2026, 61,668 voters, is 3 MB)."""

RULE_SECONDS = 10.0
"""An add1 completion that has not finished after this long is stopped and reported as such."""

STANDARD_RULES = ("greedy", "greedy_no_skip", "mes", "mes_greedy", "mes_add1", "mes_add1_greedy")


class SimulationRefused(Exception):
    """The simulation cannot run; `code` names why and `detail` carries the parser's message."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


class _OutOfTime(Exception):
    pass


def add1_increment(budget: Money, voters: int) -> int:
    """How much add1 raises each voter's share per step: 1 while a share is below 10,000
    (every city file we know, so the outcome is the city's), then a power of ten keeping the
    number of steps near a thousand. A few voters sharing a large budget would otherwise need
    hundreds of thousands of reruns."""
    if voters <= 0 or budget <= 0:
        return 1
    digits = len(str(int(budget // voters)))  # exact: no float for huge budgets
    return 10 ** max(0, digits - 4)


def standard_specs(election: Election, tie_break: TieBreak = DEFAULT_TIE_BREAK
                   ) -> list[tuple[str, RuleSpec]]:
    """Every rule the engine offers, for any kind of ballot: each kind is reduced to points, so
    greedy by score and equal shares (with cardinal utilities for points) apply to all."""
    step = add1_increment(election.budget, election.profile.num_voters)
    return [
        ("greedy", RuleSpec(tie_break=tie_break)),
        ("greedy_no_skip", RuleSpec(skip=False, tie_break=tie_break)),
        ("mes", RuleSpec(rule="mes", tie_break=tie_break)),
        ("mes_greedy", RuleSpec(rule="mes", completion="utilitarian", tie_break=tie_break)),
        ("mes_add1", RuleSpec(rule="mes", completion="add1", increment=step,
                              tie_break=tie_break)),
        ("mes_add1_greedy", RuleSpec(rule="mes", completion="add1u", increment=step,
                                     tie_break=tie_break)),
    ]


@dataclass(frozen=True)
class RuleRun:
    """One rule's outcome. `problem` is "time" when it was stopped for taking too long, or
    "error" when the amounts are beyond what it can count; then nothing is selected."""

    key: str
    spec: RuleSpec
    selected: tuple[str, ...]
    total_cost: Money
    official: bool
    problem: str = ""

    @property
    def stopped(self) -> bool:
        return bool(self.problem)


@dataclass(frozen=True)
class Line:
    """One project: its tallies and, per rule (in `Simulation.runs` order), whether it wins."""

    id: str
    name: str
    cost: Money
    votes: int
    score: int
    chosen: tuple[bool, ...]
    in_file: bool | None = None


@dataclass(frozen=True)
class Difference:
    """What `run` funds that `reference` does not (`added`), and the reverse (`dropped`)."""

    run: RuleRun
    reference: RuleRun
    added: tuple[Line, ...]
    dropped: tuple[Line, ...]


@dataclass(frozen=True)
class Simulation:
    budget: Money
    voters: int
    kind: str
    runs: tuple[RuleRun, ...]
    lines: tuple[Line, ...]
    seconds: float

    @property
    def reference(self) -> RuleRun:
        """The rule the others are compared with: the official one, else (or when it could
        not be counted) greedy."""
        return next((r for r in self.runs if r.official and not r.stopped), self.runs[0])

    @property
    def everywhere(self) -> tuple[Line, ...]:
        """Projects every rule that finished funds."""
        done = [i for i, r in enumerate(self.runs) if not r.stopped]
        return tuple(line for line in self.lines if all(line.chosen[i] for i in done))

    @property
    def differences(self) -> tuple[Difference, ...]:
        ref = self.reference
        at = self.runs.index(ref)
        out = []
        for i, run in enumerate(self.runs):
            if run is ref or run.stopped or ref.stopped:
                continue
            added = tuple(x for x in self.lines if x.chosen[i] and not x.chosen[at])
            dropped = tuple(x for x in self.lines if x.chosen[at] and not x.chosen[i])
            out.append(Difference(run, ref, added, dropped))
        return tuple(out)


def simulate(election: Election, *, official: RuleSpec | None = None,
             tie_break: TieBreak = DEFAULT_TIE_BREAK, names: Mapping[str, str] | None = None,
             in_file: Sequence[str] | None = None, seconds: float = RULE_SECONDS) -> Simulation:
    """Count `election` under every standard rule, and under `official` (the file's or the
    round's own rule) when it is none of them. Deterministic for given ballots; never stores
    anything. An add1 completion still running after `seconds` is stopped (`RuleRun.stopped`)."""
    started = time.monotonic()
    specs = standard_specs(election, tie_break)
    keys = [k for k, s in specs if s == official]
    if official is not None and not keys:
        specs.append(("official", official))
        keys = ["official"]
    runs = _runs(election, specs, keys, seconds)
    chosen = [set(r.selected) for r in runs]
    funded = set(in_file) if in_file is not None else None
    lines = [Line(p.id, (names or {}).get(p.id, p.name) or p.id, p.cost, election.votes[i],
                  election.scores[i], tuple(p.id in c for c in chosen),
                  None if funded is None else p.id in funded)
             for i, p in enumerate(election.projects)]
    lines.sort(key=lambda x: (-x.score, x.cost, x.id))
    return Simulation(election.budget, election.profile.num_voters, str(election.profile.kind),
                      tuple(runs), tuple(lines), time.monotonic() - started)


def _runs(election: Election, specs: list[tuple[str, RuleSpec]], official: list[str],
          seconds: float) -> list[RuleRun]:
    """Run each spec; a greedy completion of a MES outcome already counted here is derived from
    it (as `tally` would compute it) instead of counting MES again."""
    done: dict[RuleSpec, RuleRun] = {}
    runs = []
    for key, spec in specs:
        base = _COMPLETED.get(spec.completion) if spec.rule == "mes" else None
        before = done.get(replace(spec, completion=base)) if base else None
        if before is not None and spec.comparison == "none":
            run = _complete(election, key, spec, key in official, before)
        else:
            run = _run(election, key, spec, key in official, seconds)
        done[spec] = run
        runs.append(run)
    return runs


_COMPLETED = {"utilitarian": "none", "add1u": "add1"}


def _complete(election: Election, key: str, spec: RuleSpec, official: bool, base: RuleRun
              ) -> RuleRun:
    if base.problem:
        return RuleRun(key, spec, (), 0, official, base.problem)
    initial = [election.index[pid] for pid in base.selected]
    filled = greedy(election, tie_break=spec.tie_break, threshold=spec.threshold,
                    initial=initial)
    total = sum((election.project(pid).cost for pid in filled.selected), 0)
    return RuleRun(key, spec, filled.selected, total, official)


def _run(election: Election, key: str, spec: RuleSpec, official: bool, seconds: float
         ) -> RuleRun:
    deadline = time.monotonic() + seconds

    def watch(per_voter: Money, cost: Money) -> None:
        if time.monotonic() > deadline:
            raise _OutOfTime

    try:
        result = tally(election, spec, watch, explain=False)
    except _OutOfTime:
        return RuleRun(key, spec, (), 0, official, "time")
    except (ArithmeticError, ValueError):  # amounts beyond what floats hold, and the like
        return RuleRun(key, spec, (), 0, official, "error")
    return RuleRun(key, spec, result.selected, result.total_cost, official)


# -- an uploaded pabulib file ----------------------------------------------------------------


@dataclass(frozen=True)
class FileSimulation:
    meta: dict[str, str]
    sha256: str
    size: int
    simulation: Simulation
    rule_known: bool


def read_upload(raw: bytes) -> PabulibFile:
    """The uploaded bytes as a pabulib file. Raises SimulationRefused: `too_large`, `empty`,
    `not_utf8`, or `unreadable` with the parser's message (which names the line)."""
    if len(raw) > MAX_FILE_BYTES:
        raise SimulationRefused("too_large")
    if not raw.strip():
        raise SimulationRefused("empty")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SimulationRefused("not_utf8", f"byte {exc.start + 1}") from None
    try:
        return loads(text, keep_votes=False)
    except (PabulibError, ValueError, csv.Error, KeyError, IndexError) as exc:
        # csv.Error (a NUL byte, an overlong field) and a bare ValueError (a META count that
        # is not a number) come from below the parser's own checks.
        raise SimulationRefused("unreadable", str(exc)) from None


def simulate_file(raw: bytes, seconds: float = RULE_SECONDS) -> FileSimulation:
    """Parse and count an uploaded file under every rule (and its META rule when the data
    determines it). Raises SimulationRefused as `read_upload` does."""
    pb = read_upload(raw)
    try:
        election = pb.to_election()
    except (PabulibError, ValueError, KeyError, IndexError) as exc:
        raise SimulationRefused("unreadable", str(exc)) from None
    try:
        official: RuleSpec | None = RuleSpec.from_meta(pb.meta)
    except (UnknownRule, ValueError, ZeroDivisionError):
        official = None
    in_file = pb.selected("1") if "selected" in pb.project_columns else None
    sim = simulate(election, official=official, in_file=in_file, seconds=seconds)
    return FileSimulation(dict(pb.meta), hashlib.sha256(raw).hexdigest(), len(raw), sim,
                          official is not None)


# -- the current ballots of a closed round ---------------------------------------------------


@dataclass(frozen=True)
class PotSource:
    """What one pot's simulation needs, read from the database as plain values."""

    pot_id: int
    district: str | None
    election: Election
    names: dict[str, str]
    references: dict[str, str]


@dataclass(frozen=True)
class RoundSource:
    round_id: int
    official: RuleSpec
    pots: list[PotSource]


def closed_rounds(s: Session, now: datetime) -> list[tuple[Round, Contest]]:
    """Rounds with voting whose voting phase has ended, newest first: their counts may be seen."""
    rows = s.exec(select(Round, Contest)
                  .join(Contest, col(Contest.id) == Round.contest_id)
                  .join(RoundVoting, col(RoundVoting.round_id) == Round.id)
                  .join(RoundPhase, col(RoundPhase.round_id) == Round.id)
                  .where(RoundPhase.phase == Phase.VOTING, col(RoundPhase.ends_at) <= now)
                  .order_by(col(RoundPhase.ends_at).desc(), col(Round.id).desc())).all()
    return [(r, c) for r, c in rows]


def round_source(s: Session, round_id: int, now: datetime, locale: str) -> RoundSource:
    """A round's current ballots per pot, as the count would read them. Raises
    SimulationRefused: `no_round`, `no_voting`, or `voting_open` (counts are secret until
    voting closes)."""
    if s.get(Round, round_id) is None:
        raise SimulationRefused("no_round")
    voting = voting_queries.round_voting(s, round_id)
    if voting is None:
        raise SimulationRefused("no_voting")
    if not is_voting_closed(s, round_id, now):
        raise SimulationRefused("voting_open")
    ballots = {b.pot.id: b for b in voting_queries.pots_of_round(s, round_id)}
    pots = []
    for pot_id, pot in pot_inputs(s, round_id):
        ballot = ballots[pot_id]
        ideas = [item.idea for item in ballot.items]
        pots.append(PotSource(
            pot_id, ballot.district.name(locale) if ballot.district else None,
            election_of(pot), {str(i.id): i.title for i in ideas},
            {str(i.id): i.reference for i in ideas}))
    return RoundSource(round_id, rule_spec(voting.rule, voting.rule_options), pots)


def simulate_round(source: RoundSource, seconds: float = RULE_SECONDS
                   ) -> list[tuple[PotSource, Simulation]]:
    """Every pot of the round under every rule, with the round's own tie-breaking chain."""
    tie = source.official.tie_break
    return [(pot, simulate(pot.election, official=source.official, tie_break=tie,
                           names=pot.names, seconds=seconds))
            for pot in source.pots]
