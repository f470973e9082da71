"""Hostile input on the web, property-based: whatever the query string, id or name, the app never answers
500, never shows a traceback, never reflects markup unescaped, and never lets an id reach the file system."""
from __future__ import annotations

import builtins
import io
import os
import sys
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from search.config import Settings
from search.indexer import index_records
import web
from web import create_app

from conftest import TINY, make_record

# Markup that must never come back raw in a page: each has a marker (nfx...) no real page contains.
PAYLOADS = [
    "<script>nfxa()</script>",
    "<img src=x onerror=nfxb()>",
    "\"><svg onload=nfxc()>",
    "'><iframe src=javascript:nfxd()>",
    "</textarea><script>nfxe()</script>",
    "<a href=\"javascript:nfxf()\">x</a>",
    "{{7*191}}",  # template injection would print 1337
]
RAW = ["<script>nfx", "<img src=x onerror", "<svg onload", "<iframe src=javascript"]
URL_ATTRS = {"href", "src", "action", "formaction", "xlink:href", "hx-get", "hx-post"}


class MarkupAudit(HTMLParser):
    """What a browser would run from the page: event-handler attributes, javascript: URLs, injected tags."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            value = value or ""
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...>")
            if name in URL_ATTRS and value.strip().lower().startswith("javascript:"):
                self.problems.append(f"<{tag} {name}={value!r}>")
            if "nfx" in value and tag in ("script", "img", "svg", "iframe"):  # a tag only an injection makes
                self.problems.append(f"<{tag} {name}={value!r}>")
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script and "nfx" in data:
            self.problems.append(f"<script>{data[:40]}")
TRAVERSALS = ["../", "..%2f", "%2e%2e/", "%2e%2e%2f", "..%2F", "%252e%252e%252f", "..\\", "%2f", "/",
              "....//", "..;/", "%00", "\x00", "~", "%c0%ae%c0%ae/"]
PARAMS = ["q", "speaker", "person", "place", "org", "not_speaker", "not_person", "not_place", "not_org",
          "from", "to", "sort", "page", "size"]
SECRET = "nfx-secret-file-content"

HOSTILE = [
    make_record(
        "evil-1", "Attack <script>nfxa()</script> headline <img src=x onerror=nfxb()>",
        "Body with <script>nfxa()</script> and \"><svg onload=nfxc()> and {{7*191}}. Mallory Evil said "
        "\"<img src=x onerror=nfxb()> is fine\" in Springfield.",
        published="2021-02-03", speakers=["Mallory <script>nfxa()</script>"],
        persons=["Mallory <script>nfxa()</script>", "Eve \"><svg onload=nfxc()>"],
        places=["Springfield <img src=x onerror=nfxb()>"], organizations=["{{7*191}} Corp"],
        quotes=[{"speaker": "Mallory <script>nfxa()</script>", "text": "<img src=x onerror=nfxb()> is fine"}],
        url="javascript:nfxf()", source="<b>Wire</b><script>nfxa()</script>",
    ),
    make_record("../../etc/passwd", "A record with a path-like id", "Its id looks like a path; searching "
                "finds it as text.", published="2021-02-04", persons=["Zed"]),
]

values = st.one_of(
    st.text(max_size=40),
    st.sampled_from(PAYLOADS),
    st.sampled_from(["", " ", "*", "AND", "OR NOT", "title:", "\"", "(", ")", "Russia", "Antony Blinken",
                     "2021", "2021-05", "2021-13-45", "0000-00-00", "99999-01-01", "-1", "0", "1e9",
                     "99999999999999999999999", "nan", "newest", "oldest", "relevance", "Ukraine*",
                     "ukr?ine", "body:[a TO z]", "Russia~2", "Russia^9", "\x00", "\ud800".encode(
                         "utf-8", "surrogatepass").decode("utf-8", "replace"), "%", "%zz"]),
    st.lists(st.sampled_from(PAYLOADS + ["Russia", "Ukraine", "("]), min_size=1, max_size=3).map(" ".join),
    st.text(min_size=900, max_size=1200, alphabet="ab \"()*:"),
)
query_pairs = st.lists(st.tuples(st.sampled_from(PARAMS + ["limit", "facet", "x", ""]), values), max_size=8)
raw_queries = st.text(alphabet="q=&%+;#?/sizepagfromto0123456789abcdef<>\"' \\\x00é", max_size=60)
ids = st.one_of(
    st.text(max_size=30),
    st.lists(st.sampled_from(TRAVERSALS + ["etc", "passwd", "secret.txt", "ix", "CURRENT", "kyiv-talks",
                                           "gen-1", ".lock", "cache", "enrich.sqlite"]),
             min_size=1, max_size=6).map("".join),
    st.sampled_from(PAYLOADS),
)

HYPO = dict(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The tiny corpus plus hostile records, with a secret file beside the index."""
    base = tmp_path_factory.mktemp("hostile")
    index_dir = base / "ix"
    index_records([dict(r) for r in TINY] + HOSTILE, Settings(index=index_dir))
    (base / "secret.txt").write_text(SECRET)
    (index_dir / "secret.txt").write_text(SECRET)
    app = create_app({"INDEX_DIR": str(index_dir), "TESTING": True})
    return app, index_dir.resolve()


