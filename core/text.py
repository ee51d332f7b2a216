"""Putting text from AWS or from people into other people's formats: Markdown pasted into
an incident channel, and Slack-compatible webhook messages. Names, reasons and error
messages are text there, never formatting, mentions or links."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# Characters that change how Markdown renders inside a list item: emphasis, code, links and
# images (no link or image can form once the brackets are escaped), tables, HTML.
_MARKDOWN = re.compile(r"([\\`*_\[\]<>|~])")


def markdown_text(value: object) -> str:
    """`value` escaped so that Markdown shows it as typed (one line: newlines become spaces)."""
    return _MARKDOWN.sub(r"\\\1", " ".join(str(value).split()))


def markdown_code(value: object) -> str:
    """`value` as inline code: backticks in it cannot close the span."""
    text = " ".join(str(value).split())
    fence = "``" if "`" in text else "`"
    return f"{fence} {text} {fence}" if fence == "``" else f"`{text}`"


def slack_text(value: object) -> str:
    """`value` for a Slack-compatible message: `&`, `<` and `>` escaped as Slack asks, so
    `<!channel>` mentions nobody and `<https://…|…>` is not a disguised link."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def is_web_url(value: object) -> bool:
    """An absolute http(s) URL with a host: the only kind of link built from data."""
    text = str(value or "").strip()
    parsed = urlsplit(text)
    return parsed.scheme in ("http", "https") and bool(parsed.netloc) and text.isprintable()
