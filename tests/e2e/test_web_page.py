"""The chat page in headless Chromium against a real gateway (scripted echo model).

Each test opens the page the way a user does, from the link the server
prints (``/#token=...``), types into the message box and reads what appears.
The ``live_server`` fixture (``conftest.py``) runs ``skillyard`` in a
subprocess on a free port.  No sleeps: Playwright's ``expect`` waits.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, ViewportSize, WebSocketRoute, async_playwright, expect

from brain.tools import workspace_dir
from brain.tools.send_file import outbox_dir
from tests.e2e.server_process import ServerProcess
from tests.e2e.web_browser import DESKTOP, PHONE, ChatPage, ConsoleWatch, launch_options

pytestmark = [pytest.mark.browser, pytest.mark.slow]

OpenChat = Callable[..., Awaitable[ChatPage]]
# Chromium's own log line for each refused connection while the server is down.
REFUSED_WEBSOCKET = r"WebSocket connection to 'ws://[^']+/ws' failed"
CALCULATOR_TOOL = "calculator__evaluate"  # the exposed "<skill>__<tool>" name
LONG_CODE = "```\nx = 1  # " + "a long line of code " * 10 + "\n```"


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(**launch_options())
        yield browser
        await browser.close()


@pytest.fixture
async def open_chat(browser: Browser) -> AsyncIterator[OpenChat]:
    """Opens the page in a fresh browser context; fails the test on console errors."""
    pages: list[ChatPage] = []

    async def open_(
        url: str,
        *,
        viewport: ViewportSize = DESKTOP,
        color_scheme: Any = "light",
        route_ws: Callable[[WebSocketRoute], Any] | None = None,
    ) -> ChatPage:
        context = await browser.new_context(viewport=viewport, color_scheme=color_scheme)
        page = await context.new_page()
        console = ConsoleWatch()
        console.attach(page)
        if route_ws is not None:
            await page.route_web_socket("**/ws", route_ws)
        chat = ChatPage(page, console)
        pages.append(chat)
        await page.goto(url)
        return chat

    yield open_
    problems = [problem for chat in pages for problem in chat.console.unexpected()]
    for chat in pages:
        await chat.page.context.close()
    assert not problems, "the page logged errors:\n" + "\n".join(problems)


def page_url(server: ServerProcess, token: str | None = None) -> str:
    """The link ``skillyard serve`` prints: the token rides in the fragment."""
    return f"{server.http_url}/#token={token or server.token}"


async def test_token_leaves_the_url_and_the_page_chats(
    live_server: ServerProcess, open_chat: OpenChat
) -> None:
    chat = await open_chat(page_url(live_server))
    await chat.expect_connected()
    await expect(chat.page).to_have_url(f"{live_server.http_url}/")
    stored = await chat.page.evaluate("sessionStorage.getItem('skillyard.token')")
    assert stored == live_server.token
    await expect(chat.input).to_be_focused()

    await chat.send("/calculator 2*(3+4)")
    await expect(chat.reply(0).locator(".body")).to_contain_text("14")
    await expect(chat.reply(0).locator(".tool")).to_contain_text("calculator")
    await expect(chat.reply(0).locator(".tool")).to_contain_text("done")

    await chat.send("hello")
    await expect(chat.reply(1).locator(".body")).to_contain_text("hello")
    await chat.expect_conversation(["/calculator 2*(3+4)", "hello"], replies=2)
    await expect(chat.input).to_have_value("")
    await expect(chat.stop_button).to_be_hidden()
    await chat.page.screenshot(path="/tmp/skillyard-desktop.png")


async def test_shift_enter_makes_a_newline_and_enter_sends(
    live_server: ServerProcess, open_chat: OpenChat
) -> None:
    chat = await open_chat(page_url(live_server))
    await chat.expect_connected()
    await chat.input.press_sequentially("one")
    await chat.input.press("Shift+Enter")
    await chat.input.press_sequentially("two")
    await expect(chat.input).to_have_value("one\ntwo")
    await chat.input.press("Enter")
    await chat.expect_conversation(["one\ntwo"], replies=1)


async def test_text_is_shown_as_text_never_as_html(
    live_server: ServerProcess, open_chat: OpenChat
) -> None:
    chat = await open_chat(page_url(live_server))
    await chat.expect_connected()
    hostile = '<img src=x onerror="window.pwned=1"><b>bold?</b>'
    await chat.send(hostile)
    code = "<script>window.pwned=2</script>\n"
    await chat.send(f"see ```\n{code}```")
    await chat.expect_conversation([hostile, f"see {code}"], replies=2)  # the fence is markup
    await expect(chat.reply(0).locator(".body")).to_contain_text(hostile)
    await expect(chat.reply(1).locator("pre code")).to_have_text(code)
    await expect(chat.conversation.locator("img, b, script")).to_have_count(0)
    assert await chat.page.evaluate("window.pwned") is None


async def test_without_a_token_the_page_asks_for_one(
    live_server: ServerProcess, open_chat: OpenChat
) -> None:
    chat = await open_chat(f"{live_server.http_url}/")
    await expect(chat.token_dialog).to_be_visible()
    await expect(chat.token_input).to_be_focused()
    await expect(chat.token_error).to_be_hidden()
    await chat.token_input.fill(live_server.token)
    await chat.token_input.press("Enter")
    await chat.expect_connected()
    await expect(chat.token_dialog).to_be_hidden()


async def test_a_wrong_token_is_refused_clearly(
    live_server: ServerProcess, open_chat: OpenChat
) -> None:
    chat = await open_chat(page_url(live_server, token="not-the-right-token"))
    await expect(chat.token_error).to_contain_text("unauthorized")
    await expect(chat.token_dialog).to_be_visible()
    await expect(chat.status).to_have_text("Not signed in")
    assert await chat.page.evaluate("sessionStorage.getItem('skillyard.token')") is None
    await expect(chat.page).to_have_url(f"{live_server.http_url}/")

    await chat.token_input.fill(live_server.token)
    await chat.token_dialog.get_by_role("button", name="Connect").click()
    await chat.expect_connected()
    await chat.send("hello")
    await chat.expect_conversation(["hello"], replies=1)


async def test_phone_width_has_no_horizontal_scroll(
    live_server: ServerProcess, open_chat: OpenChat
) -> None:
    chat = await open_chat(page_url(live_server), viewport=PHONE, color_scheme="dark")
    await chat.expect_connected()
    long_word = "supercalifragilistic" * 8
    await chat.send(long_word)
    await chat.send(LONG_CODE)
    await chat.send("/calculator 2*(3+4)")
    shown_code = LONG_CODE.strip("`").removeprefix("\n")
    await chat.expect_conversation([long_word, shown_code, "/calculator 2*(3+4)"], replies=3)

    width = await chat.page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]
    await expect(chat.input).to_be_in_viewport()
    await expect(chat.send_button).to_be_in_viewport()
    for button in await chat.page.get_by_role("button").all():
        if await button.is_visible():
            box = await button.bounding_box()
            assert box is not None
            name = await button.text_content()
            assert box["height"] >= 40, name
            assert box["width"] >= 40, name
    await chat.page.screenshot(path="/tmp/skillyard-375.png")


async def test_server_restart_reconnects_without_duplicates(
    live_server: ServerProcess, open_chat: OpenChat
) -> None:
    chat = await open_chat(page_url(live_server))
    chat.console.allow(REFUSED_WEBSOCKET)
    await chat.expect_connected()
    await chat.send("hello")
    await chat.expect_conversation(["hello"], replies=1)

    # restart() blocks until the new process listens; meanwhile the page must say so.
    reconnecting = expect(chat.status).to_have_text("Reconnecting…")
    await asyncio.gather(asyncio.to_thread(live_server.restart), reconnecting)
    # The page may be a few backoff steps in (0.5 s doubling) when the server is back.
    await chat.expect_connected(timeout_ms=20_000)
    await chat.send("after the restart")
    await chat.expect_conversation(["hello", "after the restart"], replies=2)
    await expect(chat.reply(1).locator(".body")).to_contain_text("after the restart")


async def test_a_send_whose_reply_is_lost_is_resent_and_counted_once(
    live_server: ServerProcess, open_chat: OpenChat
) -> None:
    """The server takes a ``chat.send`` but the socket dies before its response
    reaches the page: the page reconnects, sends again with the same
    idempotency key, and the server answers ``duplicate``; one message, one reply."""
    sends: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    send_ids: set[str] = set()

    async def lose_first_send_result(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()
        cut = False  # this connection is dead: nothing more reaches the page

        def from_page(message: str | bytes) -> None:
            frame = json.loads(message)
            if frame.get("method") == "chat.send":
                sends.append(frame["params"])
                send_ids.add(frame["id"])
            server.send(message)

        async def from_server(message: str | bytes) -> None:
            nonlocal cut
            if cut:
                return
            frame = json.loads(message)
            if frame.get("type") == "res" and frame.get("id") in send_ids:
                results.append(frame["payload"])
                if len(results) == 1:  # lost with the connection
                    cut = True
                    await server.close(code=1001, reason="test: cut")
                    await ws.close(code=1012, reason="test: cut")
                    return
            ws.send(message)

        ws.on_message(from_page)
        server.on_message(from_server)

    chat = await open_chat(page_url(live_server), route_ws=lose_first_send_result)
    await chat.expect_connected()
    await chat.send("only once, please")
    await chat.expect_conversation(["only once, please"], replies=1)
    assert [s["idempotency_key"] for s in sends] == [sends[0]["idempotency_key"]] * 2
    assert [r["duplicate"] for r in results] == [False, True]
    assert results[0]["run_id"] == results[1]["run_id"]
    await chat.send("and the next one")
    await chat.expect_conversation(["only once, please", "and the next one"], replies=2)


async def test_reload_shows_the_history_once(
    live_server: ServerProcess, open_chat: OpenChat
) -> None:
    chat = await open_chat(page_url(live_server))
    await chat.expect_connected()
    await chat.send("first")
    await chat.send("/calculator 1+1")
    await chat.expect_conversation(["first", "/calculator 1+1"], replies=2)

    await chat.page.reload()
    await chat.expect_connected()
    await chat.expect_conversation(["first", "/calculator 1+1"], replies=2)
    await expect(chat.reply(1).locator(".body")).to_contain_text("2")
    await chat.send("third")  # replayed events, if any, have arrived before its reply
    await chat.expect_conversation(["first", "/calculator 1+1", "third"], replies=3)


async def test_new_chat_starts_an_empty_conversation(
    live_server: ServerProcess, open_chat: OpenChat
) -> None:
    chat = await open_chat(page_url(live_server))
    await chat.expect_connected()
    await chat.send("in the old chat")
    await chat.expect_conversation(["in the old chat"], replies=1)

    await chat.new_chat_button.click()
    await chat.expect_conversation([], replies=0)
    await expect(chat.input).to_be_focused()
    await chat.send("in the new chat")
    await chat.expect_conversation(["in the new chat"], replies=1)
    await chat.page.reload()
    await chat.expect_connected()
    await chat.expect_conversation(["in the new chat"], replies=1)


@pytest.fixture
def approving_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """A server that asks a person before the calculator runs."""
    server = ServerProcess(
        home=tmp_path / "home",
        extra_env={"SKILLYARD_SKILLS__APPROVAL_REQUIRED": CALCULATOR_TOOL},
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def test_approve_deny_and_stop(approving_server: ServerProcess, open_chat: OpenChat) -> None:
    chat = await open_chat(page_url(approving_server))
    await chat.expect_connected()

    await chat.send("/calculator 6*7")
    card = chat.reply(0).locator(".approval")
    await expect(card).to_contain_text(CALCULATOR_TOOL)
    await expect(chat.stop_button).to_be_visible()
    await card.get_by_role("button", name="Approve").click()
    await expect(card).to_contain_text("Approved")
    await expect(chat.reply(0).locator(".body")).to_contain_text("42")
    await expect(chat.stop_button).to_be_hidden()
    await expect(chat.input).to_be_focused()

    await chat.send("/calculator 1+1")
    card = chat.reply(1).locator(".approval")
    await card.get_by_role("button", name="Deny").click()
    await expect(card).to_contain_text("Denied")
    await expect(chat.reply(1)).to_have_attribute("aria-busy", "false")
    await expect(chat.reply(1).locator(".body")).not_to_contain_text("2")

    await chat.send("/calculator 2+2")
    await expect(chat.reply(2).get_by_role("button", name="Approve")).to_be_visible()
    await chat.stop_button.click()
    await expect(chat.reply(2)).to_contain_text("Stopped.")
    await expect(chat.reply(2).get_by_role("button")).to_have_count(0)  # nothing to answer
    await expect(chat.stop_button).to_be_hidden()
    await chat.expect_conversation(["/calculator 6*7", "/calculator 1+1", "/calculator 2+2"], 3)


@pytest.fixture
def sending_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """A server whose model sends the file ``report.csv`` of the web session's workspace."""
    home = tmp_path / "home"
    (workspace_dir(home, "web:owner:main") / "report.csv").write_bytes(REPORT)
    call = {"name": "send_file", "arguments": {"path": "report.csv", "caption": "Numbers"}}
    steps = [{"tool_calls": [call]}, {"reply": "Here it is."}]
    (tmp_path / "script.json").write_text(json.dumps(steps), encoding="utf-8")
    server = ServerProcess(home=home, model=f"scripted:{tmp_path / 'script.json'}")
    server.start()
    try:
        yield server
    finally:
        server.stop()


