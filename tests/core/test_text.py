"""Text from AWS or people, put into Markdown and Slack messages, stays text."""

from __future__ import annotations

from core.text import markdown_code, markdown_text, slack_text


def test_markdown_shows_names_as_typed():
    assert markdown_text("*[click](javascript:x)* `rm` <b>a|b</b> mean_radius") == (
        r"\*\[click\](javascript:x)\* \`rm\` \<b\>a\|b\</b\> mean\_radius"
    )
    assert markdown_text("two\nlines") == "two lines"
    assert markdown_code("a`b") == "`` a`b ``" and markdown_code("plain") == "`plain`"


def test_slack_mentions_and_links_are_defused():
    assert slack_text("<!here> <https://x|y> & z") == "&lt;!here&gt; &lt;https://x|y&gt; &amp; z"
