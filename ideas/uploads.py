"""Storing the photos and PDFs of ideas on disk, and serving them back safely. No database.

What a stored file is guaranteed to be:
- its type was decided from its bytes, never from its name or the client's content type;
- photos (JPEG, PNG, WebP) were decoded and re-encoded without any metadata (EXIF and its GPS,
  XMP, ICC profiles, text chunks, comments), turned upright, with a JPEG thumbnail beside them;
- PDFs start with `%PDF-`, end with `%%EOF`, and are kept byte for byte (served as downloads);
- it lives in `upload_dir` under a random name matching `STORED_NAME`, written atomically.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import tempfile
import threading
import unicodedata
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any, Literal, Protocol
from urllib.parse import quote

import anyio.to_thread
from PIL import Image, ImageCms, ImageOps
from starlette.datastructures import UploadFile
from starlette.responses import FileResponse

from core.i18n import format_number
from core.i18n import gettext as _

log = logging.getLogger(__name__)

Reason = Literal["too_large", "unsupported_type", "corrupt", "too_many_pixels"]

# The declared size is read from the header (Image.open is lazy) and checked before any
# decode; 25 MP is more than any phone photo and keeps one decode near 100 MB.
MAX_PIXELS = 25_000_000
THUMB_SIZE = (480, 960)
CHUNK = 64 * 1024
MAX_NAME = 120
#: content type -> (Pillow format, our extension, extensions a display name may keep)
TYPES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "image/jpeg": ("JPEG", ".jpg", (".jpg", ".jpeg")),
    "image/png": ("PNG", ".png", (".png",)),
    "image/webp": ("WEBP", ".webp", (".webp",)),
    "application/pdf": ("", ".pdf", (".pdf",)),
}
KIND_TYPES = {"image": ("image/jpeg", "image/png", "image/webp"), "document": ("application/pdf",)}
ENCODER_OPTIONS: dict[str, dict[str, Any]] = {
    "JPEG": {"quality": 85, "progressive": True, "optimize": True},
    "PNG": {},
    "WEBP": {"quality": 85},
}
STORED_NAME = re.compile(r"[0-9a-f]{32}\.(?:jpg|png|webp|pdf)")
# A 25-megapixel photo takes ~100 MB decoded, twice that while turned; a few at a time only.
_DECODE_SLOTS = threading.BoundedSemaphore(2)
_UNSAFE_CHARS = str.maketrans({c: "_" for c in '<>:"/\\|?*'})


class UploadRejected(ValueError):
    """An upload we will not store; `reason` says why, `message` tells the uploader."""

    def __init__(self, reason: Reason, *, kind: str = "image", max_bytes: int = 0) -> None:
        super().__init__(reason)
        self.reason: Reason = reason
        self.kind = kind
        self.max_bytes = max_bytes

    @property
    def message(self) -> str:
        # Translated when read, so it is in the language of whoever reads it.
        if self.reason == "too_large":
            return _("The file is larger than %(mb)s MB.",
                     mb=format_number(round(self.max_bytes / 2**20, 1)))
        if self.reason == "too_many_pixels":
            return _("The photo is too big: at most %(mp)s megapixels.", mp=MAX_PIXELS // 10**6)
        if self.reason == "unsupported_type":
            if self.kind == "document":
                return _("Only PDF documents are accepted.")
            return _("Only JPEG, PNG and WebP photos are accepted.")
        return _("The file is damaged or not what its name says.")


@dataclass(frozen=True)
class StoredFile:
    kind: str  # "image" or "document"
    stored_name: str
    thumb_name: str | None
    original_name: str
    content_type: str
    size: int
    width: int | None = None
    height: int | None = None


class ServedFile(Protocol):
    """What `serving_headers` needs: a StoredFile or an ideas.models.Attachment."""

    @property
    def kind(self) -> str: ...
    @property
    def content_type(self) -> str: ...
    @property
    def original_name(self) -> str: ...


def sniff(head: bytes) -> str | None:
    """The content type the first bytes prove, among the four we accept; otherwise None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def sanitize_filename(name: str) -> str:
    """A name safe to show and to offer as a download name: no directories, control or
    invisible characters (bidi overrides included), characters Windows refuses, leading dots;
    spaces collapsed; at most MAX_NAME characters, keeping the extension. Never empty."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    kept = "".join(ch for ch in name if ch.isspace() or unicodedata.category(ch)[0] != "C")
    name = " ".join(kept.split()).translate(_UNSAFE_CHARS)
    # Leading dots hide files; Windows silently drops trailing dots and spaces.
    name = name.strip(" .")
    if len(name) > MAX_NAME:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 10:
            name = stem[: MAX_NAME - len(ext) - 1].rstrip(" .") + "." + ext
        else:
            name = name[:MAX_NAME].rstrip(" .")
    return name or "file"


def stored_path(upload_dir: Path, stored_name: str) -> Path:
    """The path of a stored file. Raises ValueError unless the name is one we generate."""
    if not STORED_NAME.fullmatch(stored_name):
        raise ValueError(f"not a stored file name: {stored_name!r}")
    return upload_dir / stored_name


def delete_stored(upload_dir: Path, *names: str | None) -> None:
    """Delete stored files; None and files already gone are ignored, foreign names raise."""
    for name in names:
        if name is not None:
            stored_path(upload_dir, name).unlink(missing_ok=True)


async def store_upload(upload_dir: Path, upload: UploadFile, *, kind: str,
                       max_bytes: int) -> StoredFile:
    """Check, clean and store one upload of `kind` ("image" or "document").

    Reads at most `max_bytes + 1` bytes. Raises UploadRejected: "too_large", "unsupported_type"
    (content is not a type `kind` accepts), "corrupt" (does not decode, or a PDF without its
    end marker), "too_many_pixels" (more than MAX_PIXELS). OSError if the disk fails.
    """
    if kind not in KIND_TYPES:
        raise ValueError(f"unknown upload kind {kind!r}")
    if upload.size is not None and upload.size > max_bytes:
        raise UploadRejected("too_large", kind=kind, max_bytes=max_bytes)
    await upload.seek(0)
    data = bytearray()
    while chunk := await upload.read(min(CHUNK, max_bytes + 1 - len(data))):
        data += chunk
        if len(data) > max_bytes:
            raise UploadRejected("too_large", kind=kind, max_bytes=max_bytes)
    content_type = sniff(bytes(data[:16]))
    if content_type is None or content_type not in KIND_TYPES[kind]:
        raise UploadRejected("unsupported_type", kind=kind)
    name = _display_name(upload.filename or "", content_type)
    if kind == "document":
        return await anyio.to_thread.run_sync(_store_pdf, upload_dir, bytes(data), name)
    return await anyio.to_thread.run_sync(_store_image, upload_dir, bytes(data), content_type,
                                          name)


def serving_headers(file: ServedFile, *, thumbnail: bool = False) -> dict[str, str]:
    """Headers for serving a stored file (or its thumbnail): our content type, never sniffed,
    never run as a page; documents as downloads, photos inline."""
    content_type = "image/jpeg" if thumbnail else file.content_type
    disposition = "inline" if file.kind == "image" else "attachment"
    if content_type not in TYPES:
        content_type, disposition = "application/octet-stream", "attachment"
    name = sanitize_filename(file.original_name)
    return {
        "Content-Type": content_type,
        "X-Content-Type-Options": "nosniff",
        "Content-Disposition": (f'{disposition}; filename="{_ascii_name(name)}"; '
                                f"filename*=UTF-8''{quote(name, safe='')}"),
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, max-age=3600",
    }


def file_response(upload_dir: Path, name: str, file: ServedFile, *, thumb_name: str | None,
                  private: bool = False) -> FileResponse | None:
    """The response serving stored file `name` (the file itself or, when `name` is
    `thumb_name`, its thumbnail), or None when no such file is on disk (a 404 for the caller).
    `private` keeps it out of shared caches (an idea not public yet)."""
    try:
        path = stored_path(upload_dir, name)
    except ValueError:
        return None
    if not path.exists():
        return None
    headers = serving_headers(file, thumbnail=name == thumb_name)
    if private:
        headers["Cache-Control"] = "private, no-store"
    media_type = headers.pop("Content-Type")
    return FileResponse(path, media_type=media_type, headers=headers)


def _display_name(filename: str, content_type: str) -> str:
    # The name a download is saved under should not claim another type (a PDF saved as .html).
    name = sanitize_filename(filename)
    _format, ext, allowed = TYPES[content_type]
    stem, dot, current = name.rpartition(".")
    if dot and stem and "." + current.lower() in allowed:
        return name
    return sanitize_filename(f"{stem if dot and stem else name}{ext}")


def _ascii_name(name: str) -> str:
    # For clients that ignore filename*: letters without an ASCII form vanish, so a Cyrillic
    # name falls back to "file" with its extension.
    stem, dot, ext = name.rpartition(".")
    stem, ext = (stem, ext) if dot else (ext, "")
    stem, ext = (re.sub(r"[^A-Za-z0-9 ._()+,=@-]", "_", unicodedata.normalize("NFKD", part)
                        .encode("ascii", "ignore").decode()).strip(" .") for part in (stem, ext))
    return (stem if stem.strip("_") else "file") + ("." + ext if ext else "")


def _store_pdf(upload_dir: Path, data: bytes, name: str) -> StoredFile:
    # A PDF reader looks for the end marker in the last kilobyte; without it the file was cut.
    if b"%%EOF" not in data[-1024:]:
        raise UploadRejected("corrupt", kind="document")
    stored = _write_new(upload_dir, ".pdf", data)
    return StoredFile("document", stored, None, name, "application/pdf", len(data))


def store_image_bytes(upload_dir: Path, data: bytes, content_type: str, name: str) -> StoredFile:
    """Store a photo made in code (the demo city's illustrations) as an upload would be."""
    return _store_image(upload_dir, data, content_type, name)


def check_declared_size(data: bytes, pil_format: str) -> None:
    """Refuse a photo whose header declares more than MAX_PIXELS, decoding nothing (Pillow
    reads only the header until `load`). Raises UploadRejected("too_many_pixels" or
    "corrupt"). Cheap: runs before a decode slot is taken, so bombs never queue for one."""
    try:
        with Image.open(BytesIO(data), formats=[pil_format]) as img:
            width, height = img.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UploadRejected("too_many_pixels") from None
    except Exception as exc:
        log.info("upload refused as corrupt: %r", exc)
        raise UploadRejected("corrupt") from None
    if width * height > MAX_PIXELS:
        raise UploadRejected("too_many_pixels")


def _store_image(upload_dir: Path, data: bytes, content_type: str, name: str) -> StoredFile:
    pil_format, ext, _allowed = TYPES[content_type]
    check_declared_size(data, pil_format)
    with _DECODE_SLOTS:
        main, thumb, width, height = _reencode(data, pil_format)
    stored = _write_new(upload_dir, ext, main)
    try:
        thumb_name = _write_new(upload_dir, ".jpg", thumb)
    except BaseException:
        delete_stored(upload_dir, stored)
        raise
    return StoredFile("image", stored, thumb_name, name, content_type, len(main), width, height)


def _reencode(data: bytes, pil_format: str) -> tuple[bytes, bytes, int, int]:
    """The image re-encoded without metadata, and its JPEG thumbnail, with the upright size."""
    try:
        with Image.open(BytesIO(data), formats=[pil_format]) as img:
            if img.width * img.height > MAX_PIXELS:
                raise UploadRejected("too_many_pixels")
            img.load()
            return _clean(img, pil_format)
    # The warning is an error only where warnings are errors (tests); elsewhere the size check
    # above catches the same images.
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UploadRejected("too_many_pixels") from None
    except UploadRejected:
        raise
    except Exception as exc:
        # Hostile or broken bytes make decoders fail in many ways; each means "not a photo".
        log.info("upload refused as corrupt: %r", exc)
        raise UploadRejected("corrupt") from None


def _clean(img: Image.Image, pil_format: str) -> tuple[bytes, bytes, int, int]:
    try:
        ImageOps.exif_transpose(img, in_place=True)
    except Exception:
        # A photo with odd EXIF is still a photo: keep it as it was shot.
        log.info("EXIF orientation ignored", exc_info=True)
    img = _to_srgb(img)
    # JPEG has no alpha and WebP no grey; everything else becomes one of three plain modes.
    has_alpha = pil_format != "JPEG" and (img.mode in ("RGBA", "LA", "PA")
                                          or "transparency" in img.info)
    mode = "RGBA" if has_alpha else "L" if img.mode == "L" and pil_format != "WEBP" else "RGB"
    if img.mode != mode:
        img = img.convert(mode)
    # Every piece of metadata the encoders would carry over (exif, icc_profile, xmp, comment,
    # text chunks, dpi) lives in info; an empty info means the output holds pixels only.
    img.info = {}
    main = BytesIO()
    img.save(main, pil_format, **ENCODER_OPTIONS[pil_format])
    width, height = img.size
    img.thumbnail(THUMB_SIZE)
    if img.mode == "RGBA":
        flat = Image.new("RGB", img.size, "white")
        flat.paste(img, mask=img.getchannel("A"))
        img = flat
    thumb = BytesIO()
    img.save(thumb, "JPEG", quality=80, progressive=True)
    return main.getvalue(), thumb.getvalue(), width, height


def _to_srgb(img: Image.Image) -> Image.Image:
    # Phones embed wide-gamut profiles (Display P3); dropping one without converting would
    # dull the colours, so convert to sRGB, which browsers assume for untagged images.
    icc = img.info.get("icc_profile")
    if not icc or img.mode not in ("RGB", "RGBA"):
        return img
    try:
        source = ImageCms.ImageCmsProfile(BytesIO(icc))
        srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
        return ImageCms.profileToProfile(img, source, srgb, outputMode=img.mode) or img
    except (ImageCms.PyCMSError, OSError, ValueError):
        log.info("ICC profile ignored", exc_info=True)
        return img


def _write_new(upload_dir: Path, ext: str, data: bytes) -> str:
    """Write `data` under a new random name, atomically (temp file, then rename)."""
    upload_dir.mkdir(parents=True, exist_ok=True)
    name = secrets.token_hex(16) + ext
    fd, tmp = tempfile.mkstemp(dir=upload_dir, prefix=".upload-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), 0o640)  # mkstemp makes 0o600; the web server group may read
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, upload_dir / name)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return name
