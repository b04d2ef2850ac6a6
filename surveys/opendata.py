"""Open data of a wave: its anonymised responses as CSV and JSON (rows shuffled, values in
cells with fewer than MIN_CELL responses removed, free text left out) and a codebook."""

from __future__ import annotations

import csv
import hashlib
import io
import random
from collections import Counter
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response

from core.models import District, utcnow
from surveys.models import QuestionType, Survey, SurveyQuestion, SurveyResponse, SurveyWave
from surveys.results import MIN_CELL, choice_values, scale_values
from surveys.services import questions_of

HEADERS = {"Access-Control-Allow-Origin": "*", "Cache-Control": "no-cache"}
TEXT_KINDS = (QuestionType.SHORT, QuestionType.LONG)
DEMOGRAPHICS = ("district", "age_band", "gender", "channel")


def columns(questions: list[SurveyQuestion]) -> list[str]:
    """One column per answer: a matrix has one per row, a multiple choice one 0/1 column
    per option, a ranking one rank column per option. Free text is not published."""
    out: list[str] = []
    for q in questions:
        if q.kind in TEXT_KINDS:
            continue
        if q.kind == QuestionType.MATRIX:
            out += [f"{q.key}.{r['value']}" for r in q.rows]
        elif q.kind == QuestionType.MULTIPLE:
            out += [f"{q.key}.{v}" for v in choice_values(q)]
        elif q.kind == QuestionType.RANKING:
            out += [f"{q.key}.{o['value']}" for o in q.options]
        else:
            out.append(q.key)
    return out


def flatten(questions: list[SurveyQuestion], answers: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for q in questions:
        got = answers.get(q.key)
        if q.kind in TEXT_KINDS:
            continue
        if q.kind == QuestionType.MATRIX:
            for r in q.rows:
                v = got.get(str(r["value"])) if isinstance(got, dict) else None
                row[f"{q.key}.{r['value']}"] = v
        elif q.kind == QuestionType.MULTIPLE:
            for v in choice_values(q):
                row[f"{q.key}.{v}"] = None if got is None else int(v in got)
        elif q.kind == QuestionType.RANKING:
            for o in q.options:
                row[f"{q.key}.{o['value']}"] = (got.index(o["value"]) + 1
                                                if isinstance(got, list) and o["value"] in got
                                                else None)
        else:
            row[q.key] = got
    return row


def anonymised_rows(s: Session, wave: SurveyWave, seed: str) -> tuple[list[str], list[dict[
        str, Any]]]:
    """Rows in a shuffled order, each value blanked where fewer than MIN_CELL responses share
    it in its column (numbers: the column is kept only with MIN_CELL answers)."""
    questions = questions_of(s, wave.id or 0)
    names = {d.id: d.slug for d in s.exec(select(District)).all()}
    responses = s.exec(select(SurveyResponse).where(SurveyResponse.wave_id == wave.id)
                       .order_by(col(SurveyResponse.id))).all()
    rows: list[dict[str, Any]] = []
    for r in responses:
        row: dict[str, Any] = {"district": names.get(r.district_id, "") if r.district_id else "",
               "age_band": r.age_band, "gender": r.gender, "channel": r.channel}
        row.update(flatten(questions, r.answers))
        rows.append(row)
    cols = [*DEMOGRAPHICS, *columns(questions)]
    numbers = {q.key for q in questions if q.kind == QuestionType.NUMBER}
    for c in cols:
        counts = Counter(row.get(c) for row in rows if row.get(c) not in (None, ""))
        if c in numbers:
            if sum(counts.values()) < MIN_CELL:
                for row in rows:
                    row[c] = None
            continue
        for row in rows:
            if row.get(c) not in (None, "") and counts[row[c]] < MIN_CELL:
                row[c] = None
    # Shuffled so the order of the file says nothing about the order of answering; the seed
    # is secret, so the order cannot be undone either.
    random.Random(hashlib.sha256(f"{seed}|{wave.id}".encode()).digest()).shuffle(rows)  # noqa: S311
    return cols, rows


def codebook(s: Session, survey: Survey, wave: SurveyWave) -> dict[str, Any]:
    questions = questions_of(s, wave.id or 0)
    entries = []
    for q in questions:
        if q.kind in TEXT_KINDS:
            continue
        values: dict[str, Any] = {}
        if q.kind in (QuestionType.SINGLE, QuestionType.MULTIPLE, QuestionType.RANKING):
            values = {str(o["value"]): o["label"] for o in q.options}
            if q.allow_other:
                values["other"] = {"ru": "Другое", "ky": "Башка", "en": "Other"}
        elif q.kind in (QuestionType.RATING5, QuestionType.RATING10, QuestionType.MATRIX):
            sv = scale_values(q)
            values = {sv[0]: q.scale_low, sv[-1]: q.scale_high}
        entries.append({
            "id": q.key, "type": q.kind, "label": q.text, "section": q.section,
            "required": q.required, "show_if": q.show_if, "values": values,
            "rows": {str(r["value"]): r["label"] for r in q.rows} or None,
            "columns": columns([q]),
        })
    return {
        "survey": survey.slug, "title": survey.title, "wave": wave.number,
        "opens_at": wave.opens_at.isoformat(), "closes_at": wave.closes_at.isoformat(),
        "suppression": f"values shared by fewer than {MIN_CELL} responses are removed",
        "free_text": "not published in open data",
        "demographics": {"district": "district slug", "age_band": "age band or no_say",
                         "gender": "female, male or no_say", "channel": "web, phone or paper"},
        "questions": entries,
    }


def response(s: Session, survey: Survey, wave: SurveyWave, fmt: str, seed: str) -> Response:
    if fmt == "codebook.json":
        return JSONResponse(codebook(s, survey, wave), headers=HEADERS)
    if fmt not in ("responses.csv", "responses.json"):
        raise HTTPException(404)
    cols, rows = anonymised_rows(s, wave, seed)
    if fmt == "responses.json":
        return JSONResponse({"columns": cols, "rows": rows}, headers=HEADERS)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=cols, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: "" if row.get(c) is None else row.get(c) for c in cols})
    name = f"{survey.slug}-wave{wave.number}.csv"
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={**HEADERS, "Content-Disposition": f'attachment; filename="{name}"'})


def datasets(s: Session, base_url: str = "", now: datetime | None = None) -> list[dict[str, Any]]:
    """Published survey datasets (waves whose results are visible), for an open-data
    catalogue: title, description, url per format and updated date."""
    now = now or utcnow()
    out = []
    for survey in s.exec(select(Survey).order_by(col(Survey.id))).all():
        waves = s.exec(select(SurveyWave).where(SurveyWave.survey_id == survey.id)
                       .order_by(col(SurveyWave.number))).all()
        for w in waves:
            visible = now >= w.closes_at or (survey.live_results and now >= w.opens_at)
            if not visible:
                continue
            base = f"{base_url}/surveys/{survey.slug}/waves/{w.number}"
            out.append({
                "title": f"{survey.title.get('en', survey.slug)}, wave {w.number}",
                "titles": survey.title,
                "description": "Anonymised survey responses (rows shuffled, small cells "
                               "removed, no free text) with a codebook.",
                "url": {"csv": f"{base}/responses.csv", "json": f"{base}/responses.json",
                        "codebook": f"{base}/codebook.json"},
                "updated": min(now, w.closes_at).date().isoformat(),
            })
    return out
