"""What a resident notices on the ballot: the verification rule before filling it, a ranking
that reorders, and a full ranking that says so instead of offering one more."""

from __future__ import annotations

import re

from tests.helpers import sign_in
from tests.voting.factories import basket, cast, make_voter, make_voting_round


def _card_order(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<li class="ballot-item[^"]*" id="item-(\d+)"', html)]


def test_unverified_resident_reads_the_rule_before_filling_the_ballot(client, database) -> None:
    setup = make_voting_round(database, kind="approval", verified_only=True)
    make_voter(database, district=setup.districts[0], verified=False)
    sign_in(client, "voter@example.kg")
    page = client.get(f"/rounds/{setup.round.id}/vote/{setup.pots[0]}")
    assert page.status_code == 200
    notice = page.text.index('id="verify-first"')
    assert notice < page.text.index('class="ballot-items"')
    assert "Only verified residents vote" in page.text
    assert 'href="/account#verify-heading"' in page.text

    refused = cast(client, setup.round.id, setup.pots[0], {setup.items[0][0]: 1})
    assert refused.status_code == 422 and "Verify your account" in refused.text
    assert "Change my choices" not in refused.text
    assert 'href="/account#verify-heading"' in refused.text


def test_verified_resident_sees_no_verification_notice(client, database) -> None:
    setup = make_voting_round(database, kind="approval", verified_only=True)
    make_voter(database, district=setup.districts[0])
    sign_in(client, "voter@example.kg")
    page = client.get(f"/rounds/{setup.round.id}/vote/{setup.pots[0]}")
    assert 'id="verify-first"' not in page.text


def test_move_up_reorders_the_cards_without_javascript(client, database) -> None:
    setup = make_voting_round(database, kind="ordinal", max_choices=3)
    make_voter(database, district=setup.districts[0])
    sign_in(client, "voter@example.kg")
    rid, pot = setup.round.id, setup.pots[0]
    a, b, c, d = setup.items[0]
    for idea in (c, a):
        assert basket(client, rid, pot, "add", idea).status_code == 303
    page = client.get(f"/rounds/{rid}/vote/{pot}")
    assert _card_order(page.text)[:2] == [c, a]
    assert basket(client, rid, pot, "up", a).status_code == 303
    page = client.get(f"/rounds/{rid}/vote/{pot}")
    assert _card_order(page.text) == [a, c, b, d]
    assert page.text.index("Your choice no. 1") < page.text.index("Your choice no. 2")


def test_move_up_with_htmx_returns_the_basket_in_the_new_order(client, database) -> None:
    setup = make_voting_round(database, kind="ordinal", max_choices=3)
    make_voter(database, district=setup.districts[0])
    sign_in(client, "voter@example.kg")
    rid, pot = setup.round.id, setup.pots[0]
    a, b, c, _ = setup.items[0]
    for idea in (a, b, c):
        basket(client, rid, pot, "add", idea, htmx=True)
    moved = basket(client, rid, pot, "up", c, htmx=True)
    assert moved.status_code == 200
    assert _card_order(moved.text)[:3] == [a, c, b]


def test_a_full_ranking_offers_no_add_button_and_says_why(client, database) -> None:
    setup = make_voting_round(database, kind="ordinal", max_choices=2)
    make_voter(database, district=setup.districts[0])
    sign_in(client, "voter@example.kg")
    rid, pot = setup.round.id, setup.pots[0]
    a, b, c, _ = setup.items[0]
    basket(client, rid, pot, "add", a)
    basket(client, rid, pot, "add", b)
    page = client.get(f"/rounds/{rid}/vote/{pot}")
    assert "Add to my ranking" not in page.text
    assert "Your ranking is full" in page.text

    # A stale page (or a second tab) still posts one more without JavaScript: the resident
    # stays on the ballot page, with the reason, not on a bare error page.
    over = basket(client, rid, pot, "add", c)
    assert over.status_code == 422
    assert "<h1>" in over.text and 'class="ballot-items"' in over.text
    assert "at most 2 projects" in over.text and "Remove one" in over.text
    assert 'class="error-summary"' in over.text
