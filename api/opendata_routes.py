"""/open-data: the catalogue page, its DCAT-AP JSON-LD and the signed ZIP of all open data."""

from __future__ import annotations

import hashlib
import json
import time

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api import opendata
from core.templating import render
from core.web import db
from results import signing
from results.downloads import city_key
from results.export import PUBLIC_KEY_URL

HEADERS = {"Access-Control-Allow-Origin": "*", "Cache-Control": "no-cache"}


async def page(request: Request) -> Response:
    with db(request) as s:
        datasets = opendata.catalogue(s, request.state.now)
    return render(request, "opendata/index.html", {
        "datasets": datasets,
        "licence": opendata.license_name(request.app.state.settings.open_data_license),
        "zip_url": opendata.ZIP_URL, "catalog_url": opendata.CATALOG_URL,
        "public_key_url": PUBLIC_KEY_URL})


async def catalog(request: Request) -> Response:
    with db(request) as s:
        document = opendata.dcat_document(s, request.app.state.settings, request.state.now)
    return Response(json.dumps(document, ensure_ascii=False, indent=1),
                    media_type="application/ld+json", headers=HEADERS)


#: Seconds a built ZIP is served again: the ZIP and its signature fetched together match,
#: and a crawler asking often does not rebuild it each time.
ZIP_TTL = 120


async def _zip(request: Request) -> bytes:
    cached = getattr(request.app.state, "opendata_zip", None)
    if cached is not None and time.monotonic() - cached[0] < ZIP_TTL:
        return bytes(cached[1])
    with db(request) as s:
        with opendata.in_locale("en"):
            datasets = opendata.catalogue(s, request.state.now)
    body = await opendata.build_zip(request.app, datasets, request.app.state.settings,
                                    request.state.now)
    request.app.state.opendata_zip = (time.monotonic(), body)
    return body


async def archive(request: Request) -> Response:
    body = await _zip(request)
    version = hashlib.sha256(body).hexdigest()[:12]
    return Response(body, media_type="application/zip", headers={
        **HEADERS, "ETag": f'"{version}"',
        "Content-Disposition": 'attachment; filename="shaar-open-data.zip"'})


async def archive_signature(request: Request) -> Response:
    body = await _zip(request)
    return Response(signing.sign(city_key(request), body), media_type="application/octet-stream",
                    headers={**HEADERS,
                             "Content-Disposition":
                                 'attachment; filename="shaar-open-data.zip.sig"'})


routes = [
    Route("/open-data", page, name="page"),
    Route(opendata.CATALOG_URL, catalog, name="catalog"),
    Route(opendata.ZIP_URL, archive, name="zip"),
    Route(opendata.ZIP_URL + ".sig", archive_signature, name="zip_sig"),
]
