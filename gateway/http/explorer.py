"""The GraphiQL explorer, served by the gateway itself from its own origin.

The assets are bundled at set-up time by `graphiql/build.sh` into `gateway/static/graphiql/`
and mounted at `/graphql/static` with `static_app()`. `graphiql_page()` renders the HTML shell:
no inline script (the configuration travels in a JSON data block), and a Content-Security-Policy
that lets the browser load code, styles, fonts and workers from this origin only.
"""

from __future__ import annotations

import functools
import html
import json
import os
import re
from pathlib import Path

from graphql import GraphQLError, OperationDefinitionNode, parse
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = [
    "BUILD_COMMAND",
    "CONTENT_SECURITY_POLICY",
    "DEFAULT_STATIC_DIR",
    "content_security_policy",
    "example_tabs",
    "graphiql_page",
    "static_app",
    "wants_html",
]

DEFAULT_STATIC_DIR = Path(__file__).parent.parent / "static" / "graphiql"

BUILD_COMMAND = "make graphiql"
BUILD_SCRIPT = "graphiql/build.sh"

# Files the page links to; both must exist for the explorer to be served.
ENTRY_SCRIPT = "graphiql.js"
ENTRY_STYLESHEET = "graphiql.css"

# Own origin only. Styles need 'unsafe-inline': Monaco writes its theme and layout rules into
# <style> elements it creates at run time, with no nonce support. connect-src names the page's
# own WebSocket origin (ws://host or wss://host, from the request) besides 'self': CSP Level 3
# lets 'self' match same-host ws:/wss: too, but not every browser in use does.
_DIRECTIVES = (
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "worker-src 'self'",
    "manifest-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'none'",
)
CONTENT_SECURITY_POLICY = "; ".join(_DIRECTIVES)

# A Host header that is safe to put in a CSP source: a DNS name or IPv4, optional port (CSP host
# sources have no syntax for IPv6 literals: those pages keep 'self' alone).
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST = re.compile(rf"{_LABEL}(?:\.{_LABEL})*(?::[0-9]{{1,5}})?")


def content_security_policy(scope: Scope | None = None) -> str:
    """The page's policy; with the request's scope, connect-src also allows its own WebSocket origin.

    A missing or malformed Host header leaves connect-src at 'self' (nothing is echoed unchecked).
    """
    host = Headers(scope=scope).get("host", "") if scope is not None else ""
    if not _HOST.fullmatch(host):
        return CONTENT_SECURITY_POLICY
    scheme = "wss" if scope is not None and scope.get("scheme") in ("https", "wss") else "ws"
    own = f"connect-src 'self' {scheme}://{host.lower()}"
    return "; ".join(own if d.startswith("connect-src ") else d for d in _DIRECTIVES)


_PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}

# Escapes that keep a JSON text inert inside <script type="application/json">: no "</script>",
# no "<!--", and nothing an HTML parser could read as markup.
_JSON_IN_HTML = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)


def graphiql_page(
    *,
    default_query: str,
    graphql_path: str = "/graphql",
    static_path: str = "/graphql/static",
    static_dir: Path = DEFAULT_STATIC_DIR,
) -> HTMLResponse:
    """The GraphiQL page, or a page saying how to build the assets when they are missing.

    A `default_query` of several operations (no fragments) opens as one tab per operation, each
    with the comments above it (see `example_tabs`). The Content-Security-Policy is completed
    with the page's own WebSocket origin when the response is sent.
    """
    if not assets_built(static_dir):
        return HTMLResponse(_MISSING_ASSETS_HTML, headers=_PAGE_HEADERS)
    tabs = example_tabs(default_query)
    config: dict[str, object] = {
        "defaultQuery": tabs[0],
        "graphqlPath": graphql_path,
        "staticPath": static_path.rstrip("/"),
    }
    if len(tabs) > 1:
        config["defaultTabs"] = list(tabs)
    return _PageResponse(_page_html(config, static_path.rstrip("/")), headers=_PAGE_HEADERS)


