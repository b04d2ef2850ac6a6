"""Uploads are stored only as what their bytes prove, photos without metadata, under our names."""

from __future__ import annotations

import os
import struct
import warnings
import zlib
from io import BytesIO
from pathlib import Path

import pytest
from PIL import ExifTags, Image, ImageCms
from PIL.PngImagePlugin import PngInfo
from starlette.datastructures import Headers, UploadFile

from core import i18n
from ideas.uploads import (
    CHUNK,
    STORED_NAME,
    StoredFile,
    UploadRejected,
    delete_stored,
    sanitize_filename,
    serving_headers,
    sniff,
    store_upload,
    stored_path,
)

pytestmark = pytest.mark.anyio
MB = 2**20


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class CountingFile(BytesIO):
    """A file that remembers how many bytes were read from it."""

    bytes_read = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk


def upload_of(data: bytes, filename: str, content_type: str = "application/octet-stream",
              size: int | None = None) -> UploadFile:
    return UploadFile(CountingFile(data), size=size, filename=filename,
                      headers=Headers({"content-type": content_type}))


async def store(tmp_path: Path, data: bytes, filename: str, kind: str = "image",
                max_bytes: int = 10 * MB, content_type: str = "image/jpeg") -> StoredFile:
    return await store_upload(tmp_path / "uploads", upload_of(data, filename, content_type),
                              kind=kind, max_bytes=max_bytes)


async def refusal(tmp_path: Path, data: bytes, filename: str, kind: str = "image",
                  **kwargs: object) -> str:
    with pytest.raises(UploadRejected) as caught:
        await store(tmp_path, data, filename, kind, **kwargs)  # type: ignore[arg-type]
    assert caught.value.message  # every refusal has something to tell the uploader
    return caught.value.reason