@pytest.fixture(scope="module")
def client(site):
    return site[0].test_client()


def allowed_roots(index_dir: Path) -> list[str]:
    import flask
    import jinja2

    roots = {str(index_dir), os.path.realpath(Path(web.__file__).parent), sys.prefix, sys.base_prefix,
             os.path.realpath(sys.prefix), os.path.realpath(sys.base_prefix),
             os.path.realpath(Path(flask.__file__).parent), os.path.realpath(Path(jinja2.__file__).parent),
             "/dev/urandom", "/etc/localtime", "/usr/share/zoneinfo", "/etc/mime.types"}
    return sorted(roots)


@contextmanager
def watching_files(index_dir: Path):
    """Record every path the code under test opens, stats or lists."""
    touched: list[str] = []
    originals = {
        (builtins, "open"): builtins.open, (io, "open"): io.open, (os, "open"): os.open, (os, "stat"): os.stat,
        (os, "lstat"): os.lstat, (os, "listdir"): os.listdir, (os, "scandir"): os.scandir,
    }

    def wrap(fn):
        def recording(path=".", *args, **kwargs):
            if isinstance(path, (str, bytes, os.PathLike)):
                touched.append(os.fsdecode(path))
            return fn(path, *args, **kwargs)
        return recording

    for (mod, name), fn in originals.items():
        setattr(mod, name, wrap(fn))
    try:
        yield touched
    finally:
        for (mod, name), fn in originals.items():
            setattr(mod, name, fn)


def pseudo(path: str) -> bool:
    """"<frozen abc>" (also joined to sys.path entries): linecache looking up module pseudo-names while
    Hypothesis traces the code; never a file the app opens."""
    return os.path.basename(path).startswith("<")


def assert_inside(touched: list[str], index_dir: Path) -> None:
    roots = allowed_roots(index_dir)
    for path in touched:
        if pseudo(path):
            continue
        real = os.path.realpath(path)
        if any(r.startswith(real.rstrip("/") + "/") for r in roots):
            continue  # resolving a path (Path.resolve, realpath) looks at its parent folders
        assert any(real == r or real.startswith(r.rstrip("/") + "/") for r in roots), f"touched {path!r}"
        assert not real.endswith("secret.txt"), f"touched {path!r}"


def assert_safe(resp, html: bool = True, sent: str = "") -> str:
    """No server error, no traceback; in HTML no payload raw, no template evaluated, no secret."""
    assert resp.status_code < 500, resp.status_code
    body = resp.get_data(as_text=True)
    assert "Traceback" not in body and 'File "' not in body
    if html and resp.mimetype == "text/html":
        for raw in RAW:
            assert raw not in body, (raw, body[max(0, body.find(raw) - 200): body.find(raw) + 200])
        audit = MarkupAudit()
        audit.feed(body)
        audit.close()
        assert audit.problems == []
        if "1337" not in sent:
            assert "1337" not in body  # {{7*191}} was never evaluated as a template
        assert SECRET not in body
    return body


@hsettings(**HYPO)
@given(pairs=query_pairs, htmx=st.booleans(), facet=st.one_of(st.sampled_from(["speaker", "person", "place", "org"]),
                                                             values), contains=values)
def test_search_page_and_twins_survive_any_parameters(client, site, pairs, htmx, facet, contains):
    headers = {"HX-Request": "true"} if htmx else {}
    with watching_files(site[1]) as touched:
        page = client.get("/", query_string=pairs, headers=headers)
        api = client.get("/api/search", query_string=pairs)
        csv = client.get("/export.csv", query_string=pairs)
        csv_body = assert_safe(csv, html=False)
        facet_page = client.get("/facet/" + quote(facet, safe=""), query_string=pairs + [("contains", contains)],
                                headers=headers)
    assert page.status_code in (200, 400) and api.status_code in (200, 400)
    # a facet name with a slash makes a doubled slash in the path, which Werkzeug redirects (308) to the merged one
    assert facet_page.status_code in (200, 400, 404) or (facet_page.status_code == 308 and "/" in facet)
    assert_safe(facet_page, sent=repr(pairs) + contains + facet)
    assert_safe(page, sent=repr(pairs))
    assert_safe(api, html=False)
    assert api.is_json and isinstance(api.get_json()["total"], int)
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert "export stopped early" not in csv_body
    assert_inside(touched, site[1])


@hsettings(**HYPO)
@given(pairs=query_pairs, htmx=st.booleans(), facet=st.one_of(st.sampled_from(["speaker", "source", "kind"]), values),
       contains=values)
