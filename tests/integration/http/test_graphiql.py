"""gateway.http.explorer without a browser: the page, its CSP, the data block, the static files."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import graphql
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route

from gateway.app import DEFAULT_QUERY
from gateway.config.settings import load_settings
from gateway.emulator.embedded import start_embedded_emulator
from gateway.http.explorer import (
    CONTENT_SECURITY_POLICY,
    DEFAULT_STATIC_DIR,
    content_security_policy,
    example_tabs,
    graphiql_page,
    static_app,
    wants_html,
)
from gateway.schema.build import build_schema

QUERY = '{ transcodeSummary(videoId: "v1") { videoId transcodeStatus } }'
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
CDN_HOSTS = ("googleapis", "gstatic", "unpkg", "jsdelivr", "esm.sh", "cdnjs", "skypack", "jspm")


def make_app(static_dir: Path, default_query: str = QUERY, **paths: str) -> Starlette:
    async def page(request: Request) -> Response:
        if wants_html(request):
            return graphiql_page(default_query=default_query, static_dir=static_dir, **paths)
        return PlainTextResponse("graphql")

    return Starlette(
        routes=[
            Mount("/graphql/static", app=static_app(static_dir)),
            Route("/graphql", page),
        ]
    )


@pytest.fixture
def built(tmp_path: Path) -> Path:
    (tmp_path / "graphiql.js").write_text("console.log('graphiql')\n")
    (tmp_path / "graphiql.css").write_text("body { margin: 0 }\n")
    (tmp_path / "chunks").mkdir()
    (tmp_path / "chunks" / "chunk-ABCD1234.js").write_text("export const x = 1;\n")
    (tmp_path / "workers").mkdir()
    (tmp_path / "workers" / "editor.worker.js").write_text("self.onmessage = () => {};\n")
    return tmp_path


class Page(HTMLParser):
    """What the tests look at in a page: its script tags and the config data block."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.script_text: list[str] = []
        self._in_script = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.scripts.append(dict(attrs))
            self.script_text.append("")
            self._in_script = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.script_text[-1] += data

    def config(self) -> dict[str, Any]:
        for attrs, text in zip(self.scripts, self.script_text, strict=True):
            if attrs.get("id") == "graphiql-config":
                config: dict[str, Any] = json.loads(text)
                return config
        raise AssertionError("no graphiql-config block")


def csp_directives(policy: str) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


def client_for(app: Starlette) -> httpx.AsyncClient:
    # httpx's ASGITransport rather than starlette.testclient: the app has no lifespan to run,
    # and Starlette 1.10's TestClient warns (an error here) when used with httpx.
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test")


async def html_get(app: Starlette, path: str = "/graphql") -> httpx.Response:
    async with client_for(app) as client:
        return await client.get(path, headers={"accept": BROWSER_ACCEPT})


async def test_page_links_only_same_origin_assets_and_has_no_inline_script(built: Path) -> None:
    response = await html_get(make_app(built))

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = Page(response.text)
    for attrs in page.scripts:
        assert attrs.get("src") or attrs.get("type") == "application/json", attrs
    assert {"type": "module", "src": "/graphql/static/graphiql.js"} in page.scripts
    assert 'href="/graphql/static/graphiql.css"' in response.text
    assert not re.search(r"(?:https?:)?//[\w.-]", response.text)
    assert page.config() == {
        "defaultQuery": QUERY,
        "graphqlPath": "/graphql",
        "staticPath": "/graphql/static",
    }


async def test_page_headers(built: Path) -> None:
    headers = (await html_get(make_app(built))).headers

    assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY.replace(
        "connect-src 'self'", "connect-src 'self' ws://gateway.test"
    )
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["cache-control"] == "no-store"


def test_csp_allows_only_own_origin() -> None:
    for policy, connect in (
        (CONTENT_SECURITY_POLICY, ["'self'"]),
        (content_security_policy(http_scope("gateway.test:8000")), ["'self'", "ws://gateway.test:8000"]),
    ):
        directives = csp_directives(policy)
        assert directives["default-src"] == ["'none'"]
        assert directives["script-src"] == ["'self'"]
        assert directives["connect-src"] == connect
        assert directives["worker-src"] == ["'self'"]
        assert directives["frame-ancestors"] == ["'none'"]
        assert directives["base-uri"] == ["'none'"]
        assert directives["form-action"] == ["'none'"]
        for name, sources in directives.items():
            for source in sources:
                assert source in {"'self'", "'none'", "'unsafe-inline'", "data:", *connect}, (name, source)
            if "'unsafe-inline'" in sources:
                assert name == "style-src", "inline code is never allowed, only inline styles"
        assert not any(host in policy for host in CDN_HOSTS)


def http_scope(host: str | None, scheme: str = "http") -> dict[str, Any]:
    headers = [] if host is None else [(b"host", host.encode("latin-1"))]
    return {"type": "http", "scheme": scheme, "method": "GET", "path": "/graphql", "headers": headers}


