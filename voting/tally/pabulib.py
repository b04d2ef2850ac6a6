"""Reading and writing pabulib ``.pb`` files (https://pabulib.org/format).

A file has three sections, ``META`` (key;value), ``PROJECTS`` and ``VOTES``, each a
semicolon-separated table with a header line. The reader keeps every field as text, in order, so
that writing the file back preserves it; ``to_election`` turns the text into exact values.

Malformed input raises :class:`PabulibError` naming the line, so an official can find it.
"""

from __future__ import annotations

import csv
import io
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any

from voting.tally.model import (
    BallotKind,
    Election,
    Profile,
    Project,
    as_money,
    borda_points,
)

SECTIONS = ("META", "PROJECTS", "VOTES")

_KINDS = {
    "approval": BallotKind.APPROVAL,
    "choose-1": BallotKind.APPROVAL,
    "knapsack": BallotKind.KNAPSACK,
    "cumulative": BallotKind.CUMULATIVE,
    "scoring": BallotKind.SCORING,
    "ordinal": BallotKind.ORDINAL,
}


class PabulibError(ValueError):
    """A malformed pabulib file; ``line`` is the 1-based line number, when one applies."""

    def __init__(self, message: str, line: int | None = None) -> None:
        self.line = line
        super().__init__(f"line {line}: {message}" if line is not None else message)


@dataclass
class PabulibFile:
    """The text of a pabulib file, field by field.

    ``ballot_counts`` maps each distinct ``(vote, points)`` text to the number of voters who cast
    it, and ``ballot_lines`` to the first line it appears on (for error messages). When the file
    was read with ``keep_votes=False`` the individual ``vote_rows`` are not kept (this is what makes
    counting a large city quick), so such a file cannot be written back.
    """

    meta: dict[str, str]
    project_columns: list[str]
    project_rows: list[list[str]]
    vote_columns: list[str]
    vote_rows: list[list[str]] | None
    ballot_counts: dict[tuple[str, str], int]
    found_lines: dict[tuple[str, str], int] | None
    project_lines: list[int] = field(default_factory=list)
    meta_lines: dict[str, int] = field(default_factory=dict)
    line_terminator: str = "\n"
    votes_source: tuple[str, int] | None = None

    @property
    def ballot_lines(self) -> dict[tuple[str, str], int]:
        """First line of each distinct ballot; found again from the text when not kept."""
        if self.found_lines is None:
            counts: dict[tuple[str, str], int] = {}
            lines: dict[tuple[str, str], int] = {}
            text, header_line = self.votes_source or ("", 0)
            reader = _reader_after(text, header_line)
            vote_pos = self.vote_columns.index("vote")
            points_pos = self.vote_columns.index("points") if "points" in self.vote_columns else -1
            width = len(self.vote_columns)
            _count_votes(reader, width, vote_pos, points_pos, counts, lines, None)
            self.found_lines = lines
        return self.found_lines

    @property
    def vote_type(self) -> str:
        return self.meta.get("vote_type", "approval")

    def column(self, name: str) -> list[str]:
        """One PROJECTS column as text ('' where the row has no such column)."""
        if name not in self.project_columns:
            return [""] * len(self.project_rows)
        pos = self.project_columns.index(name)
        return [row[pos] if pos < len(row) else "" for row in self.project_rows]

    def selected(self, flag: str = "1") -> list[str]:
        """Ids of projects whose ``selected`` column equals *flag*, in file order."""
        ids = self.column("project_id")
        return [pid for pid, sel in zip(ids, self.column("selected"), strict=True) if sel == flag]

    def ordinal_points(self) -> tuple[int, ...]:
        """Positional points for ordinal files: pabulib's Borda, ``max_length`` down to 1."""
        longest = max((len(v.split(",")) for v, _ in self.ballot_counts if v), default=1)
        length = int(self.meta.get("max_length") or longest)
        return borda_points(max(length, longest))

    def to_election(self, ordinal_points: tuple[int, ...] | None = None) -> Election:
        """Exact projects, budget and deduplicated ballots. Raises :class:`PabulibError`."""
        kind = _KINDS.get(self.vote_type)
        if kind is None:
            raise PabulibError(
                f"unsupported vote_type {self.vote_type!r}", self.meta_lines.get("vote_type")
            )
        projects = []
        for row, line in zip(self.project_rows, self.project_lines, strict=True):
            record = dict(zip(self.project_columns, row, strict=False))
            try:
                cost = as_money(record.get("cost", ""))
            except (ValueError, ZeroDivisionError) as exc:
                raise PabulibError(f"bad cost {record.get('cost')!r}: {exc}", line) from exc
            projects.append(Project(record["project_id"], cost, record.get("name", "")))
        try:
            budget = as_money(self.meta.get("budget", ""))
        except (ValueError, ZeroDivisionError) as exc:
            where = self.meta_lines.get("budget")
            raise PabulibError(f"bad budget {self.meta.get('budget')!r}", where) from exc
        index = {p.id: i for i, p in enumerate(projects)}
        positional: tuple[int, ...] = ()
        if kind is BallotKind.ORDINAL:
            positional = ordinal_points or self.ordinal_points()
        keys = list(self.ballot_counts)
        votes = [vote for vote, _ in keys]
        lengths = [vote.count(",") + 1 if vote else 0 for vote in votes]
        try:
            # One flat pass over every distinct ballot: this is the hot loop for a large city.
            flat = [index[pid] for pid in ",".join(v for v in votes if v).split(",") if pid]
        except KeyError:
            flat = []
        if len(flat) != sum(lengths):
            self._raise_first_bad_vote(index)
        if kind.is_approval:
            points = [1] * len(flat)
        elif kind is BallotKind.ORDINAL:
            if lengths and max(lengths) > len(positional):
                self._raise_first_bad_vote(index, max_length=len(positional))
            points = [positional[k] for n in lengths for k in range(n)]
        else:
            points = []
            for key, n in zip(keys, lengths, strict=True):
                points.extend(_parse_points(key[1], n, self.ballot_lines[key]))
        weights = list(self.ballot_counts.values())
        try:
            profile = Profile.from_arrays(kind, lengths, flat, points, weights)
        except ValueError:
            self._raise_first_bad_vote(index)
        return Election(tuple(projects), budget, profile)

    def _raise_first_bad_vote(self, index: dict[str, int], max_length: int | None = None) -> None:
        for key, line in sorted(self.ballot_lines.items(), key=lambda item: item[1]):
            ids = key[0].split(",") if key[0] else []
            for pid in ids:
                if pid not in index:
                    raise PabulibError(f"vote names unknown project {pid!r}", line)
            if len(set(ids)) != len(ids):
                raise PabulibError(f"vote names a project twice: {key[0]!r}", line)
            if max_length is not None and len(ids) > max_length:
                raise PabulibError(f"ranking longer than {max_length}", line)
        raise PabulibError("malformed vote column")