class _PageResponse(HTMLResponse):
    """The explorer page: its CSP names the WebSocket origin the request came to."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.headers["Content-Security-Policy"] = content_security_policy(scope)
        await super().__call__(scope, receive, send)


@functools.lru_cache(maxsize=8)
def example_tabs(document: str) -> tuple[str, ...]:
    """`document` split into one text per operation (comments go with the operation below them).

    Anything else stays whole: a single operation, fragments (they may be shared), or a text
    that doesn't parse.
    """
    try:
        definitions = parse(document).definitions
    except GraphQLError:
        return (document,)
    if len(definitions) < 2 or not all(isinstance(d, OperationDefinitionNode) for d in definitions):
        return (document,)
    tabs: list[str] = []
    start = 0
    for index, definition in enumerate(definitions):
        last = index == len(definitions) - 1
        end = len(document) if last or definition.loc is None else definition.loc.end
        tabs.append(document[start:end].strip() + "\n")
        start = end
    return tuple(tabs)


def assets_built(static_dir: Path = DEFAULT_STATIC_DIR) -> bool:
    """Whether the bundle the page links to is on disk (checked per request: cheap stats)."""
    return all((static_dir / name).is_file() for name in (ENTRY_SCRIPT, ENTRY_STYLESHEET))


def static_app(static_dir: Path = DEFAULT_STATIC_DIR) -> ASGIApp:
    """The bundled assets, to mount at `/graphql/static`; a missing folder gives 404s."""
    return _StaticAssets(directory=static_dir, check_dir=False)


def wants_html(request: Request) -> bool:
    """Whether the client asks for a page (a browser) rather than a GraphQL response.

    True only when `text/html` is listed explicitly and ranks above the JSON types; a bare
    `*/*`, no Accept header, `application/json` or `application/graphql-response+json` is false.
    """
    html_rank: tuple[float, int] | None = None
    json_rank: tuple[float, int] | None = None
    for position, media_range in enumerate(request.headers.get("accept", "").split(",")):
        media_type, quality = _parse_media_range(media_range)
        rank = (quality, -position)  # higher quality first, then the earlier listed
        if quality <= 0:
            continue
        if media_type == "text/html":
            html_rank = max(html_rank or rank, rank)
        elif media_type in _JSON_TYPES:
            json_rank = max(json_rank or rank, rank)
    return html_rank is not None and (json_rank is None or html_rank > json_rank)


_JSON_TYPES = frozenset(
    (
        "application/json",
        "application/graphql-response+json",
        "multipart/mixed",
    )
)


def _parse_media_range(media_range: str) -> tuple[str, float]:
    media_type, *params = (part.strip() for part in media_range.split(";"))
    quality = 1.0
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                quality = float(value.strip())
            except ValueError:
                quality = 0.0
    return media_type.lower(), quality


_IMMUTABLE = "public, max-age=31536000, immutable"


class _StaticAssets(StaticFiles):
    """StaticFiles that tolerates a missing folder and sets cache headers.

    esbuild names chunks and fonts by content hash, so those are immutable; the entry files
    and workers keep fixed names and are revalidated (ETag) on every load.
    """

    async def check_config(self) -> None:
        if self.directory is not None and not os.path.isdir(self.directory):
            return  # not built yet: every lookup is a 404, and the page says how to build
        await super().check_config()

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        path = str(scope.get("path", ""))
        hashed = "/chunks/" in path or "/assets/" in path
        response.headers["Cache-Control"] = _IMMUTABLE if hashed else "no-cache"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def _page_html(config: dict[str, object], static_path: str) -> str:
    static = html.escape(static_path)
    data = json.dumps(config, ensure_ascii=False).translate(_JSON_IN_HTML)
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>vod-gateway · GraphiQL</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{static}/{ENTRY_STYLESHEET}">
<script type="application/json" id="graphiql-config">{data}</script>
<script type="module" src="{static}/{ENTRY_SCRIPT}"></script>
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<noscript>GraphiQL needs JavaScript. The GraphQL endpoint itself works without it.</noscript>
</body>
</html>
"""


# Says what to run, not where the server keeps its files.
_MISSING_ASSETS_HTML = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>vod-gateway · GraphiQL assets not built</title>
<link rel="icon" href="data:,">
</head>
<body>
<h1>GraphiQL assets are not built</h1>
<p>The GraphQL endpoint works (POST queries to it); only the in-browser explorer is missing.
Its assets are bundled from npm packages at set-up time, never fetched from a CDN.</p>
<p>Build them from the repository root with <code>{BUILD_COMMAND}</code>
(or <code>{BUILD_SCRIPT}</code>, which writes <code>gateway/static/graphiql/</code>),
then reload this page.</p>
</body>
</html>
"""
