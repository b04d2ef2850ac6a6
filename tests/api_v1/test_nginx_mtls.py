"""The API behind a real nginx that demands a client certificate, as docs/tunduk.md sets it up
in front of Shaar for the X-Road security server: a CA, a server and a client certificate are
made here; with the client certificate the API answers, without one (or with one from another
CA) nginx refuses. Skipped where nginx is not installed (.ci/run installs it)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.api_v1.conftest import server_port
from tests.serving import AppProcess

NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None)

pytestmark = pytest.mark.skipif(
    NGINX is None, reason="nginx is not installed: apt-get install -y nginx (.ci/run does)")


@dataclass
class Issued:
    cert: Path
    key: Path


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _write(folder: Path, stem: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey,
           ) -> Issued:
    cert_path, key_path = folder / f"{stem}.pem", folder / f"{stem}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return Issued(cert_path, key_path)


def make_ca(folder: Path, stem: str) -> tuple[Issued, x509.Certificate,
                                              ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(_name(f"{stem} CA"))
            .issuer_name(_name(f"{stem} CA")).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True,
                                         crl_sign=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False,
                                         decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    return _write(folder, stem, cert, key), cert, key


def issue(folder: Path, stem: str, ca: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey,
          *, server: bool) -> Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    builder = (x509.CertificateBuilder().subject_name(_name(stem)).issuer_name(ca.subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(minutes=5))
               .not_valid_after(now + dt.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.ExtendedKeyUsage(
                   [ExtendedKeyUsageOID.SERVER_AUTH if server
                    else ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False))
    if server:
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False)
    return _write(folder, stem, builder.sign(ca_key, hashes.SHA256()), key)


def nginx_config(prefix: Path, port: int, upstream: str, server: Issued, ca: Path) -> str:
    """The configuration docs/tunduk.md shows, with every path in `prefix`."""
    user = "user root;\n" if os.geteuid() == 0 else ""
    return f"""{user}worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {server.cert};
        ssl_certificate_key {server.key};
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_client_certificate {ca};
        ssl_verify_client on;
        ssl_verify_depth 1;
        location /api/ {{
            limit_except GET {{ deny all; }}
            proxy_pass {upstream};
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto https;
            proxy_redirect off;
        }}
        location / {{ return 404; }}
    }}
}}
"""


@pytest.fixture
def behind_nginx(live_demo: AppProcess, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    assert NGINX is not None
    os.chmod(tmp_path, 0o755)
    ca, ca_cert, ca_key = make_ca(tmp_path, "city")
    server = issue(tmp_path, "shaar-server", ca_cert, ca_key, server=True)
    port = server_port(1)
    config = tmp_path / "nginx.conf"
    config.write_text(nginx_config(tmp_path, port, live_demo.base, server, ca.cert))
    checked = subprocess.run([NGINX, "-t", "-c", str(config), "-p", str(tmp_path),
                              "-e", str(tmp_path / "error.log")],
                             capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen([NGINX, "-c", str(config), "-p", str(tmp_path),
                                "-e", str(tmp_path / "error.log"), "-g", "daemon off;"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    try:
        began = time.monotonic()
        while time.monotonic() - began < 20:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None, (tmp_path / "error.log").read_text()
                time.sleep(0.1)
        yield f"https://127.0.0.1:{port}", tmp_path
    finally:
        process.send_signal(signal.SIGQUIT)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


def tls(ca: Path, client: Issued | None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(ca))
    if client is not None:
        context.load_cert_chain(str(client.cert), str(client.key))
    return context


def test_the_api_answers_only_a_client_with_a_certificate_of_the_city_ca(
        behind_nginx: tuple[str, Path]) -> None:
    base, folder = behind_nginx
    ca_cert = x509.load_pem_x509_certificate((folder / "city.pem").read_bytes())
    ca_key = serialization.load_pem_private_key((folder / "city.key").read_bytes(), None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    security_server = issue(folder, "security-server", ca_cert, ca_key, server=False)
    _, other_cert, other_key = make_ca(folder, "other")
    stranger = issue(folder, "stranger", other_cert, other_key, server=False)
    ca = folder / "city.pem"

    with httpx.Client(verify=tls(ca, security_server), timeout=15) as client:
        answer = client.get(f"{base}/api/v1/contests",
                            headers={"X-Road-Client": "KG/GOV/70000001/consumer"})
        assert answer.status_code == 200, answer.text
        assert answer.json()["items"], answer.text
        assert not [h for h in answer.headers if h.lower().startswith("x-road-")]
        description = client.get(f"{base}/api/v1/openapi.json")
        assert description.json()["openapi"].startswith("3.1")
        assert client.get(f"{base}/signin").status_code == 404  # only the API is published

    outcomes = []
    for who in (None, stranger):
        with httpx.Client(verify=tls(ca, who), timeout=15) as client:
            try:
                refused = client.get(f"{base}/api/v1/contests")
            except (httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError) as exc:
                outcomes.append(type(exc).__name__)  # refused in the handshake: also refused
                continue
            assert refused.status_code == 400, refused.text
            assert "items" not in refused.text
            outcomes.append(str(refused.status_code))
    print("without a certificate, with a stranger's:", outcomes)
    log = (folder / "error.log").read_text()
    assert "client sent no required SSL certificate" in log or "certificate" in log
