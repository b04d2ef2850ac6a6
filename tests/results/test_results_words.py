"""The results page reads as sentences in the reader's language: the rule and the tie-break
chain are explained, never shown as the engine's English or its raw chain."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from core.db import Database
from results.explain import tie_break_label
from tests.results.factories import make_voted_round
from tests.results.test_pages import count_and_publish, signed_in


@pytest.mark.parametrize(("lang", "words"), [
    ("en", "When projects tie"), ("ru", "При равенстве проектов"),
    ("ky", "Долбоорлор тең болгондо")])
def test_the_published_results_explain_rule_and_ties_in_the_readers_language(
        app: Any, database: Database, lang: str, words: str) -> None:
    setup = make_voted_round(database)
    jury = signed_in(app, database, "jury")
    assert count_and_publish(jury, setup.round.id).status_code == 303
    page = TestClient(app).get(f"/rounds/{setup.round.id}/results",
                               headers={"Accept-Language": lang}).text
    assert words in page
    visible = page.split('<section class="panel" aria-labelledby="how-heading">', 1)[1]
    visible = visible.split("</section>", 1)[0]
    assert "min-cost" not in visible and "lot:" not in visible
    assert "greedy by score" not in page and "skipping projects" not in page


def test_a_tie_break_chain_becomes_one_sentence() -> None:
    from core import i18n

    i18n.set_locale("en", "Asia/Bishkek")
    assert tie_break_label("min-cost,max-votes,lot:shaar") == (
        "When projects tie, the order is: the cheaper project first, the project with more "
        "votes first, and then a public lot drawn with the seed “shaar”.")
