"""Putting text from AWS or from people into other people's formats: Markdown pasted into
an incident channel, and Slack-compatible webhook messages (names, reasons and error
messages are text there, never formatting, mentions or links); and the few words every page
writes the same way (durations, counts, AWS's long decimals)."""

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


def duration(seconds: int) -> str:
    """3900 -> "1 h 5 min"; 0 -> "0 s"."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{n} {unit}" for n, unit in ((hours, "h"), (minutes, "min"), (secs, "s")) if n]
    return " ".join(parts) or "0 s"


def count(n: int, singular: str, plural: str = "") -> str:
    """3, "instance" -> "3 instances"; 1 -> "1 instance"."""
    return f"{n} {singular if n == 1 else plural or singular + 's'}"


_LONG_DECIMAL = re.compile(r"(?<![\w.])\d+\.\d{5,}(?![\w.])")


def readable_numbers(text: str) -> str:
    """AWS's messages print floats in full ("1 datapoint [0.17857142857142858]"); four
    significant digits say the same to a person."""
    return _LONG_DECIMAL.sub(lambda m: f"{float(m.group()):.4g}", text)
