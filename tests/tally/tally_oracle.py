"""pabutools as an oracle: the same election, the same tie-breaking, its selected set."""

from __future__ import annotations

from voting.tally.model import Election


def pabutools_outcome(
    election: Election,
    rule: str,
    *,
    add1: bool = False,
    tie_break: str = "min-cost,max-votes,id",
) -> set[str]:
    """Selected ids by pabutools for ``rule`` in {"greedy", "mes"} (cost utilities for
    approval, cardinal utilities for points), with our chain translated to a sort key."""
    from pabutools.election import (
        Additive_Cardinal_Sat,
        AdditiveSatisfaction,
        ApprovalBallot,
        ApprovalProfile,
        Cost_Sat,
        CumulativeBallot,
        CumulativeProfile,
        Instance,
        Project,
    )
    from pabutools.rules import greedy_utilitarian_welfare, method_of_equal_shares
    from pabutools.tiebreaking import TieBreakingRule

    projects = [Project(p.id, p.cost) for p in election.projects]
    instance = Instance(projects, budget_limit=election.budget)
    prof = election.profile
    ballots = []
    for g in range(prof.num_groups):
        ballot = prof.ballot(g)
        for _ in range(int(prof.weights[g])):
            if prof.kind.is_approval:
                ballots.append(ApprovalBallot([projects[i] for i in ballot]))
            else:
                ballots.append(CumulativeBallot({projects[i]: v for i, v in ballot.items()}))
    if prof.kind.is_approval:
        profile = ApprovalProfile(ballots, instance=instance)
    else:
        profile = CumulativeProfile(ballots, instance=instance)
    votes = {p.id: v for p, v in zip(election.projects, election.votes, strict=True)}
    chain = tie_break.split(",")

    def key(inst: object, prof: object, project: Project) -> tuple[object, ...]:
        parts: list[object] = []
        for c in chain:
            if c == "min-cost":
                parts.append(project.cost)
            elif c == "max-votes":
                parts.append(-votes[project.name])
            elif c == "id":
                parts.append(project.name)
        return tuple(parts)

    tie = TieBreakingRule(key)
    if rule == "greedy":

        class PointsTimesCost(AdditiveSatisfaction):
            """Density = total points: greedy by score, as cities count."""

            def __init__(self, instance: object, profile: object, ballot: object) -> None:
                super().__init__(instance, profile, ballot, self.sat)

            @staticmethod
            def sat(inst: object, prof: object, ballot: dict, project: Project, pre: object) -> int:
                return ballot[project] * project.cost if project in ballot else 0

        sat = Cost_Sat if prof.kind.is_approval else PointsTimesCost
        out = greedy_utilitarian_welfare(instance, profile, sat_class=sat, tie_breaking=tie)
    else:
        sat = Cost_Sat if prof.kind.is_approval else Additive_Cardinal_Sat
        out = method_of_equal_shares(
            instance,
            profile.as_multiprofile(),
            sat_class=sat,
            tie_breaking=tie,
            voter_budget_increment=1 if add1 else None,
        )
    return {p.name for p in out}
