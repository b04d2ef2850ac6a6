"""Illustrations for the demo city's ideas, drawn with Pillow at seed time (no outside files):
a sky, the ground and a simple motif per category, stored as JPEG, PNG or WebP uploads."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image, ImageDraw
from sqlmodel import Session

if TYPE_CHECKING:
    from ideas.models import Idea

SIZE = (640, 400)
#: category slug -> (sky, ground, motif colour)
PALETTE = {
    "parks": ((186, 222, 245), (120, 180, 90), (40, 120, 60)),
    "streets": ((200, 215, 230), (150, 150, 155), (250, 250, 250)),
    "sport": ((190, 225, 250), (200, 110, 80), (255, 255, 255)),
    "water": ((175, 215, 240), (140, 190, 120), (50, 130, 210)),
    "children": ((250, 225, 190), (150, 200, 110), (230, 80, 70)),
    "access": ((210, 225, 240), (170, 170, 170), (30, 90, 170)),
    "light": ((40, 50, 90), (70, 75, 90), (255, 220, 110)),
}
FORMATS = (("image/jpeg", "JPEG", "jpg"), ("image/png", "PNG", "png"),
           ("image/webp", "WEBP", "webp"))


def draw(slug: str, variant: int = 0) -> Image.Image:
    """One illustration: `variant` shifts the motif so ideas of a category differ."""
    sky, ground, motif = PALETTE.get(slug, PALETTE["parks"])
    width, height = SIZE
    img = Image.new("RGB", SIZE, sky)
    pen = ImageDraw.Draw(img)
    horizon = int(height * 0.62)
    for y in range(horizon):  # a soft vertical gradient for the sky
        shade = tuple(min(255, c + y // 8) for c in sky)
        pen.line([(0, y), (width, y)], fill=shade)
    pen.rectangle([0, horizon, width, height], fill=ground)
    pen.polygon([(0, horizon), (160, horizon - 90), (330, horizon)], fill=(150, 165, 190))
    pen.polygon([(250, horizon), (460, horizon - 130), (640, horizon)], fill=(135, 150, 180))
    x = 120 + (variant * 97) % 300
    if slug == "parks":
        for dx in (0, 140, 260):
            pen.rectangle([x + dx - 8, horizon - 60, x + dx + 8, horizon + 20], fill=(110, 70, 40))
            pen.ellipse([x + dx - 55, horizon - 160, x + dx + 55, horizon - 40], fill=motif)
    elif slug == "streets":
        pen.polygon([(260, height), (380, height), (330, horizon), (310, horizon)],
                    fill=(90, 90, 95))
        for y in range(horizon + 10, height, 30):
            pen.rectangle([316, y, 324, y + 14], fill=motif)
    elif slug == "sport":
        pen.ellipse([x, horizon - 40, x + 110, horizon + 70], fill=motif, outline=(60, 60, 60),
                    width=4)
        pen.line([(x + 55, horizon - 40), (x + 55, horizon + 70)], fill=(60, 60, 60), width=4)
    elif slug == "water":
        pen.ellipse([x - 40, horizon - 80, x + 60, horizon + 20], fill=motif)
        pen.polygon([(x - 36, horizon - 50), (x + 10, horizon - 170), (x + 56, horizon - 50)],
                    fill=motif)
    elif slug == "children":
        pen.line([(x, horizon + 40), (x + 60, horizon - 120), (x + 120, horizon + 40)],
                 fill=motif, width=10)
        pen.rectangle([x + 40, horizon - 10, x + 80, horizon], fill=(90, 60, 40))
        pen.polygon([(x + 160, horizon + 40), (x + 260, horizon - 80), (x + 280, horizon - 60),
                     (x + 190, horizon + 40)], fill=(250, 190, 60))
    elif slug == "access":
        pen.polygon([(x, horizon + 60), (x + 260, horizon - 20), (x + 260, horizon + 60)],
                    fill=(200, 200, 200))
        pen.ellipse([x + 60, horizon - 120, x + 130, horizon - 50], fill=motif)
        pen.ellipse([x + 40, horizon - 40, x + 150, horizon + 70], outline=motif, width=10)
    else:  # light
        for dx in (0, 180, 360):
            pen.rectangle([x + dx - 5, horizon - 150, x + dx + 5, horizon + 30],
                          fill=(40, 40, 40))
            pen.ellipse([x + dx - 30, horizon - 185, x + dx + 30, horizon - 130], fill=motif)
    return img


def encode(img: Image.Image, pil_format: str) -> bytes:
    out = BytesIO()
    img.save(out, pil_format)
    return out.getvalue()


def attach_photos(db: Session, upload_dir: Path, photos: Sequence[tuple[Idea, str]],
                  now: datetime) -> None:
    """Give each (idea, category slug) one illustration, in turn JPEG, PNG and WebP."""
    from ideas.models import Attachment
    from ideas.uploads import store_image_bytes

    for index, (idea, slug) in enumerate(photos):
        content_type, pil_format, ext = FORMATS[index % len(FORMATS)]
        stored = store_image_bytes(upload_dir, encode(draw(slug, index), pil_format),
                                   content_type, f"{slug}-{index + 1}.{ext}")
        db.add(Attachment(idea_id=idea.id or 0, uploaded_by_id=idea.author_id, kind="image",
                          stored_name=stored.stored_name, thumb_name=stored.thumb_name,
                          original_name=stored.original_name, content_type=content_type,
                          size=stored.size, width=stored.width, height=stored.height,
                          position=0, created_at=now))
