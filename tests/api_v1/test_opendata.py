"""The open-data catalogue: the page, its DCAT-AP JSON-LD (parsed with rdflib) and the signed
ZIP of all open data with a README of every column."""

from __future__ import annotations

import hashlib
import io
import json
import warnings
import zipfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF
from starlette.testclient import TestClient

from api import opendata
from api.routes import IdeaOut, ProjectOut, TransparencyRow
from core.app import create_app
from core.db import Database
from results.export import CSV_COLUMNS
from tests.helpers import make_settings
from tests.tracking.tracking_factories import make_published_round

FOAF = Namespace("http://xmlns.com/foaf/0.1/")


def test_the_page_lists_every_dataset_with_licence_publisher_and_downloads(
        client: TestClient, database: Database) -> None:
    published = make_published_round(database)
    rid = published.round.id
    page = client.get("/open-data", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    html = page.text
    assert 'href="/open-data"' in html  # the footer links it
    assert "CC BY 4.0" in html and "https://creativecommons.org/licenses/by/4.0/" in html
    assert "Bishkek" in html
    for url in (f"/api/v1/rounds/{rid}/results", f"/rounds/{rid}/results.csv",
                f"/rounds/{rid}/log.json", "/api/v1/ideas", "/api/v1/transparency",
                "/api/v1/projects", opendata.ZIP_URL, opendata.CATALOG_URL):
        assert f'href="{url}' in html, url
    assert ".pb" in html
    russian = client.get("/open-data", headers={"Accept-Language": "ru"}).text
    assert "Открытые данные" in russian


def test_nothing_unpublished_is_catalogued(client: TestClient, database: Database) -> None:
    draft = make_published_round(database, publish_it=False)
    html = client.get("/open-data").text
    assert f"/rounds/{draft.round.id}/results" not in html
    assert ".pb" not in html


def test_the_dcat_catalogue_parses_and_names_every_distribution(
        client: TestClient, database: Database) -> None:
    make_published_round(database)
    answer = client.get(opendata.CATALOG_URL)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/ld+json")
    with warnings.catch_warnings():  # rdflib's JSON-LD parser warns about its own internals
        warnings.simplefilter("ignore", DeprecationWarning)
        graph = Graph().parse(data=answer.text, format="json-ld")
    catalogs = list(graph.subjects(RDF.type, DCAT.Catalog))
    assert len(catalogs) == 1
    datasets = set(graph.objects(catalogs[0], DCAT.dataset))
    with database.session() as s:
        expected = opendata.catalogue(s)
    assert len(datasets) == len(expected) > 5
    licence = URIRef("https://creativecommons.org/licenses/by/4.0/")
    distributions = 0
    for dataset in datasets:
        assert (dataset, RDF.type, DCAT.Dataset) in graph
        assert {t.language for t in graph.objects(dataset, DCTERMS.title)} == {"ru", "ky", "en"}
        assert graph.value(dataset, DCTERMS.modified) is not None
        publisher = graph.value(dataset, DCTERMS.publisher)
        assert str(graph.value(publisher, FOAF.name)) == "Bishkek"
        for dist in graph.objects(dataset, DCAT.distribution):
            distributions += 1
            assert (dist, RDF.type, DCAT.Distribution) in graph
            assert str(graph.value(dist, DCAT.downloadURL)).startswith("http://testserver")
            assert graph.value(dist, DCTERMS.format) is not None
            assert graph.value(dist, DCAT.mediaType) is not None
            assert graph.value(dist, DCTERMS.license) == licence
            assert graph.value(dist, DCTERMS.title) is not None
    assert distributions == sum(len(d.distributions) for d in expected)


def test_the_licence_and_publisher_are_settings(database: Database, migrated: str,
                                                tmp_path: Path) -> None:
    settings = make_settings(tmp_path, migrated, city_name="Osh",
                             open_data_license="https://example.org/licence")
    with TestClient(create_app(settings, database)) as client:
        html = client.get("/open-data").text
        assert "Osh" in html and 'href="https://example.org/licence"' in html
        document = client.get(opendata.CATALOG_URL).json()
    assert document["dct:publisher"]["foaf:name"] == "Osh"
    assert document["dct:license"]["@id"] == "https://example.org/licence"
    assert opendata.license_name(
        "https://creativecommons.org/publicdomain/zero/1.0/") == "CC0 1.0"


def test_the_zip_holds_every_file_a_readme_of_every_column_and_is_signed(
        client: TestClient, database: Database) -> None:
    published = make_published_round(database)
    rid = published.round.id
    first = client.get(opendata.ZIP_URL)
    assert first.status_code == 200 and first.headers["content-type"] == "application/zip"
    again = client.get(opendata.ZIP_URL)
    assert again.content == first.content  # the same data, the same bytes
    signature = client.get(opendata.ZIP_URL + ".sig").content
    key = load_pem_public_key(client.get("/results/public-key.pem").content)
    key.verify(signature, first.content)  # type: ignore[union-attr]

    archive = zipfile.ZipFile(io.BytesIO(first.content))
    names = archive.namelist()
    assert names[:2] == ["README.md", "MANIFEST.json"]
    manifest = json.loads(archive.read("MANIFEST.json"))
    assert manifest["license"] == "https://creativecommons.org/licenses/by/4.0/"
    assert set(manifest["files"]) == set(names[2:])
    for name, digest in manifest["files"].items():
        assert hashlib.sha256(archive.read(name)).hexdigest() == digest
    assert archive.read(f"results-round-{rid}/results.json") == client.get(
        f"/api/rounds/{rid}/results").content
    ideas = json.loads(archive.read("ideas/ideas.json"))["items"]
    assert {i["reference"] for i in ideas} >= set(published.winners)
    readme = archive.read("README.md").decode()
    version = hashlib.sha256(archive.read("MANIFEST.json")).hexdigest()[:16]
    assert f"Version: {version}" in readme
    for name in names[2:]:
        assert f"### {name} " in readme, name
    for column in CSV_COLUMNS:
        assert f"- `{column}`" in readme
    assert any(n.endswith(".pb") for n in names)


@pytest.mark.parametrize("kind,model", [("ideas", IdeaOut), ("projects", ProjectOut),
                                        ("transparency", TransparencyRow)])
def test_the_readme_describes_every_field_of_the_api_files(kind: str, model: type) -> None:
    described = {part.strip() for name, _text in opendata.COLUMNS[kind]
                 for part in name.split(",")}
    assert set(model.model_fields) <= described
