"""Helpers for driving the chat page in headless Chromium (Playwright's async API).

``launch_options`` picks Debian's ``/usr/bin/chromium`` where it exists (CI and
these VMs, where ``playwright install`` cannot download browsers) and
Playwright's own build otherwise (developer machines).  :class:`ChatPage`
names the parts of the page the way a user sees them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.async_api import ConsoleMessage, Error, Locator, Page, ViewportSize, expect

__all__ = ["DESKTOP", "PHONE", "ChatPage", "ConsoleWatch", "launch_options"]

DEBIAN_CHROMIUM = Path("/usr/bin/chromium")
# No sandbox: CI runs as root in a container.  The rest keeps Chromium from
# phoning home, which would be slow, flaky and noisy offline.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)

DESKTOP = ViewportSize(width=1280, height=800)
PHONE = ViewportSize(width=375, height=700)


def launch_options() -> dict[str, Any]:
    if DEBIAN_CHROMIUM.exists():
        return {"executable_path": str(DEBIAN_CHROMIUM), "args": list(CHROMIUM_ARGS)}
    return {}


@dataclass
class ConsoleWatch:
    """Collects console errors and uncaught exceptions of one page.

    Some errors are the browser's, not the page's: while the server is down,
    Chromium logs each refused WebSocket attempt.  Tests that cause those
    call :meth:`allow` with a pattern for them.
    """

    problems: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=list)

    def attach(self, page: Page) -> None:
        page.on("console", self._on_console)
        page.on("pageerror", self._on_page_error)

    def allow(self, pattern: str) -> None:
        self.allowed.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        return [p for p in self.problems if not any(a.search(p) for a in self.allowed)]

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.problems.append(f"console.error: {message.text}")

    def _on_page_error(self, error: Error) -> None:
        self.problems.append(f"uncaught: {error.message}")


class ChatPage:
    """The chat page as a user sees it."""

    def __init__(self, page: Page, console: ConsoleWatch) -> None:
        self.page = page
        self.console = console
        self.status = page.get_by_role("status")
        self.input = page.get_by_role("textbox", name="Message")
        self.send_button = page.get_by_role("button", name="Send")
        self.stop_button = page.get_by_role("button", name="Stop")
        self.new_chat_button = page.get_by_role("button", name="New chat")
        self.conversation = page.get_by_role("log", name="Conversation")
        # The visible text of each bubble, without the screen-reader prefix.
        self.user_texts = self.conversation.locator(".msg.user .body")
        self.replies = self.conversation.locator(".msg.assistant")
        self.reply_texts = self.replies.locator(".body")
        self.token_dialog = page.get_by_role("dialog", name="Access token")
        self.token_input = page.get_by_role("textbox", name="Token")
        self.token_error = self.token_dialog.get_by_role("alert")

    async def send(self, text: str) -> None:
        """Type ``text`` and press Enter, as a user would."""
        await self.input.fill(text)
        await self.input.press("Enter")

    async def expect_connected(self, timeout_ms: float = 5_000) -> None:
        await expect(self.status).to_have_text("Connected", timeout=timeout_ms)

    async def expect_conversation(self, user: list[str], replies: int) -> None:
        """Exactly these user messages, in order, and ``replies`` finished replies."""
        await expect(self.user_texts).to_have_text(user)
        await expect(self.replies).to_have_count(replies)
        await expect(self.replies.and_(self.page.locator("[aria-busy=false]"))).to_have_count(
            replies
        )

    def reply(self, index: int) -> Locator:
        return self.replies.nth(index)
