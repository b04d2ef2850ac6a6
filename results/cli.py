"""`shaar verify-results`: check that a downloaded results file is exactly what the city
signed. Reads files or http(s) addresses; prints OK or NOT OK with the reason."""

from __future__ import annotations

import urllib.error
import urllib.request

import click

from results import signing

MAX_BYTES = 512 * 1024 * 1024


def read_source(source: str) -> bytes:
    """The bytes of a file, or of an http(s) address. Raises OSError with a readable reason."""
    if source.startswith(("http://", "https://")):
        try:
            with urllib.request.urlopen(source, timeout=60) as response:  # noqa: S310
                return bytes(response.read(MAX_BYTES + 1))
        except urllib.error.URLError as exc:
            raise OSError(f"cannot download {source}: {exc.reason}") from None
    try:
        with open(source, "rb") as fh:
            return fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise OSError(f"cannot read {source}: {exc.strerror or exc}") from None


def verify_sources(document: str, signature: str, public_key: str) -> tuple[bool, str]:
    """(True, what was checked) or (False, why not)."""
    try:
        data = read_source(document)
        sig = read_source(signature)
        pem = read_source(public_key)
    except OSError as exc:
        return False, str(exc)
    if len(data) > MAX_BYTES:
        return False, f"{document} is larger than {MAX_BYTES} bytes"
    problem = signing.check(data, sig, pem)
    if problem is not None:
        return False, problem
    public = signing.load_public(pem)
    assert public is not None
    return True, (f"{document} ({len(data)} bytes) is signed by the key with fingerprint "
                  f"{signing.fingerprint(public)}")


@click.command("verify-results", help="Check a published results file (JSON or .pb) against "
               "its signature and the city's public key. FILE may be a path or an address.")
@click.argument("file")
@click.option("--signature", default="", help="The detached signature (default: FILE.sig).")
@click.option("--public-key", "public_key", required=True,
              help="The city's public key (PEM), e.g. BASE_URL/results/public-key.pem.")
def verify_results(file: str, signature: str, public_key: str) -> None:
    ok, text = verify_sources(file, signature or file + ".sig", public_key)
    click.echo(("OK: " if ok else "NOT OK: ") + text)
    if not ok:
        raise SystemExit(1)
