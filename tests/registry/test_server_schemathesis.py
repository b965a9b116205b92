"""schemathesis against the OpenAPI document, in process: no 5xx, no answer off the schema.

The registry behind the app holds one publisher (``alice``) with a published
skill, so that generated requests reach real records as well as missing
ones.  Requests carry the admin's token, so the guarded operations are
exercised too; schemathesis's ``ignored_auth`` check also replays them
without it and expects a 401.

The schema is loaded from the document at import time (schemathesis's
fixture-based loader does not work with pytest 9); the app it calls is put
in place by a module fixture, since it needs a temporary folder.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance
from starlette.types import ASGIApp, Receive, Scope, Send

from registry.server import ApiSettings, RateSettings, create_app, openapi_document
from registry.store import Registry
from registry.store.testing import make_publisher, signed_request, write_skill

ADMIN_TOKEN = "admin-token-for-schemathesis"


class DeferredApp:
    """An ASGI app whose target is set once the fixture has built it."""

    target: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.target is not None, "the registry_app fixture did not run"
        await self.target(scope, receive, send)


# Publishing takes raw archive bytes; schemathesis sends them as generated.
schemathesis.serializer.alias("application/gzip", "application/octet-stream")

APP = DeferredApp()
schema = schemathesis.openapi.from_dict(dict(openapi_document()))
schema.app = APP


@pytest.fixture(scope="module", autouse=True)
def registry_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    root: Path = tmp_path_factory.mktemp("registry")
    registry = Registry.open(root / "registry")
    _, key, principal = make_publisher(registry, "alice")
    folder = write_skill(root / "src", "meeting-minutes", tool=True, version="1.0.0")
    registry.publish(signed_request(folder, owner="alice", version="1.0.0", key=key), principal)
    roomy = ApiSettings(rate=RateSettings(rate_per_s=1e6, burst=1e6))
    APP.target = create_app(registry, is_admin=lambda token: token == ADMIN_TOKEN, settings=roomy)
    yield
    APP.target = None
    registry.close()


@schema.parametrize()
@pytest.mark.slow
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_keeps_to_its_document(case: schemathesis.Case) -> None:
    # A publish body that fits the schema (any bytes) is still refused with 422
    # unless it is a real, valid, signed package: that cannot be said in a schema.
    excluded = [positive_data_acceptance] if case.operation.method.upper() == "PUT" else []
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    case.call_and_validate(headers=headers, excluded_checks=excluded)
