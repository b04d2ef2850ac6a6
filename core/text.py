"""Plain text people write, shown safely: paragraphs, line breaks and web links, nothing else."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

URL_RE = re.compile(r"\bhttps?://[^\s<>\"'\u00a0]{1,400}", re.IGNORECASE)
TRAILING = ".,;:!?)]}»”’"


def _link(match: re.Match[str]) -> str:
    url = match.group(0)
    tail = ""
    while url and url[-1] in TRAILING:
        tail = url[-1] + tail
        url = url[:-1]
    # The URL was already HTML-escaped with the rest of the text; attributes stay quoted.
    return f'<a href="{url}" rel="nofollow ugc noopener noreferrer">{url}</a>{tail}'


def render_plain(text: str | None) -> Markup:
    """Escape everything, then turn blank-line-separated blocks into paragraphs, single newlines
    into <br>, and http(s) addresses into links. Guarantees no markup from the author survives."""
    if not text:
        return Markup("")
    blocks = [b.strip() for b in re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip())]
    html = []
    for block in blocks:
        if not block:
            continue
        escaped = str(escape(block))
        linked = URL_RE.sub(_link, escaped)
        html.append("<p>" + linked.replace("\n", "<br>\n") + "</p>")
    return Markup("\n".join(html))  # noqa: S704 - built only from escaped text
