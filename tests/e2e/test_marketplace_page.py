"""The marketplace pages in headless Chromium, served by the real ``skillyard serve``.

Skills are published through the HTTP API (the gateway's token is the local
registry's admin), then a user browses: searches, opens a skill, reads its
permissions, tools, scan verdict, signer and install command, follows the
publisher link.  A hostile SKILL.md (script tags, ``javascript:`` links,
event handlers, frames, hidden characters, huge text) must render as inert
text: no dialog, no script, no request leaves the page, no console error.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from registry.archive import pack
from registry.hashing import hash_folder
from registry.signing import PublishStatement, SigningKey
from registry.store.testing import write_skill
from tests.e2e.server_process import ServerProcess
from tests.e2e.web_browser import DESKTOP, ConsoleWatch, launch_options

pytestmark = [pytest.mark.browser, pytest.mark.slow]

HOSTILE = """# Totally normal skill

<script>window.pwned = 1; alert('script')</script>

<img src="x" onerror="window.pwned = 2">

<iframe src="https://example.com/"></iframe>

[Click for docs](javascript:window.pwned=3) and
[a data link](data:text/html,<script>alert(1)</script>)

[The real docs](https://example.com/docs?a=1&b=2)

Hidden\u202ereversed and zero\u200bwidth.

<a href="javascript:alert(1)">raw anchor</a>

```html
<script>alert('in code')</script>
```
"""
HUGE = "Filler line that goes on and on for a while to make this file large.\n" * 5000


async def publish_all(server: ServerProcess, sources: Path) -> SigningKey:
    """alice publishes pdf-tables (with a tool) and odd-one (hostile text) over HTTP."""
    key = SigningKey.generate()
    admin = {"Authorization": f"Bearer {server.token}"}
    async with httpx.AsyncClient(base_url=f"{server.http_url}/api/v1", headers=admin) as http:
        assert (
            await http.post("/publishers", json={"name": "alice", "display_name": "Alice A."})
        ).status_code == 201
        assert (
            await http.post(
                "/publishers/alice/keys", json={"public_key": key.public_key.to_base64()}
            )
        ).status_code == 201
        tables = write_skill(
            sources,
            "pdf-tables",
            description="Extract tables from PDF files. Use when a user shares a PDF.",
            tool=True,
            version="1.2.0",
            hosts=("api.example.com",),
        )
        hostile = write_skill(
            sources, "odd-one", description="A <b>bold</b> claim. Use never.", body=HOSTILE + HUGE
        )
        for folder, version in ((tables, "1.2.0"), (hostile, "0.1.0")):
            statement = PublishStatement(f"alice/{folder.name}", version, hash_folder(folder))
            answer = await http.put(
                f"/skills/alice/{folder.name}/versions/{version}",
                content=pack(folder),
                headers={
                    "Content-Type": "application/gzip",
                    "X-Skillyard-Key-Id": key.key_id,
                    "X-Skillyard-Signature": base64.b64encode(
                        key.sign(statement.encode())
                    ).decode(),
                },
            )
            assert answer.status_code == 201, answer.text
    return key


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(**launch_options())
        yield browser
        await browser.close()


@pytest.fixture
async def published(live_server: ServerProcess, tmp_path: Path) -> SigningKey:
    return await publish_all(live_server, tmp_path / "sources")


async def open_page(browser: Browser, url: str) -> tuple[Page, ConsoleWatch, list[str]]:
    context = await browser.new_context(viewport=DESKTOP)
    page = await context.new_page()
    console = ConsoleWatch()
    console.attach(page)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: dialogs.append(dialog.message))
    await page.goto(url)
    return page, console, dialogs


async def test_a_user_finds_a_skill_and_reads_what_it_may_do(
    live_server: ServerProcess, published: SigningKey, browser: Browser
) -> None:
    page, console, _ = await open_page(browser, f"{live_server.http_url}/marketplace/")
    await page.get_by_role("searchbox", name="Search skills").fill("pdf tables")
    await page.get_by_role("button", name="Search").click()
    await expect(page.get_by_role("status")).to_have_text("1 skill")
    await page.get_by_role("link", name="alice/pdf-tables").click()

    await expect(page.get_by_role("heading", level=1)).to_contain_text("alice/pdf-tables")
    await expect(page.locator(".install-command")).to_have_text(
        "skillyard skill install alice/pdf-tables@1.2.0"
    )
    await expect(page.locator("#scan + p .verdict")).to_have_text("Scan: pass")
    permissions = page.get_by_role("region", name="Permissions")
    await expect(permissions.get_by_role("row", name="Network hosts")).to_contain_text(
        "api.example.com"
    )
    await expect(page.get_by_role("region", name="Tools")).to_contain_text(
        "echo: Say the text back."
    )
    await expect(page.locator(".fingerprint")).to_have_text(published.public_key.fingerprint)
    await expect(page.locator(".log-index")).to_have_text("0")
    await expect(page.get_by_role("region", name="Versions")).to_contain_text("1.2.0")

    await page.get_by_role("link", name="alice", exact=True).click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Alice A.")
    await expect(page.locator(".fingerprint")).to_have_text(published.public_key.fingerprint)
    await expect(page.get_by_role("list", name="Skills").get_by_role("listitem")).to_have_count(2)
    assert console.unexpected() == []


async def test_a_hostile_skill_md_renders_as_inert_text(
    live_server: ServerProcess, published: SigningKey, browser: Browser
) -> None:
    requests: list[str] = []
    page, console, dialogs = await open_page(
        browser, f"{live_server.http_url}/marketplace/skills/alice/odd-one"
    )
    page.on("request", lambda request: requests.append(request.url))
    article = page.locator("article.skill-md")
    await expect(article).to_contain_text("<script>window.pwned = 1; alert('script')</script>")
    await expect(article).to_contain_text('<img src="x" onerror="window.pwned = 2">')
    await expect(article.locator("script, img, iframe")).to_have_count(0)
    await expect(page.locator("a[href^='javascript:'], a[href^='data:']")).to_have_count(0)
    await expect(article.get_by_role("link", name="The real docs")).to_have_attribute(
        "rel", "nofollow noopener noreferrer ugc"
    )
    await expect(article.locator(".hidden-char")).to_have_text(["⟨U+202E⟩", "⟨U+200B⟩"])
    await expect(page.locator("p.description")).to_have_text("A <b>bold</b> claim. Use never.")
    await expect(article.locator(".notice")).to_contain_text("not shown here")
    await page.get_by_text("Click for docs").click()  # plain text: nothing happens
    assert await page.evaluate("window.pwned === undefined")
    assert dialogs == []
    assert all(url.startswith(live_server.http_url) for url in requests)
    assert console.unexpected() == []


async def test_the_pages_carry_a_strict_policy(
    live_server: ServerProcess, published: SigningKey
) -> None:
    async with httpx.AsyncClient(base_url=live_server.http_url) as http:
        answer = await http.get("/marketplace/skills/alice/odd-one")
        missing = await http.get("/marketplace/skills/alice/nothing")
    policy = answer.headers.get_list("content-security-policy")
    assert policy == [
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ]
    assert missing.status_code == 404 and "Not found" in missing.text
