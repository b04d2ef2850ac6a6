"""Counting participatory-budgeting votes: pure functions over plain values.

Read a pabulib file with :func:`voting.tally.pabulib.read_pabulib`, turn it into an
:class:`~voting.tally.model.Election`, then call :func:`voting.tally.rules.tally` with a
:class:`~voting.tally.rules.RuleSpec`. This package imports nothing from the web stack.
"""
