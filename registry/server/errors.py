"""Errors as the API answers them: ``{"error": {"code", "message", "details"}}`` with a status.

:class:`ApiError` is raised by handlers for HTTP-level problems (bad
content type, body too large, rate limited); :func:`error_for` translates
the store's exceptions at the boundary, by class, so every refusal keeps the
store's own message and details.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from starlette.responses import JSONResponse

from registry.semver import VersionSyntaxError
from registry.signing import KeyFormatError
from registry.store.errors import (
    BlobError,
    Conflict,
    Forbidden,
    Gone,
    NotFound,
    PublishRefused,
    StoreError,
    Unauthenticated,
    Unavailable,
)
from registry.translog import ProofError

__all__ = ["ApiError", "error_for", "error_response"]

log = logging.getLogger("skillyard.registry")

_STATUS: tuple[tuple[type[StoreError], int], ...] = (
    (NotFound, 404),
    (Gone, 410),
    (Conflict, 409),
    (Unauthenticated, 401),
    (Forbidden, 403),
    (Unavailable, 403),
    (PublishRefused, 422),
    (BlobError, 500),
)


class ApiError(Exception):
    """An HTTP-level refusal: ``status``, a stable ``code`` and a message for people."""

    def __init__(
        self, status: int, code: str, message: str, *, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    details: Sequence[Mapping[str, object]] = (),
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    error: dict[str, object] = {"code": code, "message": message}
    if details:
        error["details"] = [dict(item) for item in details]
    all_headers = dict(headers or {})
    if status == 401:
        all_headers.setdefault("WWW-Authenticate", 'Bearer realm="skillyard-registry"')
    return JSONResponse({"error": error}, status_code=status, headers=all_headers)


def error_for(exc: Exception) -> JSONResponse:
    """The answer to an exception a handler raised; unknown ones are logged and a 500."""
    if isinstance(exc, ApiError):
        return error_response(exc.status, exc.code, exc.message, headers=exc.headers)
    if isinstance(exc, StoreError):
        status = next((s for kind, s in _STATUS if isinstance(exc, kind)), 500)
        if status == 500:
            log.error("registry storage problem: %s", exc)
        return error_response(status, exc.code, exc.message, details=exc.details)
    if isinstance(exc, VersionSyntaxError | KeyFormatError):
        return error_response(400, "bad_request", str(exc))
    if isinstance(exc, ProofError):
        return error_response(400, "bad_request", str(exc))
    raise exc
