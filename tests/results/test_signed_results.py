"""Published results and ballot files carry the city's Ed25519 signature: they verify with
`shaar verify-results`, docs/verify_results.py and openssl; a changed byte or another key
fails; nothing is signed before publication; the key is made once, even by racing starts."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from starlette.testclient import TestClient

from core.db import Database
from core.settings import ROOT, Settings
from results import signing
from results.cli import verify_results
from tests.results.factories import make_voted_round
from tests.results.test_pages import count_and_publish, post, signed_in

KEY_URL = "/results/public-key.pem"


def published(app: Any, database: Database) -> Any:
    """A published round; `setup.jury` is the signed-in juror who published it."""
    setup = make_voted_round(database)
    setup.jury = signed_in(app, database, "jury")
    assert count_and_publish(setup.jury, setup.round.id).status_code == 303
    return setup


def download(client: TestClient, path: str, folder: Path, name: str) -> Path:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    target = folder / name
    target.write_bytes(response.content)
    return target


def verify(document: Path, signature: Path, key: Path) -> Any:
    return CliRunner().invoke(verify_results, [str(document), "--signature", str(signature),
                                               "--public-key", str(key)])


def published_files(app: Any, database: Database, folder: Path) -> list[tuple[Path, Path]]:
    """Every signed file of a published round with its signature, as anyone downloads them."""
    setup = published(app, database)
    public = TestClient(app)
    r = setup.round.id
    files = [(download(public, f"/api/rounds/{r}/results", folder, "results.json"),
              download(public, f"/api/rounds/{r}/results.sig", folder, "results.json.sig"))]
    for pot in setup.pots.values():
        base = f"/rounds/{r}/results/pots/{pot}.pb"
        files.append((download(public, base, folder, f"pot-{pot}.pb"),
                      download(public, base + ".sig", folder, f"pot-{pot}.pb.sig")))
    return files


def test_published_json_and_ballot_files_verify(app: Any, database: Database,
                                                tmp_path: Path) -> None:
    files = published_files(app, database, tmp_path)
    key = download(TestClient(app), KEY_URL, tmp_path, "city.pub")
    assert len(files) == 4
    for document, signature in files:
        assert len(signature.read_bytes()) == 64
        result = verify(document, signature, key)
        assert result.exit_code == 0, result.output
        assert result.output.startswith("OK: ")
        standalone = subprocess.run(
            [sys.executable, str(ROOT / "docs" / "verify_results.py"), str(document),
             "--public-key", str(key)], capture_output=True, text=True, check=False)
        assert standalone.returncode == 0, standalone.stdout + standalone.stderr
        assert standalone.stdout.startswith("OK: ")


def test_the_documented_openssl_command_verifies_a_published_file(
        app: Any, database: Database, tmp_path: Path) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    (document, signature), *_ = published_files(app, database, tmp_path)
    key = download(TestClient(app), KEY_URL, tmp_path, "city.pub")

    def openssl(path: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(key),
                               "-rawin", "-in", str(path), "-sigfile", str(signature)],
                              capture_output=True, text=True, check=False)

    good = openssl(document)
    assert good.returncode == 0 and "Signature Verified Successfully" in good.stdout
    changed = tmp_path / "changed.json"
    changed.write_bytes(document.read_bytes().replace(b'"voters":', b'"voters": ', 1))
    assert openssl(changed).returncode != 0


@pytest.mark.parametrize("which", [0, 1])
def test_a_file_with_one_byte_changed_fails_with_a_clear_message(
        app: Any, database: Database, tmp_path: Path, which: int) -> None:
    document, signature = published_files(app, database, tmp_path)[which]
    key = download(TestClient(app), KEY_URL, tmp_path, "city.pub")
    data = bytearray(document.read_bytes())
    middle = len(data) // 2
    data[middle] = data[middle] ^ 0x01
    document.write_bytes(bytes(data))
    result = verify(document, signature, key)
    assert result.exit_code == 1
    assert result.output.startswith("NOT OK: the signature does not match")
    assert "changed after it was signed" in result.output
    standalone = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "verify_results.py"), str(document),
         "--signature", str(signature), "--public-key", str(key)],
        capture_output=True, text=True, check=False)
    assert standalone.returncode == 1 and standalone.stdout.startswith("NOT OK: the signature")


def test_another_key_does_not_verify_the_city_s_files(app: Any, database: Database,
                                                      tmp_path: Path) -> None:
    document, signature = published_files(app, database, tmp_path)[0]
    other = tmp_path / "other.pub"
    other.write_bytes(Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    result = verify(document, signature, other)
    assert result.exit_code == 1 and "NOT OK: the signature does not match" in result.output
    not_a_key = tmp_path / "not-a-key.pub"
    not_a_key.write_text("hello")
    result = verify(document, signature, not_a_key)
    assert result.exit_code == 1 and "not an Ed25519 public key" in result.output
    result = verify(document, tmp_path / "missing.sig", other)
    assert result.exit_code == 1 and "cannot read" in result.output


def test_a_signature_pasted_as_base64_also_verifies(app: Any, database: Database,
                                                    tmp_path: Path) -> None:
    import base64

    document, signature = published_files(app, database, tmp_path)[0]
    key = download(TestClient(app), KEY_URL, tmp_path, "city.pub")
    pasted = tmp_path / "pasted.sig"
    pasted.write_bytes(base64.b64encode(signature.read_bytes()) + b"\n")
    assert verify(document, pasted, key).exit_code == 0


def test_the_served_bytes_and_signatures_do_not_change_between_requests(
        app: Any, database: Database) -> None:
    setup = published(app, database)
    anyone, jury = TestClient(app), setup.jury
    pot = next(iter(setup.pots.values()))
    for path in (f"/api/rounds/{setup.round.id}/results",
                 f"/api/rounds/{setup.round.id}/results.sig",
                 f"/rounds/{setup.round.id}/results/pots/{pot}.pb",
                 f"/rounds/{setup.round.id}/results/pots/{pot}.pb.sig", KEY_URL):
        assert anyone.get(path).content == jury.get(path).content == anyone.get(path).content


def test_nothing_is_signed_before_publication_but_the_key_is_public(
        app: Any, database: Database) -> None:
    setup = make_voted_round(database)
    jury = signed_in(app, database, "jury")
    assert post(jury, f"/rounds/{setup.round.id}/results/count", {}).status_code == 303
    anonymous = TestClient(app)
    for client in (anonymous, jury, signed_in(app, database, "admin")):
        for path in [f"/api/rounds/{setup.round.id}/results.sig",
                     *[f"/rounds/{setup.round.id}/results/pots/{p}.pb.sig"
                       for p in setup.pots.values()]]:
            assert client.get(path).status_code == 404, path
    assert anonymous.get(f"/api/rounds/{setup.round.id}").json()["results_signature"] is None
    key = anonymous.get(KEY_URL)
    assert key.status_code == 200
    assert key.content.startswith(b"-----BEGIN PUBLIC KEY-----")
    assert b"PRIVATE" not in key.content
    assert anonymous.get("/rounds/999/results/pots/1.pb.sig").status_code == 404


def test_the_page_and_the_api_link_to_the_signatures_and_the_key(
        app: Any, database: Database, settings: Settings) -> None:
    setup = published(app, database)
    anyone = TestClient(app, headers={"Accept-Language": "en"})
    r = setup.round.id
    page = anyone.get(f"/rounds/{r}/results").text
    assert f'href="/api/rounds/{r}/results.sig"' in page
    for pot in setup.pots.values():
        assert f'href="/rounds/{r}/results/pots/{pot}.pb.sig"' in page
    assert f'href="{KEY_URL}"' in page
    city = signing.load_key(settings.results_signing_key)
    assert signing.fingerprint(city) in page
    api = anyone.get(f"/api/rounds/{r}").json()
    assert api["results_signature"] == f"/api/rounds/{r}/results.sig"
    assert api["public_key"] == KEY_URL
    document = anyone.get(f"/api/rounds/{r}/results").json()
    assert document["signature"] == f"/api/rounds/{r}/results.sig"
    assert all(p["ballots_signature"] == p["ballots"] + ".sig" for p in document["pots"])
    assert anyone.get(document["pots"][0]["ballots_signature"]).status_code == 200


def test_the_key_is_made_once_private_and_the_same_for_racing_starts(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "results.pem"
    barrier = threading.Barrier(8)
    seen: list[bytes] = []

    def start() -> None:
        barrier.wait()
        seen.append(signing.public_pem(signing.load_key(path)))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 8 and len(set(seen)) == 1
    assert path.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == ["results.pem"]
    assert signing.public_pem(signing.load_key(path)) == seen[0]


def test_two_processes_starting_at_once_end_with_the_same_key(tmp_path: Path) -> None:
    path = tmp_path / "results.pem"
    code = ("import sys; from pathlib import Path; from results import signing; "
            "print(signing.fingerprint(signing.load_key(Path(sys.argv[1]))))")
    children = [subprocess.Popen([sys.executable, "-c", code, str(path)], cwd=ROOT,
                                 stdout=subprocess.PIPE, text=True) for _ in range(4)]
    prints = {child.communicate(timeout=60)[0].strip() for child in children}
    assert len(prints) == 1 and len(prints.pop()) == 64


def test_the_key_path_is_a_setting_under_the_var_folder_by_default(tmp_path: Path) -> None:
    default = Settings.from_env({"SHAAR_VAR_DIR": str(tmp_path), "SECRET_KEY": "x" * 40})
    assert default.results_signing_key == tmp_path / "results_signing_key.pem"
    chosen = Settings.from_env({"SHAAR_VAR_DIR": str(tmp_path), "SECRET_KEY": "x" * 40,
                                "RESULTS_SIGNING_KEY": str(tmp_path / "city.pem")})
    assert chosen.results_signing_key == tmp_path / "city.pem"


def test_a_key_file_that_is_not_a_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "broken.pem"
    path.write_text("not a key")
    with pytest.raises(signing.SigningKeyError, match="not a PEM private key"):
        signing.load_key(path)
    assert path.read_text() == "not a key"


def test_verify_results_reads_addresses_and_finds_the_signature_next_to_the_file(
        app: Any, database: Database, tmp_path: Path) -> None:
    import functools
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    published_files(app, database, tmp_path)
    download(TestClient(app), KEY_URL, tmp_path, "city.pub")
    server = ThreadingHTTPServer(("127.0.0.1", 0),
                                 functools.partial(Quiet, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        good = CliRunner().invoke(verify_results, [f"{base}/results.json",
                                                   "--public-key", f"{base}/city.pub"])
        assert good.exit_code == 0 and good.output.startswith("OK: "), good.output
        missing = CliRunner().invoke(verify_results, [f"{base}/nothing.json",
                                                      "--public-key", f"{base}/city.pub"])
        assert missing.exit_code == 1
        assert missing.output.startswith(f"NOT OK: cannot download {base}/nothing.json")
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
