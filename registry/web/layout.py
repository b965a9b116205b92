"""The page frame and small pieces shared by the marketplace pages.

Every dynamic value goes through :func:`~registry.web.markdown.escape`; the
pages hold no inline script or style, so the Content-Security-Policy below
can forbid both.  Links are absolute, built from the prefix the pages are
mounted at (``root``), so they work inside the gateway and standalone.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from registry.web.markdown import escape

__all__ = ["CSP", "badge", "page", "when"]

# Only our own stylesheet and script; no frames, no plugins, no fetches, forms
# only back to ourselves.  A skill's text can never add anything to this.
CSP = (
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
_VERDICT_TEXT = {
    "pass": "Scan: pass",
    "review": "Scan: review (flagged)",
    "block": "Scan: blocked",
}


def when(at: float | None) -> str:
    if at is None:
        return ""
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d")


def badge(verdict: str) -> str:
    text = _VERDICT_TEXT.get(verdict, f"Scan: {verdict}")
    return f'<span class="verdict verdict-{escape(verdict)}">{escape(text)}</span>'


def page(root: str, title: str, body: Iterable[str]) -> str:
    """A whole HTML document; ``body`` is already-safe HTML."""
    root = escape(root)
    return "".join(
        [
            '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{escape(title)} · skillyard marketplace</title>",
            f'<link rel="stylesheet" href="{root}/static/marketplace.css">',
            f'<link rel="icon" href="{root}/static/favicon.svg" type="image/svg+xml">',
            f'<script src="{root}/static/marketplace.js" defer></script>',
            '</head><body><header class="top">',
            f'<a class="brand" href="{root}/">skillyard marketplace</a>',
            '</header><main id="main">',
            *body,
            "</main></body></html>",
        ]
    )
