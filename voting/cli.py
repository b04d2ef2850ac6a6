"""`shaar verify-log ROUND`: recompute a round's ballot log and check the stored ballots."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.command("verify-log", help="Recompute the hash chain of a round's ballot log. Reads "
               "the database, or a public export with --file. Exits 1 naming the first bad "
               "entry.")
@click.argument("round_id", type=int)
@click.option("--file", "export_file", type=click.Path(exists=True, dir_okay=False,
                                                      path_type=Path),
              help="Check this public export (log.json) instead of the database.")
@click.option("--head", default="", help="A head hash published earlier: it must be in the log.")
@click.option("--receipt", default="", help="A receipt that must be in the log.")
def verify_log(round_id: int, export_file: Path | None, head: str, receipt: str) -> None:
    from voting import ledger
    from voting.verify import entries_from_export, verify_round

    if export_file is not None:
        data = json.loads(export_file.read_text())
        entries = entries_from_export(data)
        verdict = ledger.verify_against(round_id, entries, head.strip().lower())
    else:
        from core.db import make_database
        from core.settings import Settings
        from voting.queries import log_entries

        database = make_database(Settings.from_env().database_url)
        with database.session() as s:
            verdict = verify_round(s, round_id, head.strip().lower())
            entries = log_entries(s, round_id)
        database.dispose()
    if not verdict.ok:
        raise click.ClickException(f"the ballot log of round {round_id} does not verify: "
                                   f"{verdict.reason}")
    if receipt and all(e.entry_hash != receipt.strip().lower() for e in entries):
        raise click.ClickException(f"receipt {receipt} is not in the log of round {round_id}")
    click.echo(f"round {round_id}: {verdict.count} entries verify; head {verdict.head}")
