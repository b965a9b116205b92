"""Model markdown in each platform's dialect, with safe escaping."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from channels.base import Dialect
from channels.markdown import _telegram_well_formed, render

T = Dialect.TELEGRAM_HTML
S = Dialect.SLACK_MRKDWN
D = Dialect.DISCORD_MARKDOWN


@pytest.mark.parametrize(
    ("source", "telegram", "slack"),
    [
        ("**bold** and *it*", "<b>bold</b> and <i>it</i>", "*bold* and _it_"),
        ("__bold__ and _it_", "<b>bold</b> and <i>it</i>", "*bold* and _it_"),
        ("~~gone~~", "<s>gone</s>", "~gone~"),
        ("a < b & c > d", "a &lt; b &amp; c &gt; d", "a &lt; b &amp; c &gt; d"),
        ("2*3*4 and snake_case_name", "2*3*4 and snake_case_name", "2*3*4 and snake_case_name"),
        ("`x < *y*`", "<code>x &lt; *y*</code>", "`x &lt; *y*`"),
        ("# Title", "<b>Title</b>", "*Title*"),
        (
            "[docs](https://ex.com/?a=1&b=2)",
            '<a href="https://ex.com/?a=1&amp;b=2">docs</a>',
            "<https://ex.com/?a=1&b=2|docs>",
        ),
        ("[x](javascript:alert(1))", "x (javascript:alert(1))", "x (javascript:alert(1))"),
        (
            "<script>alert(1)</script>",
            "&lt;script&gt;alert(1)&lt;/script&gt;",
            "&lt;script&gt;alert(1)&lt;/script&gt;",
        ),
    ],
)
def test_inline_formatting(source: str, telegram: str, slack: str) -> None:
    assert render(source, T) == telegram
    assert render(source, S) == slack


def test_code_blocks_are_escaped_not_formatted() -> None:
    source = "```python\nif a < b: print('**x**')\n```"
    assert render(source, T) == (
        "<pre><code class=\"language-python\">if a &lt; b: print('**x**')</code></pre>"
    )
    assert render(source, S) == "```\nif a &lt; b: print('**x**')\n```"


def test_an_unterminated_fence_is_code_to_the_end() -> None:
    assert render("```\nstill *streaming*", T) == "<pre><code>still *streaming*</code></pre>"


def test_overlapping_markers_fall_back_to_plain_text() -> None:
    assert render("*a **b* c**", T) == "*a **b* c**"


def test_discord_defuses_mass_mentions_only() -> None:
    assert render("**hi** @everyone and @here", D) == "**hi** @\u200beveryone and @\u200bhere"


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from([*"ab *_~`[]()<>&#\n", "https://x.y", "```"]), max_size=120).map(
        "".join
    )
)
def test_telegram_output_is_always_well_formed(source: str) -> None:
    assert _telegram_well_formed(render(source, T))