def _parse_points(text: str, length: int, line: int) -> list[int]:
    parts = text.split(",") if text else []
    if len(parts) != length:
        raise PabulibError(f"{length} projects in vote but {len(parts)} points", line)
    try:
        values = [int(float(p)) if float(p).is_integer() else -1 for p in parts]
    except ValueError:
        raise PabulibError(f"points must be numbers, got {text!r}", line) from None
    if any(v < 0 for v in values):
        raise PabulibError(f"points must be non-negative integers, got {text!r}", line)
    return values


def _rows(reader: Any) -> Iterator[tuple[int, list[str]]]:
    for row in reader:
        if row and any(row):
            yield reader.line_num, row


def loads(text: str, *, keep_votes: bool = True) -> PabulibFile:
    """Parse the text of a pabulib file. Raises :class:`PabulibError` naming the line."""
    if text.startswith("\ufeff"):
        text = text[1:]
    first_break = text.find("\n")
    terminator = "\r\n" if first_break > 0 and text[first_break - 1] == "\r" else "\n"
    reader = csv.reader(io.StringIO(text), delimiter=";")
    rows = _rows(reader)
    meta: dict[str, str] = {}
    meta_lines: dict[str, int] = {}
    project_columns: list[str] = []
    project_rows: list[list[str]] = []
    project_lines: list[int] = []
    vote_columns: list[str] = []
    vote_rows: list[list[str]] | None = [] if keep_votes else None
    counts: dict[tuple[str, str], int] = {}
    lines: dict[tuple[str, str], int] = {}
    votes_source: tuple[str, int] | None = None
    section = ""
    header: list[str] | None = None
    vote_pos = points_pos = -1
    seen: list[str] = []
    for line, row in rows:
        if len(row) == 1 and row[0].strip() in SECTIONS:
            name = row[0].strip()
            expected = SECTIONS[len(seen)] if len(seen) < len(SECTIONS) else None
            if name != expected:
                raise PabulibError(f"section {name} out of order (expected {expected})", line)
            seen.append(name)
            section, header = name, None
            continue
        if not section:
            raise PabulibError("file must start with META", line)
        if header is None:
            header = [c.strip() for c in row]
            if section == "META" and header[:2] != ["key", "value"]:
                raise PabulibError("META header must be 'key;value'", line)
            if section == "PROJECTS":
                _require(header, ("project_id", "cost"), line)
                project_columns = header
            if section == "VOTES":
                _require(header, ("voter_id", "vote"), line)
                vote_columns = header
                vote_pos = header.index("vote")
                points_pos = header.index("points") if "points" in header else -1
                # The votes are the bulk of a file: count them in a loop of their own.
                if keep_votes:
                    _count_votes(
                        reader, len(header), vote_pos, points_pos, counts, lines, vote_rows
                    )
                else:
                    votes_source = (text, line)
                    counts = _count_votes_fast(reader, text, line, header, vote_pos, points_pos)
            continue
        if len(row) > len(header):
            raise PabulibError(f"{len(row)} fields but the header has {len(header)}", line)
        if section == "META":
            if len(row) < 2:
                raise PabulibError("META row needs a key and a value", line)
            meta[row[0]] = row[1]
            meta_lines[row[0]] = line
        else:
            project_rows.append(row)
            project_lines.append(line)
    if len(seen) < len(SECTIONS):
        raise PabulibError(f"missing section {SECTIONS[len(seen)]}")
    _check_counts(meta, meta_lines, project_rows, counts, project_lines)
    return PabulibFile(
        meta=meta,
        project_columns=project_columns,
        project_rows=project_rows,
        vote_columns=vote_columns,
        vote_rows=vote_rows,
        ballot_counts=counts,
        found_lines=lines if keep_votes else None,
        project_lines=project_lines,
        meta_lines=meta_lines,
        line_terminator=terminator,
        votes_source=votes_source,
    )