@pytest.mark.parametrize(
    ("host", "scheme", "connect"),
    [
        ("127.0.0.1:8000", "http", "'self' ws://127.0.0.1:8000"),
        ("Gateway.Example.com", "https", "'self' wss://gateway.example.com"),
        ("vod-gateway:8000", "http", "'self' ws://vod-gateway:8000"),
        # nothing unchecked reaches the header: these keep 'self' alone
        (None, "http", "'self'"),
        ("", "http", "'self'"),
        ("[::1]:8000", "http", "'self'"),  # CSP host sources can't express IPv6 literals
        ("evil.test; script-src *", "http", "'self'"),
        ("a.test ws://evil.test", "http", "'self'"),
        ("a.test\r\nx: y", "http", "'self'"),
        ("*.test", "http", "'self'"),
        ("a.test:80:81", "http", "'self'"),
    ],
)
def test_connect_src_names_the_pages_own_websocket_origin(
    host: str | None, scheme: str, connect: str
) -> None:
    directives = csp_directives(content_security_policy(http_scope(host, scheme)))

    assert " ".join(directives["connect-src"]) == connect
    assert len(directives) == len(csp_directives(CONTENT_SECURITY_POLICY))


async def test_page_csp_follows_the_host_it_was_asked_on(built: Path) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=make_app(built)), base_url="https://vod.example.com"
    ) as client:
        response = await client.get("/graphql", headers={"accept": BROWSER_ACCEPT})

    assert "connect-src 'self' wss://vod.example.com;" in response.headers["content-security-policy"]


@pytest.mark.parametrize(
    "query",
    [
        "</script><script>alert(1)</script>",
        "</SCRIPT ><img src=x onerror=alert(1)>",
        "<!-- <script> -->",
        "query { a } # & \u2028 \u2029 ' \" \\",
    ],
)
async def test_default_query_cannot_break_out_of_the_data_block(built: Path, query: str) -> None:
    response = await html_get(make_app(built, default_query=query))

    page = Page(response.text)
    assert page.config()["defaultQuery"] == query
    assert len(page.scripts) == 2
    assert response.text.lower().count("</script") == 2
    assert "<img" not in response.text and "<!--" not in response.text


TWO_OPERATIONS = """# Summaries of two videos.
query Summaries {
  transcodeSummaries(videoIds: ["a", "b"]) { videoId }
}

# Live progress.
# (two comment lines)
subscription Progress { transcodeSummaryUpdates(videoIds: ["a"]) { progress } }
# a trailing comment stays with the last one
"""


def test_example_tabs_split_operations_with_their_comments() -> None:
    assert example_tabs(TWO_OPERATIONS) == (
        '# Summaries of two videos.\nquery Summaries {\n  transcodeSummaries(videoIds: ["a", "b"]) { videoId }\n}\n',
        "# Live progress.\n# (two comment lines)\n"
        'subscription Progress { transcodeSummaryUpdates(videoIds: ["a"]) { progress } }\n'
        "# a trailing comment stays with the last one\n",
    )


@pytest.mark.parametrize(
    "document",
    [
        QUERY,
        "query A { a } query B { ...F } fragment F on Query { b }",  # fragments may be shared
        "query A { a } query B {",  # doesn't parse
        "",
        "# only a comment",
    ],
)
def test_example_tabs_keep_anything_else_whole(document: str) -> None:
    assert example_tabs(document) == (document,)


async def test_several_operations_open_as_tabs(built: Path) -> None:
    page = Page((await html_get(make_app(built, default_query=TWO_OPERATIONS))).text)

    config = page.config()
    assert config["defaultTabs"] == list(example_tabs(TWO_OPERATIONS))
    assert config["defaultQuery"] == config["defaultTabs"][0]


def assert_examples_run(document: str) -> list[graphql.OperationDefinitionNode]:
    """Each tab is one operation that validates against the gateway's schema."""
    schema = build_schema(load_settings({}))._schema  # the graphql-core schema
    operations = []
    for tab in example_tabs(document):
        ast = graphql.parse(tab)
        assert graphql.validate(schema, ast) == [], tab
        (operation,) = ast.definitions
        assert isinstance(operation, graphql.OperationDefinitionNode)
        operations.append(operation)
    return operations


def test_default_examples_are_a_query_and_a_subscription() -> None:
    operations = assert_examples_run(DEFAULT_QUERY)

    assert [(o.operation.value, o.name and o.name.value) for o in operations] == [
        ("query", "Summaries"),
        ("subscription", "Progress"),
    ]


async def test_emulator_examples_name_real_ids_and_videos_still_transcoding() -> None:
    emulator = await start_embedded_emulator()
    try:
        document = emulator.default_query
        live = emulator.live_ids()
        statuses = {emulator.catalogue.status(i) for i in live}
        ids, missing = emulator.demo_ids()
    finally:
        await emulator.stop()

    summaries, progress = assert_examples_run(document)
    assert summaries.operation.value == "query" and progress.operation.value == "subscription"
    summaries_text, progress_text = example_tabs(document)
    assert all(f'"{i}"' in summaries_text for i in [*ids, missing])
    assert live and all(f'"{i}"' in progress_text for i in live)
    assert statuses == {"Processing"}
    assert f"{emulator.url}/_emulator/clock" in progress_text


