"""The signed downloads of published results: the exact bytes of the JSON document and of each
pot's pabulib file, their detached Ed25519 signatures (`.sig`, 64 raw bytes) and the city's
public key. Before publication every one of them except the public key answers 404.

The bytes are rebuilt on each request from what publication froze (the stored count, the
ballots of a closed vote, the log); Ed25519 is deterministic, so the `.sig` fetched later
signs the same bytes as the file fetched before it.
"""

from __future__ import annotations

from sqlmodel import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from contests.models import Round
from core.web import db
from results import export, queries, signing
from voting import queries as voting_queries

SIGNATURE_TYPE = "application/octet-stream"


def results_document(s: Session, round_: Round) -> bytes | None:
    """The published results as served at /api/rounds/{id}/results, or None before."""
    view = queries.published_view(s, round_.id or 0)
    if view is None:
        return None
    _count, head = voting_queries.log_head(s, round_.id or 0)
    return export.results_bytes(round_, view, head)


def pot_document(s: Session, round_: Round, pot_id: int) -> bytes | None:
    """One pot's anonymised ballots as a pabulib file (UTF-8), or None before publication or
    for a pot not in the round."""
    view = queries.published_view(s, round_.id or 0)
    if view is None:
        return None
    pot = next((p for p in view.pots if p.pot.id == pot_id), None)
    if pot is None:
        return None
    text = export.pot_pabulib(s, round_, pot, export.spec_of(view.run.rule_spec))
    return text.encode("utf-8")


def city_key(request: Request) -> signing.Ed25519PrivateKey:
    return signing.load_key(request.app.state.settings.results_signing_key)


def _round(s: Session, request: Request) -> Round:
    round_ = s.get(Round, request.path_params["round_id"])
    if round_ is None:
        raise HTTPException(404)
    return round_


def signature_response(request: Request, body: bytes | None, filename: str) -> Response:
    if body is None:
        raise HTTPException(404)
    return Response(signing.sign(city_key(request), body), media_type=SIGNATURE_TYPE,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"',
                             "Access-Control-Allow-Origin": "*"})


async def results_signature(request: Request) -> Response:
    with db(request) as s:
        round_ = _round(s, request)
        body = results_document(s, round_)
    return signature_response(request, body, f"results-round-{round_.id}.json.sig")


async def pot_signature(request: Request) -> Response:
    pot_id = request.path_params["pot_id"]
    with db(request) as s:
        round_ = _round(s, request)
        body = pot_document(s, round_, pot_id)
    return signature_response(request, body, f"round-{round_.id}-pot-{pot_id}.pb.sig")


async def public_key(request: Request) -> Response:
    """The city's public key (PEM), for anyone, published or not."""
    return Response(signing.public_pem(city_key(request)),
                    media_type="application/x-pem-file",
                    headers={"Content-Disposition": 'attachment; filename="city.pub"',
                             "Access-Control-Allow-Origin": "*"})


routes = [
    Route("/api/rounds/{round_id:int}/results.sig", results_signature, name="results_sig"),
    Route("/rounds/{round_id:int}/results/pots/{pot_id:int}.pb.sig", pot_signature,
          name="pabulib_sig"),
    Route(export.PUBLIC_KEY_URL, public_key, name="public_key"),
]
