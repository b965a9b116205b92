"""Shared test set-up."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pytest
import uvloop


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> Mapping[str, Callable[[], object]]:
    """Async tests run on uvloop, the loop ``skillyard serve`` runs on."""
    return {"uvloop": uvloop.new_event_loop}