async def test_custom_paths_reach_the_page_escaped(built: Path) -> None:
    app = make_app(built, graphql_path="/api/graphql", static_path='/s/"x"/')
    response = await html_get(app)

    page = Page(response.text)
    assert page.config()["graphqlPath"] == "/api/graphql"
    assert page.config()["staticPath"] == '/s/"x"'
    assert {"type": "module", "src": '/s/"x"/graphiql.js'} in page.scripts
    assert 'src="/s/&quot;x&quot;/graphiql.js"' in response.text


async def test_missing_assets_page_says_how_to_build(tmp_path: Path) -> None:
    response = await html_get(make_app(tmp_path / "not-built"))

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY  # it connects nowhere
    assert response.headers["cache-control"] == "no-store"
    assert "make graphiql" in response.text
    assert "graphiql/build.sh" in response.text
    assert "<script" not in response.text
    assert not re.search(r"(?:https?:)?//[\w.-]", response.text)
    assert str(tmp_path) not in response.text, "the page must not reveal server paths"


async def test_half_built_assets_count_as_missing(tmp_path: Path) -> None:
    (tmp_path / "graphiql.js").write_text("")
    response = await html_get(make_app(tmp_path))

    assert "make graphiql" in response.text


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", True),
        ("text/html", True),
        ("application/json;q=0.5, text/html", True),
        ("text/html, application/json", True),
        ("application/json, text/html", False),
        ("application/json", False),
        ("application/graphql-response+json, application/json;q=0.9", False),
        ("*/*", False),
        ("", False),
        (None, False),
        ("text/html;q=0", False),
        ("text/html;q=oops", False),
        ("TEXT/HTML", True),
        ("text/*", False),
        ("multipart/mixed, text/html;q=0.5", False),
    ],
)
def test_wants_html(accept: str | None, expected: bool) -> None:
    headers = [] if accept is None else [(b"accept", accept.encode())]
    request = Request({"type": "http", "method": "GET", "path": "/graphql", "headers": headers})

    assert wants_html(request) is expected


async def test_json_clients_do_not_get_the_page(built: Path) -> None:
    async with client_for(make_app(built)) as client:
        for accept in ("application/json", "*/*"):
            response = await client.get("/graphql", headers={"accept": accept})
            assert response.text == "graphql"


async def test_static_files_are_served_with_cache_headers(built: Path) -> None:
    async with client_for(make_app(built)) as client:
        entry = await client.get("/graphql/static/graphiql.js")
        css = await client.get("/graphql/static/graphiql.css")
        worker = await client.get("/graphql/static/workers/editor.worker.js")
        chunk = await client.get("/graphql/static/chunks/chunk-ABCD1234.js")
        again = await client.get(
            "/graphql/static/graphiql.js", headers={"if-none-match": entry.headers["etag"]}
        )

    assert entry.status_code == 200
    assert "javascript" in entry.headers["content-type"]
    assert entry.headers["cache-control"] == "no-cache"
    assert entry.headers["x-content-type-options"] == "nosniff"
    assert css.headers["content-type"].startswith("text/css")
    assert worker.status_code == 200
    assert chunk.status_code == 200
    assert "immutable" in chunk.headers["cache-control"]
    assert again.status_code == 304


async def test_static_files_refuse_escapes_and_writes(built: Path) -> None:
    async with client_for(make_app(built)) as client:
        assert (await client.get("/graphql/static/nope.js")).status_code == 404
        assert (await client.get("/graphql/static/../../etc/passwd")).status_code == 404
        assert (await client.get("/graphql/static/%2e%2e/%2e%2e/etc/passwd")).status_code == 404
        assert (await client.post("/graphql/static/graphiql.js")).status_code == 405


async def test_static_app_without_a_build_gives_404_not_500(tmp_path: Path) -> None:
    async with client_for(make_app(tmp_path / "not-built")) as client:
        assert (await client.get("/graphql/static/graphiql.js")).status_code == 404


@pytest.mark.skipif(
    not (DEFAULT_STATIC_DIR / "graphiql.js").is_file(), reason="assets not built (make graphiql)"
)
def test_built_bundle_loads_nothing_from_a_cdn() -> None:
    for path in DEFAULT_STATIC_DIR.rglob("*"):
        if path.suffix not in {".js", ".css"}:
            continue
        text = path.read_text(encoding="utf-8")
        for host in CDN_HOSTS:
            assert f"{host}." not in text and f"//{host}" not in text, (path, host)
        if path.suffix == ".css":
            assert not re.search(r"@import|url\(\s*['\"]?(?:https?:)?//", text), path
