"""The browser chat page: static files the gateway serves at ``/``.

The page is plain HTML, CSS and ES modules with no build step and nothing
fetched from elsewhere; it speaks protocol v1 to ``/ws`` on the same origin.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["STATIC_DIR"]

STATIC_DIR: Path = Path(__file__).resolve().parent / "static"
