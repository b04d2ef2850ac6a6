"""A round the size of a real city budget (150 projects in five pots) counts, publishes and
renders completely, with the benchmark's own data generator at a smaller number of ballots."""

from __future__ import annotations

import importlib.util
import sys
from typing import Any

from markupsafe import escape
from starlette.testclient import TestClient

from core.db import Database
from core.settings import ROOT
from results import signing
from tests.results.test_pages import count_and_publish, signed_in


def bench_module() -> Any:
    spec = importlib.util.spec_from_file_location("results_bench",
                                                  ROOT / "bench" / "results_bench.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_a_round_of_150_projects_renders_every_project_and_pot(app: Any,
                                                               database: Database) -> None:
    bench = bench_module()
    big = bench.build_round(database, ballots=2000, projects=150)
    assert big.ballots == 2000 and len(big.titles) == 150 and len(big.pots) == 5
    jury = signed_in(app, database, "jury")
    assert count_and_publish(jury, big.round_id).status_code == 303
    reader = TestClient(app, headers={"Accept-Language": "en"})
    page = reader.get(f"/rounds/{big.round_id}/results")
    assert page.status_code == 200
    html = page.text
    for title in big.titles.values():
        assert str(escape(title)) in html, title
    assert "<i>" not in html
    for pot in big.pots:
        assert f'id="pot-{pot}-heading"' in html
    assert html.count("<td>funded</td>") + html.count("<td>not funded</td>") == 300
    assert html.count("<tr><th scope=\"row\"><a href=\"/ideas/") >= 150
    document = reader.get(f"/api/rounds/{big.round_id}/results").json()
    assert sum(p["voters"] for p in document["pots"]) == 2000
    assert sum(len(p["projects"]) for p in document["pots"]) == 150
    assert all(p["winners"] for p in document["pots"])
    # The figures the page prints agree with the open data: every winner is on the page.
    for pot in document["pots"]:
        for winner in pot["winners"]:
            assert str(escape(big.titles[winner])) in html
    bench.check_page(html, big)
    bench.check_downloads(reader, big)
    key = reader.get("/results/public-key.pem").content
    body = reader.get(f"/api/rounds/{big.round_id}/results").content
    assert signing.check(body, reader.get(f"/api/rounds/{big.round_id}/results.sig").content,
                         key) is None
