"""Reading the simulation page as a reader would: its tables as rows of cell texts."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

from starlette.testclient import TestClient

from core.db import Database
from tests.helpers import csrf_of, make_user, sign_in

COLUMNS = {
    "greedy": "Greedy",
    "greedy_no_skip": "Greedy, no skipping",
    "mes": "Equal shares",
    "mes_greedy": "Equal shares, then greedy",
    "mes_add1": "Equal shares with raised shares",
    "mes_add1_greedy": "Raised shares, then greedy",
}


class _Tables(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.current: list[list[str]] | None = None
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.current = self.tables.setdefault(dict(attrs).get("id") or "", [])
        elif tag == "tr" and self.current is not None:
            self.current.append([])
        elif tag in ("td", "th") and self.current is not None:
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self.cell is not None and self.current is not None:
            self.current[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "table":
            self.current = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def tables(html: str) -> dict[str, list[list[str]]]:
    """Every table of the page by id: a list of rows, each a list of cell texts (text hidden
    from sight but read by screen readers included)."""
    parser = _Tables()
    parser.feed(html)
    return parser.tables


def funded_under(rows: list[list[str]], column: str) -> set[str]:
    """Row headers of the projects marked funded in the column whose header starts with
    `column` (and is not a longer rule name)."""
    header = rows[0]
    matches = [i for i, h in enumerate(header) if h == column or h.startswith(column + " (")]
    assert len(matches) == 1, (column, header)
    at = matches[0]
    return {row[0] for row in rows[1:] if len(row) == len(header) and row[at].startswith("✓")}


def project_id(header: str) -> str:
    """A file's project id from its row header "name (id)" (or the bare id)."""
    return header.rsplit("(", 1)[1].rstrip(")") if header.endswith(")") else header


def signed_in(app: Any, database: Database, role: str | None) -> TestClient:
    client = TestClient(app, follow_redirects=False, headers={"Accept-Language": "en"})
    if role is not None:
        email = f"{role}@staff.example.kg"
        make_user(database, email, roles=() if role == "resident" else (role,))
        sign_in(client, email)
    return client


def upload(client: TestClient, name: str, body: bytes) -> Any:
    token = csrf_of(client, "/")
    return client.post("/admin/simulate", data={"csrf_token": token, "source": "file"},
                       files={"file": (name, body, "application/octet-stream")})


def simulate_round(client: TestClient, round_id: int | str) -> Any:
    token = csrf_of(client, "/")
    return client.post("/admin/simulate", data={"csrf_token": token, "source": "round",
                                                "round": str(round_id)})
