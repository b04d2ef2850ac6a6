#!/usr/bin/env python3
"""Check that a Shaar results file is exactly what the city signed.

    python3 verify_results.py FILE --public-key city.pub [--signature FILE.sig]

FILE is the published results (JSON, /api/rounds/ROUND/results) or one budget's ballots
(.pb, /rounds/ROUND/results/pots/POT.pb); its signature is the same address or file name
with .sig added; city.pub is the city's public key (/results/public-key.pem). Each may be a
file or an http(s) address. Needs Python 3 and the `cryptography` package
(pip install cryptography). Prints OK, or NOT OK and why; exits with 1 when not OK.
"""

import argparse
import base64
import binascii
import hashlib
import sys
import urllib.request

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def read(source):
    if source.startswith(("http://", "https://")):
        with urllib.request.urlopen(source, timeout=60) as response:  # noqa: S310 - http(s) only
            return response.read()
    with open(source, "rb") as fh:
        return fh.read()


def signature_bytes(blob):
    """64 raw bytes, as the city serves them, or the same in base64."""
    if len(blob) == 64:
        return blob
    try:
        decoded = base64.b64decode(blob.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    return decoded if len(decoded) == 64 else None


def check(data, signature, pem):
    """None when the signature is right, else the reason."""
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError:
        return "the public key is not a PEM public key"
    if not isinstance(key, Ed25519PublicKey):
        return "the public key is not an Ed25519 key"
    raw = signature_bytes(signature)
    if raw is None:
        return f"the signature file is not a signature ({len(signature)} bytes, expected 64)"
    try:
        key.verify(raw, data)
    except InvalidSignature:
        return ("the signature does not match: the file was changed after it was signed, "
                "or it was signed with another key")
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file")
    parser.add_argument("--signature", default="")
    parser.add_argument("--public-key", required=True)
    args = parser.parse_args()
    try:
        data = read(args.file)
        signature = read(args.signature or args.file + ".sig")
        pem = read(args.public_key)
    except OSError as exc:
        print(f"NOT OK: cannot read: {exc}")
        return 1
    problem = check(data, signature, pem)
    if problem:
        print(f"NOT OK: {problem}")
        return 1
    key = serialization.load_pem_public_key(pem)
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    print(f"OK: {args.file} ({len(data)} bytes) is signed by the key with fingerprint "
          f"{hashlib.sha256(raw).hexdigest()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