def two_colour(size: tuple[int, int] = (200, 100), mode: str = "RGB") -> Image.Image:
    """Left half red, right half blue: shows which way the picture was turned."""
    img = Image.new(mode, size, "blue")
    img.paste("red", (0, 0, size[0] // 2, size[1]))
    return img


def spy_exif(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "SpyCam"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (42.0, 52.0, 30.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (74.0, 36.0, 12.0)
    return exif


def encoded(img: Image.Image, fmt: str, **params: object) -> bytes:
    buf = BytesIO()
    img.save(buf, fmt, **params)
    return buf.getvalue()


def jpeg_with_gps(orientation: int = 1, size: tuple[int, int] = (200, 100)) -> bytes:
    data = encoded(two_colour(size), "JPEG", exif=spy_exif(orientation),
                   comment=b"secret comment", xmp=b"<x:xmpmeta>secret xmp</x:xmpmeta>")
    with Image.open(BytesIO(data)) as img:  # the fixture really carries what we mean to strip
        assert img.getexif().get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitude]
    return data


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims a size: a decompression bomb needs no more than its header."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b""))
            + chunk(b"IEND", b""))


def png_chunk_types(data: bytes) -> list[bytes]:
    types, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        types.append(data[pos + 4:pos + 8])
        pos += 12 + length
    return types


def riff_chunk_types(data: bytes) -> list[bytes]:
    types, pos = [], 12
    while pos < len(data):
        (length,) = struct.unpack("<I", data[pos + 4:pos + 8])
        types.append(data[pos:pos + 4])
        pos += 8 + length + (length & 1)
    return types


def pdf_bytes() -> bytes:
    return encoded(Image.new("RGB", (60, 40), "white"), "PDF")


def read_stored(tmp_path: Path, name: str) -> bytes:
    return stored_path(tmp_path / "uploads", name).read_bytes()


async def test_a_photo_loses_its_exif_gps_comment_and_xmp(tmp_path: Path) -> None:
    stored = await store(tmp_path, jpeg_with_gps(), "IMG_0001.jpg")
    data = read_stored(tmp_path, stored.stored_name)
    with Image.open(BytesIO(data)) as img:
        assert img.format == "JPEG"
        assert dict(img.getexif()) == {}
        assert not img.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        assert not {"exif", "comment", "xmp", "icc_profile"} & img.info.keys()
        assert img.info.get("progressive")
    for secret in (b"Exif", b"SpyCam", b"secret"):
        assert secret not in data
    assert (stored.kind, stored.content_type, stored.size) == ("image", "image/jpeg", len(data))


async def test_a_photo_taken_sideways_is_stored_upright(tmp_path: Path) -> None:
    # Orientation 6: the camera was turned, the picture must be rotated 90 degrees clockwise.
    stored = await store(tmp_path, jpeg_with_gps(orientation=6), "sideways.jpg")
    with Image.open(BytesIO(read_stored(tmp_path, stored.stored_name))) as img:
        assert img.size == (100, 200) == (stored.width, stored.height)
        red, green, blue = img.getpixel((50, 20))  # type: ignore[misc]
        assert red > 200 and blue < 60  # the left (red) half is now on top
        red, green, blue = img.getpixel((50, 180))  # type: ignore[misc]
        assert blue > 200 and red < 60


async def test_a_photo_gets_a_small_jpeg_thumbnail_under_its_own_name(tmp_path: Path) -> None:
    stored = await store(tmp_path, jpeg_with_gps(size=(1600, 1200)), "big.jpg")
    assert stored.thumb_name and stored.thumb_name != stored.stored_name
    with Image.open(stored_path(tmp_path / "uploads", stored.thumb_name)) as thumb:
        assert thumb.format == "JPEG"
        assert thumb.width <= 480 and thumb.size == (480, 360)
        assert dict(thumb.getexif()) == {}
    assert (stored.width, stored.height) == (1600, 1200)


async def test_a_png_loses_its_text_chunks_and_profile_and_keeps_transparency(
        tmp_path: Path) -> None:
    info = PngInfo()
    info.add_text("Comment", "secret text")
    info.add_itxt("Description", "секретный текст", zip=True)
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    source = encoded(two_colour(mode="RGBA"), "PNG", pnginfo=info, icc_profile=icc,
                     exif=spy_exif())
    stored = await store(tmp_path, source, "map.png", content_type="image/png")
    data = read_stored(tmp_path, stored.stored_name)
    assert set(png_chunk_types(data)) <= {b"IHDR", b"IDAT", b"IEND"}
    assert b"secret" not in data
    with Image.open(BytesIO(data)) as img:
        assert (img.format, img.mode) == ("PNG", "RGBA")
        assert dict(img.getexif()) == {}
    assert stored.content_type == "image/png"


async def test_a_webp_is_reencoded_without_exif_or_xmp(tmp_path: Path) -> None:
    source = encoded(two_colour(mode="RGBA"), "WEBP", exif=spy_exif(),
                     xmp=b"<x:xmpmeta>secret</x:xmpmeta>")
    assert {b"EXIF", b"XMP "} <= set(riff_chunk_types(source))
    stored = await store(tmp_path, source, "photo.webp", content_type="image/webp")
    data = read_stored(tmp_path, stored.stored_name)
    assert not {b"EXIF", b"XMP ", b"ICCP"} & set(riff_chunk_types(data))
    with Image.open(BytesIO(data)) as img:
        assert img.format == "WEBP" and dict(img.getexif()) == {}
    assert stored.stored_name.endswith(".webp") and stored.thumb_name


async def test_a_png_renamed_pdf_is_not_a_document(tmp_path: Path) -> None:
    png = encoded(two_colour(), "PNG")
    assert await refusal(tmp_path, png, "budget.pdf", "document",
                         content_type="application/pdf") == "unsupported_type"


async def test_an_html_page_renamed_jpg_is_not_a_photo(tmp_path: Path) -> None:
    page = b"<!doctype html><script>alert(document.cookie)</script>"
    assert await refusal(tmp_path, page, "cat.jpg") == "unsupported_type"


async def test_html_behind_a_jpeg_signature_is_refused_as_damaged(tmp_path: Path) -> None:
    polyglot = b"\xff\xd8\xff\xe0<html><script>alert(1)</script></html>"
    assert await refusal(tmp_path, polyglot, "cat.jpg") == "corrupt"


async def test_a_truncated_jpeg_is_refused_as_damaged(tmp_path: Path) -> None:
    whole = encoded(Image.effect_noise((400, 300), 64).convert("RGB"), "JPEG")
    assert await refusal(tmp_path, whole[: len(whole) // 2], "cut.jpg") == "corrupt"


async def test_a_pdf_is_not_a_photo_and_a_photo_is_not_a_pdf(tmp_path: Path) -> None:
    assert await refusal(tmp_path, pdf_bytes(), "scan.jpg") == "unsupported_type"
    assert await refusal(tmp_path, jpeg_with_gps(), "scan.pdf", "document") == "unsupported_type"
    assert await refusal(tmp_path, b"", "empty.pdf", "document") == "unsupported_type"


async def test_an_oversize_upload_is_refused_having_read_little_more_than_the_limit(
        tmp_path: Path) -> None:
    upload = upload_of(b"\xff\xd8\xff" + os.urandom(3 * MB), "huge.jpg")
    with pytest.raises(UploadRejected) as caught:
        await store_upload(tmp_path, upload, kind="image", max_bytes=MB)
    assert caught.value.reason == "too_large"
    assert "1" in caught.value.message
    assert isinstance(upload.file, CountingFile)
    assert MB < upload.file.bytes_read <= MB + CHUNK


async def test_an_upload_whose_size_is_known_is_refused_without_reading(tmp_path: Path) -> None:
    data = jpeg_with_gps()
    upload = upload_of(data, "photo.jpg", size=len(data))
    with pytest.raises(UploadRejected, match="too_large"):
        await store_upload(tmp_path, upload, kind="image", max_bytes=len(data) - 1)
    assert isinstance(upload.file, CountingFile) and upload.file.bytes_read == 0


async def test_an_upload_exactly_at_the_limit_is_accepted(tmp_path: Path) -> None:
    data = pdf_bytes()
    stored = await store(tmp_path, data, "a.pdf", "document", max_bytes=len(data))
    assert stored.size == len(data)


async def test_a_real_pdf_is_stored_byte_for_byte_as_a_document(tmp_path: Path) -> None:
    data = pdf_bytes()
    stored = await store(tmp_path, data, "Смета проекта.pdf", "document",
                         content_type="image/png")
    assert read_stored(tmp_path, stored.stored_name) == data
    assert stored == StoredFile("document", stored.stored_name, None, "Смета проекта.pdf",
                                "application/pdf", len(data))
    assert STORED_NAME.fullmatch(stored.stored_name) and stored.stored_name.endswith(".pdf")


async def test_a_pdf_cut_short_is_refused_as_damaged(tmp_path: Path) -> None:
    data = pdf_bytes()
    assert await refusal(tmp_path, data[:-100], "cut.pdf", "document") == "corrupt"


@pytest.mark.parametrize("width, height", [(8000, 6000), (10000, 10000), (20000, 20000)])
async def test_a_picture_with_too_many_pixels_is_refused(tmp_path: Path, width: int,
                                                         height: int) -> None:
    # 48 MP passes Pillow's own limit; 100 MP makes it warn; 400 MP makes it refuse.
    assert await refusal(tmp_path, png_header(width, height), "bomb.png") == "too_many_pixels"


async def test_too_many_pixels_is_refused_where_pillow_only_warns(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        assert await refusal(tmp_path, png_header(10000, 10000), "b.png") == "too_many_pixels"


async def test_the_content_not_the_name_decides_the_type_and_extension(tmp_path: Path) -> None:
    stored = await store(tmp_path, jpeg_with_gps(), "photo.png", content_type="image/png")
    assert stored.content_type == "image/jpeg" and stored.stored_name.endswith(".jpg")
    assert stored.original_name == "photo.jpg"
    document = await store(tmp_path, pdf_bytes(), "invoice.html", "document",
                           content_type="text/html")
    assert document.original_name == "invoice.pdf"


async def test_files_are_written_atomically_with_restricted_permissions(tmp_path: Path) -> None:
    stored = await store(tmp_path, jpeg_with_gps(), "a.jpg")
    upload_dir = tmp_path / "uploads"  # did not exist before the upload
    assert sorted(p.name for p in upload_dir.iterdir()) == sorted(
        [stored.stored_name, str(stored.thumb_name)])  # no temp files left behind
    for path in upload_dir.iterdir():
        assert path.stat().st_mode & 0o777 == 0o640


async def test_a_refused_photo_leaves_nothing_on_disk(tmp_path: Path) -> None:
    await refusal(tmp_path, b"\xff\xd8\xff garbage", "x.jpg")
    assert not (tmp_path / "uploads").exists() or not any((tmp_path / "uploads").iterdir())


@pytest.mark.parametrize("mode, fmt", [("L", "JPEG"), ("CMYK", "JPEG"), ("P", "PNG"),
                                       ("LA", "PNG"), ("1", "PNG"), ("I;16", "PNG"),
                                       ("L", "WEBP"), ("RGBA", "WEBP")])
async def test_photos_in_any_colour_mode_are_stored(tmp_path: Path, mode: str, fmt: str) -> None:
    params = {"transparency": 0} if mode == "P" else {}
    stored = await store(tmp_path, encoded(Image.new(mode, (64, 48)), fmt, **params), "x")
    with Image.open(BytesIO(read_stored(tmp_path, stored.stored_name))) as img:
        assert img.format == fmt and img.size == (64, 48)
        assert img.mode in ("L", "RGB", "RGBA")


def test_every_refusal_explains_itself_in_the_readers_language() -> None:
    i18n.set_locale("en", "Asia/Bishkek")
    try:
        assert UploadRejected("too_large", max_bytes=10 * MB).message == (
            "The file is larger than 10 MB.")
        assert UploadRejected("too_large", max_bytes=MB // 2).message == (
            "The file is larger than 0.5 MB.")
        assert UploadRejected("unsupported_type").message == (
            "Only JPEG, PNG and WebP photos are accepted.")
        assert UploadRejected("unsupported_type", kind="document").message == (
            "Only PDF documents are accepted.")
        assert UploadRejected("corrupt").message == (
            "The file is damaged or not what its name says.")
        assert "25" in UploadRejected("too_many_pixels").message
    finally:
        i18n.set_locale("ru", "Asia/Bishkek")


def test_sniff_knows_four_types_by_their_first_bytes() -> None:
    assert sniff(b"\xff\xd8\xff\xe0") == "image/jpeg"
    assert sniff(b"\x89PNG\r\n\x1a\n") == "image/png"
    assert sniff(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert sniff(b"%PDF-1.7") == "application/pdf"
    for other in (b"", b"GIF89a", b"RIFF\x00\x00\x00\x00WAVE", b"<svg>", b"PK\x03\x04", b" %PDF-"):
        assert sniff(other) is None


@pytest.mark.parametrize("raw, clean", [
    ("../../etc/passwd", "passwd"),
    ("C:\\evil\\x.jpg", "x.jpg"),
    ("photo\u202egpj.exe", "photogpj.exe"),
    ("<script>alert(1)</script>.jpg", "script_.jpg"),
    ("<b>plan</b>", "b_"),
    ("   .hidden  file\t\n.pdf  ", "hidden file .pdf"),
    ("Фото двора №5.jpg", "Фото двора №5.jpg"),
    ("Сүрөт\u200b\x00\x1b.png", "Сүрөт.png"),
    ("..", "file"),
    ("", "file"),
    ("a:b|c?d*e\"f.pdf", "a_b_c_d_e_f.pdf"),
])
def test_file_names_are_made_safe_to_show(raw: str, clean: str) -> None:
    assert sanitize_filename(raw) == clean


def test_long_file_names_are_cut_keeping_the_extension() -> None:
    name = sanitize_filename("ж" * 300 + ".jpeg")
    assert len(name) == 120 and name.endswith("ж.jpeg")
    assert len(sanitize_filename("x" * 300)) == 120


@pytest.mark.parametrize("name", ["../x", "../" + "a" * 32 + ".jpg", "/etc/passwd",
                                  "a" * 32 + ".exe", "A" * 32 + ".jpg", "a" * 32 + ".jpg\n",
                                  "a" * 31 + ".jpg", "a" * 32 + ".jpg/..", ""])
def test_stored_path_refuses_names_we_did_not_make(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError):
        stored_path(tmp_path, name)


def test_stored_path_and_delete_stored(tmp_path: Path) -> None:
    name = "0123456789abcdef" * 2 + ".jpg"
    path = stored_path(tmp_path, name)
    assert path == tmp_path / name
    path.write_bytes(b"x")
    delete_stored(tmp_path, name, None, "f" * 32 + ".pdf")  # a missing file is fine
    assert not path.exists()
    with pytest.raises(ValueError):
        delete_stored(tmp_path, "../secret.db")


def test_documents_are_served_as_downloads_with_a_safe_name() -> None:
    document = StoredFile("document", "a" * 32 + ".pdf", None, "Смета проекта.pdf",
                          "application/pdf", 10)
    headers = serving_headers(document)
    assert headers == {
        "Content-Type": "application/pdf",
        "X-Content-Type-Options": "nosniff",
        "Content-Disposition": 'attachment; filename="file.pdf"; filename*=UTF-8\'\''
                               "%D0%A1%D0%BC%D0%B5%D1%82%D0%B0%20%D0%BF%D1%80%D0%BE%D0%B5%D0"
                               "%BA%D1%82%D0%B0.pdf",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, max-age=3600",
    }


def test_photos_are_served_inline_and_thumbnails_as_jpeg() -> None:
    photo = StoredFile("image", "a" * 32 + ".png", "b" * 32 + ".jpg", "Plan café.png",
                       "image/png", 10, 4, 4)
    headers = serving_headers(photo)
    assert headers["Content-Type"] == "image/png"
    assert headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert headers["Content-Disposition"] == (
        "inline; filename=\"Plan cafe.png\"; filename*=UTF-8''Plan%20caf%C3%A9.png")
    assert serving_headers(photo, thumbnail=True)["Content-Type"] == "image/jpeg"


def test_a_hostile_stored_name_or_type_cannot_break_the_headers() -> None:
    # As if a row had been written by something other than store_upload.
    row = StoredFile("image", "a" * 32 + ".jpg", None, 'x"; filename=evil.html\r\nSet-Cookie: a=b',
                     "text/html", 1)
    headers = serving_headers(row)
    assert headers["Content-Type"] == "application/octet-stream"
    disposition = headers["Content-Disposition"]
    assert disposition.startswith("attachment; ")
    assert disposition.count('"') == 2 and "\r" not in disposition and "\n" not in disposition
    disposition.encode("ascii")


async def test_a_6300_square_png_is_refused_from_its_header_without_decoding(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # 39.7 MP passed the old 40 MP cap and took seconds to decode; the header alone decides now.
    loads: list[object] = []
    real_load = Image.Image.load
    monkeypatch.setattr(Image.Image, "load", lambda self: loads.append(self) or real_load(self))
    assert await refusal(tmp_path, png_header(6300, 6300), "big.png") == "too_many_pixels"
    assert loads == []


def real_png_bomb(width: int = 6300, height: int = 6300) -> bytes:
    """A complete, valid RGB PNG of `width` x `height` black pixels: about 116 KB on disk,
    119 MB once decoded."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body)))

    packer = zlib.compressobj(9)
    row = b"\x00" * (1 + 3 * width)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2,
                                                               0, 0, 0))
            + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


class SpySlots:
    """Stands in for the decode semaphore and remembers whether it was taken."""

    def __init__(self) -> None:
        self.taken = 0

    def __enter__(self) -> None:
        self.taken += 1

    def __exit__(self, *exc: object) -> None:
        return None


async def test_a_real_116_kb_png_bomb_is_refused_from_its_header_before_any_decode(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ideas.uploads as uploads_module

    bomb = real_png_bomb()
    assert 100_000 < len(bomb) < 130_000  # the 116 KB file
    with Image.open(BytesIO(bomb)) as img:  # it really is a 6300x6300 picture
        assert img.size == (6300, 6300)

    def no_decode(*args: object) -> None:
        raise AssertionError("the photo was decoded")

    slots = SpySlots()
    monkeypatch.setattr(uploads_module, "_reencode", no_decode)
    monkeypatch.setattr(Image.Image, "load", no_decode)
    monkeypatch.setattr(uploads_module, "_DECODE_SLOTS", slots)
    assert await refusal(tmp_path, bomb, "bomb.png") == "too_many_pixels"
    assert slots.taken == 0  # refused before it could queue for a decode slot
    assert not (tmp_path / "uploads").exists() or not any((tmp_path / "uploads").iterdir())


async def test_at_most_two_photos_are_decoded_at_once(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import threading
    import time

    import anyio

    import ideas.uploads as uploads_module

    lock, running, peak = threading.Lock(), [0], [0]
    real_clean = uploads_module._clean

    def slow_clean(img: Image.Image, pil_format: str) -> tuple[bytes, bytes, int, int]:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.2)
        try:
            return real_clean(img, pil_format)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(uploads_module, "_clean", slow_clean)
    photo = encoded(two_colour(), "JPEG")
    async with anyio.create_task_group() as group:
        for n in range(6):
            group.start_soon(store, tmp_path, photo, f"{n}.jpg")
    assert peak[0] == 2
