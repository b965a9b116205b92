"""The marketplace pages: browse and search, a skill, a version, a publisher.

Server-rendered HTML (no build step, no CDN), with a strict
Content-Security-Policy on every page.  The only script is
``static/marketplace.js``: a "Copy" button for the install command, which
the page works without.  Held, deleted and unknown things answer 404.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from registry.server.ratelimit import READ_COST, RateLimiter
from registry.store.errors import NotFound, StoreError
from registry.store.records import ANONYMOUS, SearchQuery, Sort
from registry.store.registry import Registry
from registry.web.layout import CSP, page
from registry.web.markdown import escape
from registry.web.sections import result_card, skill_sections

__all__ = ["STATIC_DIR", "create_pages"]

STATIC_DIR = Path(__file__).resolve().parent / "static"
PAGE_SIZE = 20
_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
_SORTS = {"relevance": "Best match", "downloads": "Most downloaded", "recent": "Recently updated"}
_VERDICTS = {"": "Any scan verdict", "pass": "Passed", "review": "Flagged for review"}


def _html(text: str, status: int = 200) -> Response:
    return HTMLResponse(text, status_code=status, headers=_HEADERS)


def _root(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")


def create_pages(registry: Registry, limiter: RateLimiter) -> Starlette:
    """The pages app, to be mounted (``/marketplace`` by convention).

    Every page costs one read from its client address's bucket in ``limiter``.
    """

    async def browse(request: Request) -> Response:
        return _limited(limiter, request) or _html(_browse(registry, request))

    async def skill(request: Request) -> Response:
        return _limited(limiter, request) or _guarded(request, lambda: _skill(registry, request))

    async def publisher(request: Request) -> Response:
        return _limited(limiter, request) or _guarded(
            request, lambda: _publisher(registry, request)
        )

    routes = [
        Route("/", browse),
        Route("/skills/{owner}/{name}", skill),
        Route("/publishers/{publisher}", publisher),
        Mount("/static", app=StaticFiles(directory=STATIC_DIR)),
    ]
    return Starlette(routes=routes)


def _limited(limiter: RateLimiter, request: Request) -> Response | None:
    address = request.client.host if request.client else "unknown"
    wait = limiter.take(f"page:{address}", READ_COST)
    if not wait:
        return None
    retry = limiter.retry_after(wait)
    body = page(
        _root(request), "Slow down", [f"<h1>Too many requests</h1><p>Try again in {retry} s.</p>"]
    )
    response = _html(body, 429)
    response.headers["Retry-After"] = retry
    return response


def _guarded(request: Request, render: Callable[[], str]) -> Response:
    try:
        return _html(render())
    except NotFound as exc:
        return _html(_missing(_root(request), exc.message), 404)
    except StoreError as exc:
        return _html(_missing(_root(request), exc.message), 410)


def _missing(root: str, message: str) -> str:
    return page(root, "Not found", [f"<h1>Not found</h1><p>{escape(message)}</p>"])


def _query(request: Request) -> SearchQuery:
    params = request.query_params
    sort = params.get("sort", "relevance")
    verdict = params.get("verdict", "")
    try:
        page_number = max(1, min(500, int(params.get("page", "1"))))
    except ValueError:
        page_number = 1
    return SearchQuery(
        text=params.get("q", "")[:200],
        verdict=verdict if verdict in _VERDICTS and verdict else None,
        has_tools=True if params.get("has_tools") == "true" else None,
        sort=Sort(sort) if sort in _SORTS else Sort.RELEVANCE,
        limit=PAGE_SIZE,
        offset=(page_number - 1) * PAGE_SIZE,
    )


def _browse(registry: Registry, request: Request) -> str:
    root, query = _root(request), _query(request)
    results = registry.search(query)
    cards = "".join(result_card(root, hit) for hit in results.hits)
    shown = f"{results.total} skill{'s' if results.total != 1 else ''}"
    listing = (
        f'<ul class="results" aria-label="Skills">{cards}</ul>'
        if cards
        else "<p>No skills match.</p>"
    )
    return page(
        root,
        f"Search: {query.text}" if query.text else "Skills",
        [
            "<h1>Skills</h1>",
            _search_form(root, query),
            f'<p class="count" role="status">{shown}</p>',
            listing,
            _pager(root, request, query, results.total),
        ],
    )


def _search_form(root: str, query: SearchQuery) -> str:
    sorts = "".join(
        f'<option value="{k}"{" selected" if query.sort == k else ""}>{v}</option>'
        for k, v in _SORTS.items()
    )
    verdicts = "".join(
        f'<option value="{k}"{" selected" if (query.verdict or "") == k else ""}>{v}</option>'
        for k, v in _VERDICTS.items()
    )
    checked = " checked" if query.has_tools else ""
    return (
        f'<form class="search" role="search" action="{escape(root)}/" method="get">'
        '<label>Search skills <input type="search" name="q" maxlength="200" '
        f'value="{escape(query.text)}"></label>'
        f'<label>Scan <select name="verdict">{verdicts}</select></label>'
        f'<label>Sort <select name="sort">{sorts}</select></label>'
        f'<label><input type="checkbox" name="has_tools" value="true"{checked}> Runs tools</label>'
        '<button type="submit">Search</button></form>'
    )


def _pager(root: str, request: Request, query: SearchQuery, total: int) -> str:
    number = query.offset // PAGE_SIZE + 1
    links = []
    for label, target in (("Previous", number - 1), ("Next", number + 1)):
        if target >= 1 and (target - 1) * PAGE_SIZE < total:
            params = dict(request.query_params)
            params["page"] = str(target)
            href = f"{root}/?" + "&amp;".join(f"{escape(k)}={escape(v)}" for k, v in params.items())
            links.append(f'<a href="{href}">{label}</a>')
    return f'<nav class="pager" aria-label="Pages">{" ".join(links)}</nav>' if links else ""


def _skill(registry: Registry, request: Request) -> str:
    root = _root(request)
    owner, name = request.path_params["owner"], request.path_params["name"]
    skill = registry.skill(owner, name, ANONYMOUS)
    wanted = request.query_params.get("version") or skill.summary.current_version
    if wanted is None:
        wanted = skill.versions[0].version if skill.versions else ""
    record = registry.version(owner, name, wanted, ANONYMOUS)
    files = registry.index.files(registry.index.version(owner, name, wanted)[0])
    key = registry.publisher_key(record.publisher_key_id)
    return page(root, record.skill, skill_sections(root, skill, record, files, key))


def _publisher(registry: Registry, request: Request) -> str:
    root, name = _root(request), request.path_params["publisher"]
    publisher = registry.publishers.get(name)
    keys = registry.publishers.keys(name)
    skills = registry.search(SearchQuery(owner=name, sort=Sort.DOWNLOADS, limit=100))
    key_rows = "".join(
        f'<li><code class="fingerprint">{escape(k.public_key.fingerprint)}</code>'
        f"{' (revoked)' if k.revoked_at else ''}</li>"
        for k in keys
    )
    cards = "".join(result_card(root, hit) for hit in skills.hits)
    return page(
        root,
        publisher.display_name,
        [
            f"<h1>{escape(publisher.display_name)} "
            f'<span class="version">{escape(name)}</span></h1>',
            '<section aria-labelledby="keys"><h2 id="keys">Signing keys</h2>',
            f"<ul>{key_rows}</ul>" if key_rows else "<p>No keys registered.</p>",
            '</section><section aria-labelledby="skills"><h2 id="skills">Skills</h2>',
            f'<ul class="results" aria-label="Skills">{cards}</ul>'
            if cards
            else "<p>No skills yet.</p>",
            "</section>",
        ],
    )
