"""The marketplace's safe Markdown and its pages, in process (the browser tests are in e2e)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from registry.server import create_app
from registry.store import Registry
from registry.store.testing import make_publisher, signed_request, write_skill
from registry.web.markdown import MAX_RENDER_CHARS, render_markdown

# Every tag the renderer may write; anything else with a '<' would be the author's HTML.
OUR_TAGS = re.compile(
    r"</?(?:p|h[2-6]|ul|ol|li|pre|code|strong|em|blockquote|hr)>"
    r'|<a href="https?://[^"<>]*" rel="nofollow noopener noreferrer ugc">|</a>'
    r'|<span class="hidden-char">|</span>|<p class="notice">'
)

hostile_text = st.text(
    alphabet=st.sampled_from([*"<>&\"'`*[]()#-_:/ \n\tjavascript:alert", "\u202e", "\u200b"]),
    max_size=400,
)


@settings(max_examples=300, deadline=None)
@given(hostile_text)
def test_nothing_but_our_own_tags_reach_the_page(text: str) -> None:
    html = render_markdown(text)
    assert "<" not in OUR_TAGS.sub("", html)
    assert "javascript:" not in re.sub(r"<code>[^<]*</code>|>[^<]*<", "", html)


def test_the_subset_renders() -> None:
    html = render_markdown(
        "# Title\n\nSome **bold**, *em* and `code`.\n\n- one\n- two\n\n1. first\n\n"
        "> quoted\n\n---\n\n[docs](https://example.com/a?b=1&c=2)\n\n```\n<b>x</b>\n```\n"
    )
    assert "<h2>Title</h2>" in html
    assert "<strong>bold</strong>" in html and "<em>em</em>" in html
    assert "<ul><li>one</li><li>two</li></ul>" in html and "<ol><li>first</li></ol>" in html
    assert "<blockquote><p>quoted</p></blockquote>" in html and "<hr>" in html
    assert 'href="https://example.com/a?b=1&amp;c=2"' in html
    assert "<pre><code>&lt;b&gt;x&lt;/b&gt;</code></pre>" in html


@pytest.mark.parametrize(
    "link",
    ["javascript:alert(1)", "data:text/html,x", "vbscript:x", "//evil.example/x", "notes.md"],
)
def test_links_that_are_not_web_urls_stay_text(link: str) -> None:
    html = render_markdown(f"[click]({link})")
    assert "<a " not in html and "click" in html


def test_hidden_characters_are_shown() -> None:
    html = render_markdown("abc\u202edef\U000e0041")
    assert "⟨U+202E⟩" in html and "⟨U+E0041⟩" in html


def test_huge_text_is_cut_with_a_notice() -> None:
    html = render_markdown("x" * (MAX_RENDER_CHARS + 10))
    assert "not shown here" in html and len(html) < MAX_RENDER_CHARS + 1000


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    registry = Registry.open(tmp_path / "registry")
    _, key, principal = make_publisher(registry, "alice")
    for name, version in (("pdf-tables", "1.0.0"), ("pdf-tables", "1.1.0"), ("csv-clean", "1.0.0")):
        folder = write_skill(tmp_path / f"{name}-{version}", name, body=f"# {name} {version}\n")
        registry.publish(signed_request(folder, owner="alice", version=version, key=key), principal)
    registry.yank("alice", "pdf-tables", "1.1.0", "broken <b>release</b>", principal)
    with TestClient(create_app(registry)) as test_client:
        yield test_client
    registry.close()


def test_pages_show_versions_yanks_and_a_strict_policy(client: TestClient) -> None:
    page = client.get("/marketplace/skills/alice/pdf-tables")
    assert page.status_code == 200
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "skillyard skill install alice/pdf-tables@1.0.0" in page.text  # 1.1.0 is yanked
    assert "yanked: broken &lt;b&gt;release&lt;/b&gt;" in page.text
    pinned = client.get("/marketplace/skills/alice/pdf-tables", params={"version": "1.1.0"})
    assert "This version was yanked" in pinned.text


def test_search_pages_and_missing_things(client: TestClient) -> None:
    listing = client.get("/marketplace/", params={"q": "csv", "sort": "nonsense", "page": "x"})
    assert "alice/csv-clean" in listing.text and "alice/pdf-tables" not in listing.text
    assert client.get("/marketplace/skills/alice/none").status_code == 404
    assert (
        client.get("/marketplace/skills/alice/pdf-tables", params={"version": "9.9.9"}).status_code
        == 404
    )
    assert client.get("/marketplace/publishers/nobody").status_code == 404


def test_pages_are_rate_limited_per_address(tmp_path: Path) -> None:
    from registry.server import ApiSettings, RateSettings

    registry = Registry.open(tmp_path / "registry")
    settings = ApiSettings(rate=RateSettings(rate_per_s=1.0, burst=2.0))
    with TestClient(create_app(registry, settings=settings, clock=lambda: 0.0)) as client:
        codes = [client.get("/marketplace/").status_code for _ in range(3)]
        limited = client.get("/marketplace/")
    registry.close()
    assert codes == [200, 200, 429]
    assert limited.headers["Retry-After"] == "1" and "Too many requests" in limited.text