def test_quote_search_its_twins_and_feeds_survive_any_parameters(client, site, pairs, htmx, facet, contains):
    headers = {"HX-Request": "true"} if htmx else {}
    with watching_files(site[1]) as touched:
        page = client.get("/quotes", query_string=pairs, headers=headers)
        api = client.get("/api/quotes", query_string=pairs)
        csv = client.get("/quotes.csv", query_string=pairs)
        facet_page = client.get("/quotes/facet/" + quote(facet, safe=""),
                                query_string=pairs + [("contains", contains)], headers=headers)
        feeds = [client.get(path, query_string=pairs) for path in ("/feed.atom", "/quotes/feed.atom",
                                                                   "/speaker/Antony%20Blinken/feed.atom")]
    assert page.status_code in (200, 400) and api.status_code in (200, 400)
    # a facet name with a slash makes a doubled slash in the path, which Werkzeug redirects (308) to the merged one
    assert facet_page.status_code in (200, 400, 404) or (facet_page.status_code == 308 and "/" in facet)
    assert_safe(facet_page, sent=repr(pairs) + contains + facet)
    assert_safe(page, sent=repr(pairs))
    assert_safe(api, html=False)
    assert api.is_json and isinstance(api.get_json()["total"], int)
    assert csv.status_code == 200 and "export stopped early" not in assert_safe(csv, html=False)
    for f in feeds:
        assert f.status_code in (200, 404) and "<script" not in assert_safe(f, html=False)
    assert_inside(touched, site[1])


@hsettings(**HYPO)
@given(raw=raw_queries)
def test_malformed_query_strings(client, site, raw):
    for route in ("/", "/api/search", "/export.csv", "/quotes", "/api/quotes", "/quotes.csv", "/quotes/feed.atom"):
        assert_safe(client.get(route + "?" + raw), html=route in ("/", "/quotes"), sent=raw)


_baseline: dict = {}


def baseline_files(client, index_dir: Path) -> set[str]:
    """Every path that ordinary article and speaker pages (found and not found) touch."""
    if index_dir not in _baseline:
        with watching_files(index_dir) as touched:
            for url in ("/article/kyiv-talks", "/api/articles/kyiv-talks", "/speaker/Antony%20Blinken",
                        "/article/no-such-id", "/api/articles/no-such-id", "/speaker/No%20One"):
                assert client.get(url).status_code in (200, 404)
        _baseline[index_dir] = set(touched)
    return _baseline[index_dir]


@hsettings(**HYPO)
@given(article_id=ids)
def test_article_ids_never_reach_the_file_system(client, site, article_id):
    path = quote(article_id, safe="/%")
    baseline = baseline_files(client, site[1])
    with watching_files(site[1]) as touched:
        responses = [client.get(f"/article/{path}"), client.get(f"/api/articles/{path}"),
                     client.get(f"/speaker/{path}")]
    for resp in responses:
        assert resp.status_code in (200, 404, 308), (article_id, resp.status_code)
        assert_safe(resp, html=True, sent=article_id)
    assert_inside(touched, site[1])
    # An id is a key in the index, never a path: it touches no file that an ordinary id does not.
    web_dir = os.path.realpath(Path(web.__file__).parent) + "/"
    extra = {p for p in touched if not pseudo(p) and not os.path.realpath(p).startswith(web_dir)} - baseline
    assert not extra, extra


def test_hostile_record_is_shown_escaped_everywhere(client):
    for url in ["/", "/?q=nfxa", "/?person=Mallory+%3Cscript%3Enfxa()%3C/script%3E", "/article/evil-1",
                "/speaker/" + quote("Mallory <script>nfxa()</script>", safe=""), "/?q=fine&sort=newest"]:
        resp = client.get(url)
        assert resp.status_code == 200, url
        body = assert_safe(resp)
        assert "nfx" in body, url  # the record is on the page, escaped


def test_path_like_ids_are_only_keys(client):
    assert client.get("/article/" + quote("../../etc/passwd", safe="/")).status_code in (200, 404)
    found = client.get("/api/articles/" + quote("../../etc/passwd", safe=""))
    assert found.status_code == 200 and found.get_json()["id"] == "../../etc/passwd"
    for probe in ("..%2fsecret.txt", "%2e%2e/secret.txt", "..%2F..%2Fsecret.txt", "secret.txt", "CURRENT"):
        resp = client.get("/article/" + probe)
        assert resp.status_code == 404, probe
        assert SECRET not in resp.get_data(as_text=True)


def test_the_file_watch_catches_an_id_used_as_a_path(site, tmp_path):
    """The harness has teeth: a route that opens a file named by the id is caught by the same checks."""
    from flask import Flask

    index_dir = site[1]
    leaky = Flask("leaky")

    @leaky.route("/article/<path:article_id>")
    def read(article_id):
        try:
            with open(os.path.join(index_dir, article_id), encoding="utf-8") as f:
                return f.read()
        except OSError:
            return "missing", 404

    with watching_files(index_dir) as touched:
        body = leaky.test_client().get("/article/..%2fsecret.txt").get_data(as_text=True)
    assert body == SECRET
    leaked = [p for p in touched if os.path.realpath(p) == str(index_dir.parent / "secret.txt")]
    assert leaked
    with pytest.raises(AssertionError, match="secret.txt"):
        assert_inside(leaked, index_dir)
