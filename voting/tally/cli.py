"""``shaar tally FILE.pb``: recount a pabulib file with the rule it names, or another one."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from voting.tally.explain import explain
from voting.tally.model import Money, as_money
from voting.tally.pabulib import PabulibError, read_pabulib
from voting.tally.result import money_text
from voting.tally.rules import COMPARISONS, COMPLETIONS, RULES, RuleSpec, UnknownRule
from voting.tally.rules import tally as run_tally
from voting.tally.tiebreak import TieBreak


class _LateProgressBar:
    """A progress bar on standard error that appears only once a run has lasted a second,
    so quick counts print nothing extra. Progress is the share of the budget spent."""

    def __init__(self, budget: Money) -> None:
        self.budget = budget
        self.started = time.monotonic()
        self.bar: Any = None
        self.shown = 0

    def __call__(self, per_voter: Money, cost: Money) -> None:
        if self.bar is None:
            if time.monotonic() - self.started < 1.0:
                return
            self.bar = click.progressbar(length=1000, label="add1 completion", file=sys.stderr)
            self.bar.__enter__()
        done = min(1000, int(1000 * cost / self.budget)) if self.budget else 1000
        self.bar.label = f"add1 completion, {money_text(per_voter)} per voter"
        if done > self.shown:
            self.bar.update(done - self.shown)
            self.shown = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


def _amount(ctx: click.Context, param: click.Parameter, value: str | None) -> Money | None:
    if value is None:
        return None
    try:
        return as_money(value)
    except (ValueError, ZeroDivisionError):
        raise click.BadParameter(f"{value!r} is not a non-negative number") from None


def _tie_break(ctx: click.Context, param: click.Parameter, value: str | None) -> TieBreak | None:
    if value is None:
        return None
    try:
        return TieBreak.parse(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@click.command("tally")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--rule", type=click.Choice(RULES), help="Rule to run; default: the file's META rule."
)
@click.option("--threshold", callback=_amount, help="Minimum score for a project to be eligible.")
@click.option(
    "--no-skip", is_flag=True, help="Greedy: stop at the first project that does not fit."
)
@click.option("--completion", type=click.Choice(COMPLETIONS), help="MES completion method.")
@click.option(
    "--exhaustive-stop/--no-exhaustive-stop",
    default=None,
    help="add1: stop at the first exhaustive outcome (default on, except add1-comparison files).",
)
@click.option("--increment", callback=_amount, help="add1: per-voter budget increment (default 1).")
@click.option(
    "--integral-start/--exact-start",
    default=None,
    help="add1: start at floor(budget/voters) (default) or exactly budget/voters (pabutools).",
)
@click.option("--comparison", type=click.Choice(COMPARISONS), help="Comparison step with greedy.")
@click.option(
    "--tie-break",
    callback=_tie_break,
    help="Tie-break chain, e.g. 'min-cost,max-votes,lot:SEED' (default) or 'id'.",
)
@click.option("--explain", "show_explanation", is_flag=True, help="Explain every step.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def tally_command(
    file: Path,
    rule: str | None,
    threshold: Money | None,
    no_skip: bool,
    completion: str | None,
    exhaustive_stop: bool | None,
    increment: Money | None,
    integral_start: bool | None,
    comparison: str | None,
    tie_break: TieBreak | None,
    show_explanation: bool,
    as_json: bool,
) -> None:
    """Count FILE.pb and print the selected project ids in selection order and the total cost."""
    try:
        pb = read_pabulib(file, keep_votes=False)
        election = pb.to_election()
    except PabulibError as exc:
        raise click.ClickException(f"{file}: {exc}") from None
    overrides: dict[str, Any] = {
        "threshold": threshold,
        "skip": False if no_skip else None,
        "completion": completion,
        "exhaustive_stop": exhaustive_stop,
        "increment": increment,
        "integral_start": integral_start,
        "comparison": comparison,
        "tie_break": tie_break,
    }
    given = {key: value for key, value in overrides.items() if value is not None}
    try:
        if rule is None:
            spec = RuleSpec.from_meta(pb.meta)
        else:
            spec = RuleSpec(rule=rule)
        spec = replace(spec, **given)
    except UnknownRule as exc:
        raise click.UsageError(str(exc)) from None
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    progress = _LateProgressBar(election.budget)
    try:
        result = run_tally(election, spec, progress, explain=show_explanation or as_json)
    finally:
        progress.close()
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return
    for project_id in result.selected:
        click.echo(project_id)
    click.echo(f"total cost: {result.total_cost} (budget {result.budget})")
    if show_explanation:
        click.echo()
        click.echo(explain(result))


tally = tally_command
