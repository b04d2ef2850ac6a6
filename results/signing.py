"""The city's Ed25519 signatures on published results: the key (generated once, kept in a
file), detached signatures of the exact bytes served, and checking them.

A signature is the raw 64 bytes Ed25519 gives (what `openssl pkeyutl -rawin` reads); the
public key is PEM (SubjectPublicKeyInfo). Ed25519 is deterministic, so signing the same bytes
again gives the same signature, and signing on request needs no storage.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
import threading
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

SIGNATURE_BYTES = 64

_lock = threading.Lock()
#: Keys already read, by path and the file's identity (a replaced file is read again).
_keys: dict[tuple[str, int, int], Ed25519PrivateKey] = {}


class SigningKeyError(RuntimeError):
    """The key file exists but is not an Ed25519 private key in PEM."""


def _pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def create_key(path: Path) -> None:
    """Write a new key to `path` unless a key is there already.

    Safe when several processes start at once: each writes a complete key to its own
    temporary file (mode 0600) and links it to `path`; the link fails for all but the first,
    which then drop theirs, so everyone ends with the first key. Never overwrites a key.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(8)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(_pem(Ed25519PrivateKey.generate()))
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
    finally:
        temporary.unlink(missing_ok=True)


def load_key(path: Path) -> Ed25519PrivateKey:
    """The private key in `path`, generated first when the file is absent.

    Raises SigningKeyError when the file holds something else than an Ed25519 key."""
    if not path.exists():
        create_key(path)
    stat = path.stat()
    ident = (str(path), stat.st_ino, stat.st_mtime_ns)
    with _lock:
        key = _keys.get(ident)
    if key is not None:
        return key
    try:
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise SigningKeyError(f"{path} is not a PEM private key: {exc}") from None
    if not isinstance(loaded, Ed25519PrivateKey):
        raise SigningKeyError(f"{path} is not an Ed25519 key")
    with _lock:
        _keys[ident] = loaded
    return loaded


def public_pem(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def fingerprint(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """SHA-256 of the raw public key, in hex: one line to compare with what the city
    publishes elsewhere (docs/verify_results.py prints the same)."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def load_public(pem: bytes) -> Ed25519PublicKey | None:
    try:
        public = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return None
    return public if isinstance(public, Ed25519PublicKey) else None


def sign(key: Ed25519PrivateKey, data: bytes) -> bytes:
    """The detached signature of `data`: 64 raw bytes."""
    return key.sign(data)


def signature_bytes(blob: bytes) -> bytes | None:
    """A signature file's 64 bytes: raw as served, or the same in base64 (someone may have
    pasted it); None when it is neither."""
    if len(blob) == SIGNATURE_BYTES:
        return blob
    try:
        decoded = base64.b64decode(blob.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    return decoded if len(decoded) == SIGNATURE_BYTES else None


def check(data: bytes, signature: bytes, public_key_pem: bytes) -> str | None:
    """None when `signature` is the key's signature of exactly `data`; otherwise why not,
    in a sentence."""
    public = load_public(public_key_pem)
    if public is None:
        return "the public key is not an Ed25519 public key in PEM"
    raw = signature_bytes(signature)
    if raw is None:
        return (f"the signature file is not a signature (expected {SIGNATURE_BYTES} bytes, "
                f"or the same in base64; got {len(signature)} bytes)")
    try:
        public.verify(raw, data)
    except InvalidSignature:
        return ("the signature does not match: the file was changed after it was signed, "
                "or it was signed with another key")
    return None
