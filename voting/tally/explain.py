"""Explanations a resident can read, step by step, from a :class:`~voting.tally.result.Result`."""

from __future__ import annotations

from voting.tally.result import (
    ComparisonStep,
    CompletionStep,
    GreedyStep,
    MesStep,
    Payment,
    Result,
    money_text,
)


def explain(result: Result) -> str:
    """The whole count as plain text: one line per step, then the outcome."""
    lines = [f"Rule: {result.rule}.", f"Ties are broken by: {result.tie_break}."]
    lines.append(f"Budget: {money_text(result.budget)}.")
    number = 0
    for step in result.steps:
        if isinstance(step, GreedyStep):
            number += 1
            lines.append(f"{number}. {_greedy_line(step)}")
        elif isinstance(step, MesStep):
            number += 1
            lines.append(f"{number}. {_mes_line(step)}")
        elif isinstance(step, CompletionStep):
            lines.append(_completion_line(step))
        elif isinstance(step, ComparisonStep):
            lines.append(_comparison_line(step))
    lines.append(
        f"Funded: {len(result.selected)} projects costing {money_text(result.total_cost)}"
        f" of {money_text(result.budget)}."
    )
    return "\n".join(lines)


def _greedy_line(step: GreedyStep) -> str:
    head = f"{step.project} (score {step.score:,}, cost {money_text(step.cost)})"
    left = money_text(step.remaining)
    pot = f" in pot {step.pot}" if step.pot else ""
    if step.outcome == "selected":
        return f"{head}: funded{pot}; {left} left."
    if step.outcome == "skipped":
        return f"{head}: skipped, it does not fit in the {left} left{pot}."
    if step.outcome == "below-threshold":
        return f"{head}: not eligible, its score is below the threshold."
    if step.outcome == "withdrawn":
        return f"{head}: withdrawn after the vote, never funded."
    if step.outcome == "stopped":
        return f"{head}: not considered, counting stops at the first project that does not fit."
    return f"{head}: {step.outcome}."


def _payment_text(payment: Payment) -> str:
    who = f"{payment.voters:,} supporter{'s' if payment.voters != 1 else ''}"
    if payment.all_remaining:
        return f"{who} paid all they had left ({money_text(payment.total)} in total)"
    each = money_text(payment.each if payment.each is not None else payment.total)
    return f"{who} paid {each} each"


def _mes_line(step: MesStep) -> str:
    head = f"{step.project} (cost {money_text(step.cost)}, {step.votes:,} supporters)"
    if step.cost == 0:
        return f"{head}: free, funded first."
    paid = "; ".join(_payment_text(p) for p in step.payments)
    broke = step.votes - sum(p.voters for p in step.payments)
    if broke > 0:
        paid += f"; {broke:,} supporter{'s' if broke != 1 else ''} had nothing left to pay"
    text = (
        f"{head}: funded with {float(step.effective_votes):,.2f} effective votes"
        f" (price {money_text(step.price)} per {step.unit}); {paid}."
    )
    if step.tied:
        text += f" Tied exactly with {', '.join(step.tied)}; the tie-break chain chose it."
    return text


def _completion_line(step: CompletionStep) -> str:
    if step.method == "add1":
        budget = money_text(step.per_voter_budget) if step.per_voter_budget is not None else "-"
        return (
            f"Completion (add1): each voter's share was raised step by step"
            f" ({step.iterations} runs) and the outcome at {budget} per voter was kept:"
            f" {step.stop_reason}. The selections below are from that run."
        )
    added = ", ".join(step.added) if step.added else "nothing"
    return f"Utilitarian completion ({step.stop_reason}) added: {added}."


def _comparison_line(step: ComparisonStep) -> str:
    what = (
        "have more of their projects funded"
        if step.variant == "satisfaction"
        else "have at least one of their projects funded"
    )
    kept = "equal shares" if step.kept == "mes" else "greedy"
    return (
        f"Comparison step ({step.variant}): voters who {what} under equal shares:"
        f" {step.prefer_mes:,}; under greedy: {step.prefer_greedy:,}. Kept: {kept}."
    )
