"""Reading results: the outcome per pot (computed, then as published), turnout per district,
and one idea's outcome. Only `published_view` and `idea_outcome` are for everyone."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, func, select

from contests.models import RoundPot
from core.models import District
from ideas.models import Idea
from results.models import PotResult, Publication, PublicationChange, ResultRun
from results.services import pot_results, publication_of
from voting.models import Ballot, Participation


@dataclass
class ProjectRow:
    idea: Idea
    cost: int
    votes: int
    score: int
    computed: bool
    change: PublicationChange | None = None
    other: bool = False

    @property
    def funded(self) -> bool:
        if self.change is not None:
            return self.change.action == "add"
        return self.computed


@dataclass
class PotView:
    result: PotResult
    pot: RoundPot
    district: District | None
    rows: list[ProjectRow]
    steps: dict[str, Any]
    other_ids: list[int] = field(default_factory=list)

    @property
    def winners(self) -> list[ProjectRow]:
        order = {idea: n for n, idea in enumerate(json.loads(self.result.selected))}
        funded = [r for r in self.rows if r.funded]
        return sorted(funded, key=lambda r: (order.get(r.idea.id, len(order)), -r.score))

    @property
    def funded_cost(self) -> int:
        return sum(r.cost for r in self.rows if r.funded)

    @property
    def other_winners(self) -> list[ProjectRow]:
        by_id = {r.idea.id: r for r in self.rows}
        return [by_id[i] for i in self.other_ids if i in by_id]

    @property
    def changes(self) -> list[ProjectRow]:
        return [r for r in self.rows if r.change is not None]


@dataclass
class RunView:
    run: ResultRun
    pots: list[PotView]
    publication: Publication | None


def run_view(s: Session, run: ResultRun, publication: Publication | None) -> RunView:
    changes: dict[int, PublicationChange] = {}
    if publication is not None:
        changes = {c.idea_id: c for c in s.exec(select(PublicationChange).where(
            PublicationChange.publication_id == publication.id)).all()}
    pots = []
    for result in pot_results(s, run.id or 0):
        tallies: dict[str, dict[str, int]] = json.loads(result.tallies)
        ids = [int(i) for i in tallies]
        ideas = {i.id: i for i in s.exec(select(Idea).where(col(Idea.id).in_(ids))).all()}
        selected = set(json.loads(result.selected))
        other = list(json.loads(result.other_selected))
        rows = [ProjectRow(ideas[int(k)], v["cost"], v["votes"], v["score"],
                           int(k) in selected, changes.get(int(k)), int(k) in other)
                for k, v in tallies.items() if int(k) in ideas]
        rows.sort(key=lambda r: (-r.score, r.cost, r.idea.id or 0))
        pot = s.get(RoundPot, result.pot_id)
        assert pot is not None
        district = s.get(District, pot.district_id) if pot.district_id else None
        pots.append(PotView(result, pot, district, rows, json.loads(result.steps), other))
    pots.sort(key=lambda p: (p.pot.district_id is None, p.pot.district_id or 0))
    return RunView(run, pots, publication)


def published_view(s: Session, round_id: int) -> RunView | None:
    """The published results, or None: the only view of votes that anyone may see."""
    publication = publication_of(s, round_id)
    if publication is None:
        return None
    run = s.get(ResultRun, publication.run_id)
    assert run is not None
    return run_view(s, run, publication)


@dataclass(frozen=True)
class Turnout:
    district: District | None
    voters: int
    population: int

    @property
    def share(self) -> float | None:
        return self.voters / self.population if self.population else None


def turnout(s: Session, round_id: int) -> list[Turnout]:
    """Residents who voted in each district's pot, as a share of its population; then the
    whole city: everyone who took part, online or on paper."""
    out = []
    pots = s.exec(select(RoundPot, District).join(District, col(District.id) ==
                                                  RoundPot.district_id)
                  .where(RoundPot.round_id == round_id).order_by(col(District.id))).all()
    for pot, district in pots:
        voters = s.exec(select(func.count()).select_from(Ballot).where(
            Ballot.round_id == round_id, Ballot.pot_id == pot.id,
            col(Ballot.is_current).is_(True))).one()
        out.append(Turnout(district, voters, district.population))
    everyone = s.exec(select(func.count()).select_from(Participation).where(
        Participation.round_id == round_id)).one()
    city = sum(t.population for t in out) if out else 0
    out.append(Turnout(None, everyone, city))
    return out


@dataclass(frozen=True)
class IdeaOutcome:
    """What the published count says about one idea: its row, its pot and the step."""

    row: ProjectRow
    pot: PotView
    step: dict[str, Any] | None
    rule_spec: str


def idea_outcome(s: Session, idea: Idea) -> IdeaOutcome | None:
    """The idea's outcome in its round's published results, or None (not yet published, or
    the idea was not on the ballot)."""
    view = published_view(s, idea.round_id)
    if view is None:
        return None
    for pot in view.pots:
        for row in pot.rows:
            if row.idea.id == idea.id:
                step = next((st for st in pot.steps.get("steps", [])
                             if st.get("project") == str(idea.id)), None)
                return IdeaOutcome(row, pot, step, view.run.rule_spec)
    return None