def _reader_after(text: str, header_line: int) -> Any:
    """A csv reader positioned just after line *header_line* of *text*."""
    reader = csv.reader(io.StringIO(text), delimiter=";")
    while reader.line_num < header_line:
        next(reader)
    return reader


def _count_votes_fast(
    reader: Any, text: str, header_line: int, header: list[str], vote_pos: int, points_pos: int
) -> dict[tuple[str, str], int]:
    """Count distinct (vote, points) texts in C (``Counter`` over ``itemgetter``), without the
    per-row checks; falls back to the checked loop when a row is blank or too short."""
    try:
        if points_pos >= 0:
            return dict(Counter(map(itemgetter(vote_pos, points_pos), reader)))
        return {(vote, ""): n for vote, n in Counter(map(itemgetter(vote_pos), reader)).items()}
    except IndexError:
        counts: dict[tuple[str, str], int] = {}
        again = _reader_after(text, header_line)
        _count_votes(again, len(header), vote_pos, points_pos, counts, {}, None)
        return counts


def _count_votes(
    reader: Any,
    width: int,
    vote_pos: int,
    points_pos: int,
    counts: dict[tuple[str, str], int],
    lines: dict[tuple[str, str], int],
    vote_rows: list[list[str]] | None,
) -> None:
    for row in reader:
        if not row or not any(row):
            continue
        line = reader.line_num
        if len(row) > width:
            raise PabulibError(f"{len(row)} fields but the header has {width}", line)
        if len(row) == 1 and row[0].strip() in SECTIONS:
            raise PabulibError(f"unexpected section {row[0].strip()} after VOTES", line)
        if vote_rows is not None:
            vote_rows.append(row)
        vote = row[vote_pos] if vote_pos < len(row) else ""
        points = row[points_pos] if 0 <= points_pos < len(row) else ""
        key = (vote, points)
        if key in counts:
            counts[key] += 1
        else:
            counts[key] = 1
            lines[key] = line


def _require(header: list[str], names: tuple[str, ...], line: int) -> None:
    for name in names:
        if name not in header:
            raise PabulibError(f"header lacks the obligatory column {name!r}", line)


def _check_counts(
    meta: dict[str, str],
    meta_lines: dict[str, int],
    project_rows: list[list[str]],
    counts: dict[tuple[str, str], int],
    project_lines: list[int],
) -> None:
    ids = [row[0] for row in project_rows]
    seen: set[str] = set()
    for pid, line in zip(ids, project_lines, strict=True):
        if pid in seen:
            raise PabulibError(f"project {pid!r} listed twice", line)
        seen.add(pid)
    for key, actual in (("num_projects", len(project_rows)), ("num_votes", sum(counts.values()))):
        if key in meta and meta[key].strip() and int(meta[key]) != actual:
            message = f"META {key} is {meta[key]} but the file has {actual}"
            raise PabulibError(message, meta_lines[key])


def read_pabulib(path: str | os.PathLike[str], *, keep_votes: bool = True) -> PabulibFile:
    """Read a ``.pb`` file (UTF-8, optional BOM). Raises :class:`PabulibError`."""
    text = Path(path).read_text(encoding="utf-8-sig")
    return loads(text, keep_votes=keep_votes)


def dumps(pb: PabulibFile) -> str:
    """The file as text; ``loads(dumps(pb))`` gives back every field, in order."""
    if pb.vote_rows is None:
        raise ValueError("this file was read with keep_votes=False; its votes were not kept")
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator=pb.line_terminator)
    writer.writerow(["META"])
    writer.writerow(["key", "value"])
    writer.writerows([k, v] for k, v in pb.meta.items())
    writer.writerow(["PROJECTS"])
    writer.writerow(pb.project_columns)
    writer.writerows(pb.project_rows)
    writer.writerow(["VOTES"])
    writer.writerow(pb.vote_columns)
    writer.writerows(pb.vote_rows)
    return out.getvalue()


def write_pabulib(pb: PabulibFile, path: str | os.PathLike[str]) -> None:
    """Write *pb* to *path* in UTF-8."""
    Path(path).write_text(dumps(pb), encoding="utf-8", newline="")