REPORT = b"city,temp\nParis,21\n<script>alert(1)</script>\n"


async def test_a_sent_file_is_a_download_link_that_saves_its_bytes(
    sending_server: ServerProcess, open_chat: OpenChat
) -> None:
    chat = await open_chat(page_url(sending_server))
    await chat.expect_connected()
    await chat.send("send me the report")
    link = chat.reply(0).get_by_role("link", name="📎 report.csv")
    await expect(link).to_be_visible()
    await expect(chat.reply(0).locator(".file")).to_contain_text("Numbers")
    await expect(chat.reply(0).locator(".body")).to_contain_text("Here it is.")
    async with chat.page.expect_download() as info:
        await link.click()
    download = await info.value
    assert download.suggested_filename == "report.csv"
    saved = await download.path()
    assert saved.read_bytes() == REPORT


async def test_a_sent_file_is_still_shown_after_a_reload_and_then_expires(
    sending_server: ServerProcess, open_chat: OpenChat
) -> None:
    chat = await open_chat(page_url(sending_server))
    await chat.expect_connected()
    await chat.send("send me the report")
    await chat.expect_conversation(["send me the report"], replies=1)

    await chat.page.reload()
    await chat.expect_connected()
    await chat.expect_conversation(["send me the report"], replies=1)
    file = chat.reply(0).locator(".file")
    await expect(file).to_have_count(1)
    await expect(file).to_contain_text("Numbers")
    await expect(chat.reply(0).locator(".body")).to_contain_text("Here it is.")

    for path in outbox_dir(sending_server.home).iterdir():
        path.unlink()  # what the sweep does once files.keep_days have passed
    chat.console.allow(r"status of 404")  # Chromium logs the refused fetch
    await file.get_by_role("link", name="📎 report.csv").click()
    await expect(file).to_contain_text("expired")
    await expect(file.get_by_role("link")).to_have_count(0)
