"""Hypothesis strategies: small elections where ties and near-ties are frequent."""

from __future__ import annotations

from hypothesis import strategies as st
from tally_helpers import approvals, cumulative

from voting.tally.model import Election


@st.composite
def approval_elections(draw: st.DrawFn, max_projects: int = 6, max_groups: int = 8) -> Election:
    """Costs and budgets from small ranges, so equal prices and exact ties come up often."""
    num = draw(st.integers(1, max_projects))
    costs = draw(st.lists(st.integers(1, 12), min_size=num, max_size=num))
    budget = draw(st.integers(0, 40))
    groups = draw(
        st.lists(
            st.tuples(st.sets(st.integers(0, num - 1), max_size=num), st.integers(1, 3)),
            max_size=max_groups,
        )
    )
    ballots = [sorted(s) for s, w in groups for _ in range(w)]
    return approvals(costs, budget, ballots)


@st.composite
def points_elections(draw: st.DrawFn, max_projects: int = 5, max_groups: int = 7) -> Election:
    num = draw(st.integers(1, max_projects))
    costs = draw(st.lists(st.integers(1, 12), min_size=num, max_size=num))
    budget = draw(st.integers(0, 40))
    ballots = draw(
        st.lists(
            st.dictionaries(st.integers(0, num - 1), st.integers(1, 4), max_size=num),
            max_size=max_groups,
        )
    )
    return cumulative(costs, budget, ballots)


any_elections = st.one_of(approval_elections(), points_elections())
