"""The registry's HTTP front: the ``/api/v1`` API and the ``/marketplace`` pages.

:func:`create_app` is a standalone application (``skillyard registry serve``);
:func:`registry_routes` gives the same two mounts to a host application (the
gateway mounts them on its own port).  Neither imports anything outside
``registry``: the host passes ``is_admin``, the test for its admin token.
"""

from registry.server.app import create_app, registry_routes
from registry.server.context import ApiSettings
from registry.server.ratelimit import RateSettings
from registry.server.spec import API_PREFIX, openapi_document

__all__ = [
    "API_PREFIX",
    "ApiSettings",
    "RateSettings",
    "create_app",
    "openapi_document",
    "registry_routes",
]
