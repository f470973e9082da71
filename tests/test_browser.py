"""Browser tests: a real `newsfacet serve` over the Wikinews corpus, driven by Playwright and Debian's chromium.

The index is built once per session (tests/conftest.py: wikinews_index). Every test runs against each backend:
Whoosh, and OpenSearch (a one-node cluster from scripts/opensearch.sh, its index written from a folder
holding no Whoosh generation, only the enrichment cache).
"""
from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest
import requests
from servers import serving
from warm_cache import run_newsfacet

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("NEWSFACET_SHARED", ROOT.parent / "shared"))
CHROMIUM = Path(os.environ.get("NEWSFACET_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
AXE = ROOT / "tests" / "vendor" / "axe.min.js"
# Tests write their pictures where git does not look; `make screenshot` points this at docs/screenshot.png.
SCREENSHOT = Path(os.environ.get("NEWSFACET_SCREENSHOT", ROOT / "tests" / ".out" / "screenshot.png"))
PHONE = {"width": 390, "height": 844}

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.model]


# base URL -> (--index folder, options before the command) of what `server` serves, for the CLI over the same index
SERVED: dict[str, tuple[Path, list[str]]] = {}


@pytest.fixture(scope="session", params=["whoosh", "opensearch"])
def server(request, wikinews_index, tmp_path_factory):
    """Base URL of `newsfacet serve` on a free port over each backend; stopped at the end of the session."""
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    folder, options = wikinews_index, []
    if request.param == "opensearch":
        settings, folder = request.getfixturevalue("wikinews_opensearch")
        options = ["--backend", "opensearch", "--opensearch-url", settings.opensearch_url,
                   "--opensearch-index", settings.opensearch_index]
    with serving(folder, log, options=options) as base:
        SERVED[base] = (folder, options)
        yield base


@pytest.fixture(scope="session")
def top_speaker(server):
    data = requests.get(server + "/api/search", params={"q": "said"}, timeout=30).json()
    return data["facets"]["speaker"][0]["value"]


class WatchedBrowser:
    """The session's chromium, handing out only watched contexts: whatever any of their pages logs as a console
    error (htmx's errors, a CSP violation), throws uncaught, or opens as a dialog lands in `problems`."""

    def __init__(self, browser):
        self._browser = browser
        self.problems: list[str] = []

    def new_context(self, **options):
        """A browser context whose every page is watched."""
        context = self._browser.new_context(**options)
        context.on("console", self._console)
        context.on("weberror", lambda e: self.problems.append(f"page error on {_url(e.page)}: {e.error}"))
        context.on("dialog", lambda d: (self.problems.append(f"dialog on {_url(d.page)}: {d.message}"), d.dismiss()))
        return context

    def _console(self, message) -> None:
        if message.type == "error":
            self.problems.append(f"console error on {_url(message.page)}: {message.text}")


def _url(pg) -> str:
    return pg.url if pg is not None else "?"


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"chromium not found at {CHROMIUM}: run scripts/install-chromium.sh (CI installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield WatchedBrowser(b)
        b.close()


@pytest.fixture(autouse=True)
def quiet_console(request):
    """Every test that drives the browser fails on a console error, page error or dialog in any page it opened."""
    if "browser" not in request.fixturenames:
        yield
        return
    watched = request.getfixturevalue("browser")
    watched.problems.clear()
    yield
    problems, watched.problems[:] = list(watched.problems), []
    assert problems == [], "the browser reported problems:\n" + "\n".join(problems)


@pytest.fixture
def page(browser, server):
    """A fresh desktop-sized page (watched, as every page is: see quiet_console)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=server)
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def _mark_document(pg):
    """Tag the current document: the tag survives htmx swaps but not a page load."""
    pg.evaluate("window.__newsfacetMarker = 'same-document'")


def _same_document(pg) -> bool:
    return pg.evaluate("window.__newsfacetMarker") == "same-document"


def _total(pg) -> int:
    text = pg.locator("#results-title").inner_text()
    return int(re.search(r"([\d,]+) article", text).group(1).replace(",", ""))


# -- the acceptance checks over plain HTTP ---------------------------------------------------------
def test_acceptance_api_search_and_speaker_filter(server, top_speaker):
    everything = requests.get(server + "/api/search", params={"q": "said"}, timeout=30).json()
    assert set(everything["facets"]) == {"speaker", "person", "place", "org", "author", "language", "date"}
    assert all(everything["facets"][f] for f in ("speaker", "person", "place", "org", "date"))
    narrowed = requests.get(server + "/api/search", params={"q": "said", "speaker": top_speaker}, timeout=30).json()
    assert 0 < narrowed["total"] < everything["total"]
    assert all(top_speaker in r["speakers"] for r in narrowed["results"])
    assert [v for v in narrowed["facets"]["speaker"] if v["value"] != top_speaker]


def test_acceptance_pages_answer(server, top_speaker):
    first = requests.get(server + "/api/search", params={"q": "said"}, timeout=30).json()["results"][0]["id"]
    for path in [f"/article/{first}", f"/speaker/{top_speaker}", "/export.csv?q=said", "/api/articles/" + first]:
        r = requests.get(server + path, timeout=60)
        assert r.status_code == 200, path
    rows = requests.get(server + "/export.csv", params={"q": "said"}, timeout=60).text.strip().splitlines()
    assert len(rows) - 1 == requests.get(server + "/api/search", params={"q": "said"}, timeout=30).json()["total"]


BAD = ['"unbalanced', "(unbalanced", "AND", "*", "body:", "x" * 5000, "title:(", "OR OR", "-", "\x00"]


@pytest.mark.parametrize("path", ["/", "/api/search", "/export.csv", "/quotes", "/api/quotes", "/quotes.csv",
                                  "/quotes/feed.atom", "/feed.atom"])
def test_acceptance_bad_queries_never_500(server, path):
    for q in BAD:
        assert requests.get(server + path, params={"q": q}, timeout=60).status_code == 200, q
    for params in [{"page": "-1"}, {"page": str(10**9)}, {"speaker": "Nobody Known"}, {"from": "soon"},
                   {"to": "2020-02-31"}, {"sort": "x"}]:
        assert requests.get(server + path, params=params, timeout=60).status_code == 200, params


def test_acceptance_hostile_markup_never_reflected(server):
    for path, params in [("/article/hostile-markup", {}), ("/", {"q": "silenced"}), ("/", {"q": "<script>"}),
                         ("/quotes", {"q": "silenced"}), ("/quotes", {"speaker": "<script>alert(1)</script>"}),
                         ("/speaker/Hostile Harry", {}), ("/", {"place": "<img src=x onerror=alert(1)>"})]:
        body = requests.get(server + path, params=params, timeout=30).text
        assert "<script>window" not in body, path
        assert "<img src=x" not in body, path
        assert "<b>headline" not in body and "<b>ever" not in body and "<i>Wire" not in body, path
        assert 'href="javascript:' not in body, path


# -- the browser -------------------------------------------------------------------------------------
def test_typing_updates_results_without_page_load_and_changes_url(page):
    from playwright.sync_api import expect

    page.goto("/")
    before = _total(page)
    _mark_document(page)
    page.locator("#q").press_sequentially("election", delay=40)
    page.wait_for_url(re.compile(r"[?&]q=election"))
    expect(page.locator("#results-title")).to_contain_text("election")
    assert _total(page) < before
    assert _same_document(page)
    assert page.locator("#q").input_value() == "election"


def _searches(pg, word: str) -> list[str]:
    """Start recording the search requests the page sends for `word` (the list fills as they go out)."""
    sent: list[str] = []
    pg.on("request", lambda r: sent.append(r.url) if f"q={word}" in r.url else None)
    return sent


def test_typing_then_enter_sends_one_search(page):
    """Enter fires `search` and `submit` on the box; listening to both sent two requests, and htmx's hx-sync
    aborted the first, logging htmx:sendAbort as a console error (quiet_console fails the test on that)."""
    from playwright.sync_api import expect

    page.goto("/")
    sent = _searches(page, "election")
    page.locator("#q").press_sequentially("election", delay=40)
    page.locator("#q").press("Enter")
    page.wait_for_url(re.compile(r"[?&]q=election"))
    expect(page.locator("#results-title")).to_contain_text("election")
    page.wait_for_load_state("networkidle")
    assert len(sent) == 1, sent


def test_enter_after_the_results_came_asks_nothing_more(page):
    """The typing delay already fetched the query: Enter adds no request and no second history entry."""
    from playwright.sync_api import expect

    page.goto("/")
    sent = _searches(page, "police")
    page.locator("#q").press_sequentially("police", delay=40)
    page.wait_for_url(re.compile(r"[?&]q=police"))
    expect(page.locator("#results-title")).to_contain_text("police")
    page.wait_for_load_state("networkidle")
    entries = page.evaluate("history.length")
    page.locator("#q").press("Enter")
    page.wait_for_timeout(300)  # time for a request to go out, were one sent
    page.wait_for_load_state("networkidle")
    assert len(sent) == 1, sent
    assert page.evaluate("history.length") == entries
    page.go_back()
    # one step back leaves the query: to the empty page, or to a prefix of it when a slow machine let the typing
    # delay pass between two keys (a search of its own then); never the same page again, as a second entry would
    page.wait_for_url(lambda url: "q=police" not in url)


def test_typing_on_while_a_search_is_in_flight_queues_the_next_one(page):
    """hx-sync="replace" aborted the request in flight (a console error each time); queued, the first answer
    arrives and the last query typed is asked next, so the page ends on what the box says."""
    from playwright.sync_api import expect

    page.goto("/")
    held = []
    in_flight = re.compile(r"/\?q=")
    page.route(in_flight, lambda route: held.append(route))  # the server "is slow": requests wait here until released
    box = page.locator("#q")

    def wait_held(n):
        for _ in range(100):
            if len(held) >= n:
                return
            page.wait_for_timeout(100)

    box.press_sequentially("elect", delay=30)
    wait_held(1)
    assert [r.request.url.rpartition("q=")[2] for r in held] == ["elect"]
    box.press_sequentially("ion", delay=30)
    page.wait_for_timeout(800)  # the typing delay passes while "elect" is still in flight
    assert len(held) == 1  # the second search waits its turn (replace would have aborted the first here)
    held[0].continue_()
    wait_held(2)  # sent as soon as the first is answered
    assert [r.request.url.rpartition("q=")[2] for r in held] == ["elect", "election"]
    held[1].continue_()
    page.wait_for_url(re.compile(r"[?&]q=election$"))
    expect(page.locator("#results-title")).to_contain_text("election")
    assert box.input_value() == "election"
    page.unroute(in_flight)


def test_speaker_facet_narrows_shows_quotes_and_back_restores(page):
    from playwright.sync_api import expect

    page.goto("/?q=said")
    total = _total(page)
    _mark_document(page)
    link = page.locator(".facet-speaker .fv-inc").first
    name = link.locator(".fv-name").inner_text()
    link.click()
    page.wait_for_url(re.compile(r"[?&]speaker="))
    expect(page.locator(".chip-active.chip-speaker")).to_contain_text(name)
    narrowed = _total(page)
    assert 0 < narrowed < total
    assert _same_document(page)
    # each result shows the chosen speaker's quotes
    results = page.locator(".result")
    assert results.count() > 0
    expect(page.locator(".result-quotes").first).to_be_visible()
    assert page.locator(".result-quotes .quote-by").first.inner_text() == f"— {name}"
    # the other speakers are still offered
    assert page.locator(".facet-speaker .fv-inc").count() > 1
    # back restores the previous results and URL
    page.go_back()
    page.wait_for_url(re.compile(r"/\?q=said$"))
    expect(page.locator("#results-title")).to_contain_text(f"{total:,} article")
    assert page.locator(".chip-active").count() == 0
    assert page.locator("#q").input_value() == "said"


def test_back_button_after_typing_restores_the_earlier_query(page):
    from playwright.sync_api import expect

    page.goto("/?q=police")
    police = _total(page)
    box = page.locator("#q")
    box.fill("")
    box.press_sequentially("virus", delay=30)
    page.wait_for_url(re.compile(r"q=virus"))
    expect(page.locator("#results-title")).to_contain_text("virus")
    page.go_back()
    page.wait_for_url(re.compile(r"q=police"))
    expect(page.locator("#results-title")).to_contain_text(f"{police:,} article")
    assert box.input_value() == "police"


def test_exclude_shows_struck_through_chip(page):
    from playwright.sync_api import expect

    page.goto("/?q=said")
    total = _total(page)
    row = page.locator(".facet-place .fv").first
    name = row.locator(".fv-name").inner_text()
    row.hover()
    row.locator(".fv-exc").click()
    page.wait_for_url(re.compile(r"not_place="))
    expect(page.locator(".chip-active.is-excluded s")).to_have_text(name)
    assert _total(page) < total


def test_facet_filter_box_finds_values_beyond_the_top_ten(page, server):
    import html

    from playwright.sync_api import expect

    everyone = requests.get(server + "/facet/speaker", params={"q": "said"}, timeout=30).text
    names = [html.unescape(n) for n in re.findall(r'class="fv-name" title="([^"]+)"', everyone)]
    assert len(names) > 40
    rare = names[-1]  # far beyond the values the sidebar loads
    page.goto("/?q=said")
    box = page.locator(".facet-speaker .facet-filter")
    expect(box).to_be_visible()
    box.press_sequentially(rare[:6], delay=30)
    target = page.locator("#facet-speaker-list .fv-name", has_text=rare).first
    expect(target).to_be_visible()
    assert "contains=" not in page.url  # filtering the list is not a new search
    target.click()
    page.wait_for_url(re.compile(r"[?&]speaker="))
    expect(page.locator(".chip-active.chip-speaker")).to_contain_text(rare)


def test_histogram_bar_and_date_drill_down(page):
    from playwright.sync_api import expect

    page.goto("/?q=said")
    total = _total(page)
    _mark_document(page)
    page.locator("svg.histogram a.bar-link").first.click()
    page.wait_for_url(re.compile(r"from=\d{4}-\d{2}-01&to=\d{4}-\d{2}-\d{2}"))
    expect(page.locator(".chip-active.chip-date")).to_be_visible()
    assert _total(page) < total
    assert _same_document(page)
    # the date facet drills from years into the chosen year's months, in order
    page.goto("/?q=said")
    page.locator(".facet-date .date-years > li > a.fv-inc").first.click()
    page.wait_for_url(re.compile(r"from=\d{4}-01-01&to=\d{4}-12-31"))
    months = page.locator(".facet-date .date-months .fv-name").all_inner_texts()
    assert len(months) > 1
    assert months == sorted(months, key=lambda m: time.strptime(m, "%b %Y"))


def test_article_page_marks_entities_and_quotes(page):
    page.goto("/?q=said")
    with page.expect_navigation():
        page.locator(".result-title a").first.click()
    assert "/article/" in page.url
    assert page.locator(".article-text mark.ent-person").count() > 0
    assert page.locator(".article-text mark.ent-place").count() > 0
    quote = page.locator(".article-text .quote[data-speaker]").first
    speaker = quote.get_attribute("data-speaker")
    assert quote.get_attribute("title") == f"Quote by {speaker}"
    # side lists link to filtered searches
    href = page.locator(".article-side a.chip-person").first.get_attribute("href")
    assert href.startswith("/?person=")


def test_hostile_article_is_inert(page):
    page.goto("/article/hostile-markup")
    assert page.evaluate("window.__pwned") is None
    assert "<script>window.__pwned = 1</script>" in page.locator("h1").inner_text()
    assert page.locator(".article-text img").count() == 0
    assert page.locator("a.original").count() == 0  # a javascript: URL is never a link


def test_works_without_javascript(browser, server):
    context = browser.new_context(java_script_enabled=False, base_url=server)
    pg = context.new_page()
    try:
        pg.goto("/")
        pg.locator("#q").fill("Trump")
        with pg.expect_navigation():
            pg.locator("#q").press("Enter")
        assert re.search(r"/\?q=Trump$", pg.url)
        assert "Trump" in pg.locator("#results-title").inner_text()
        with pg.expect_navigation():
            pg.locator(".facet-speaker .fv-inc").first.click()
        assert "speaker=" in pg.url and "q=Trump" in pg.url
        # typing again keeps the filter: it rides along in hidden fields of the form
        pg.locator("#q").fill("Trump said")
        with pg.expect_navigation():
            pg.locator("#search-form button").click()
        assert "speaker=" in pg.url and "q=Trump+said" in pg.url
        assert pg.locator(".chip-active").count() == 1
    finally:
        context.close()


def test_keyboard_skip_link_focus_ring_and_facets(page):
    page.goto("/?q=said")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    box = page.locator(".skip-link").bounding_box()
    assert box and box["y"] >= 0  # visible when focused
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "results"
    # the first Tab from the results lands on the first result's title
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('.results') !== null")
    page.locator("#q").focus()
    # tab to the first speaker value and check the focus ring
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.matches('.facet-speaker .fv-inc')"):
            break
    else:
        pytest.fail("could not reach a speaker facet with the keyboard")
    ring = page.evaluate("(() => { const s = getComputedStyle(document.activeElement);"
                         " return [s.outlineStyle, parseFloat(s.outlineWidth)]; })()")
    assert ring[0] != "none" and ring[1] >= 2
    focused_id = page.evaluate("document.activeElement.id")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"speaker="))
    page.wait_for_function(f"document.activeElement && document.activeElement.id === {json.dumps(focused_id)}")
    # "/" brings focus back to the search box
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "q"


def _longest_values(server) -> tuple[str, str]:
    """(id of the article with the longest facet value, the longest speaker name) among results for "said"."""
    results = requests.get(server + "/api/search", params={"q": "said", "size": 100}, timeout=30).json()["results"]

    def longest(r):
        return max((len(v) for k in ("speakers", "persons", "places", "organizations") for v in r[k]), default=0)

    article = max(results, key=longest)["id"]
    speaker = max((s for r in results for s in r["speakers"]), key=len)
    assert len(speaker) > 40  # long enough to overflow a phone, as the corpus has
    return article, speaker


# What sticks out past the right edge of the screen, for the failure message.
_OVERFLOWING = """(limit) => Array.from(document.querySelectorAll('body *'))
  .filter(e => e.getClientRects().length && e.getBoundingClientRect().right > limit + 0.5)
  .slice(0, 5).map(e => `${e.tagName.toLowerCase()}.${e.className}: ${(e.textContent || '').trim().slice(0, 40)}`)"""


def test_nothing_is_wider_than_a_phone(browser, server):
    """At 390 px the page is 390 px wide: long names in chips, active filters, quote credits and headings fit."""
    from urllib.parse import quote, urlencode

    article, speaker = _longest_values(server)
    pages = requests.get(server + "/api/search", params={"q": "said"}, timeout=30).json()["pages"]
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, base_url=server)
    truncated = 0
    try:
        pg = context.new_page()

        def check(path):
            pg.goto(path)
            width = pg.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], f"{path} is {width} px wide: {pg.evaluate(_OVERFLOWING, PHONE['width'])}"

        for n in range(1, pages + 1):  # every page of results, so the chips of every article are looked at
            check(f"/?q=said&page={n}")
            truncated += pg.evaluate("Array.from(document.querySelectorAll('.chip'))"
                                     ".filter(c => c.scrollWidth > c.clientWidth).length")
        check("/?" + urlencode({"q": "said", "speaker": speaker}))
        # the longest speaker's name is in the active filter, where it takes more than one line
        lines = pg.evaluate("""() => { const r = document.createRange();
            r.selectNodeContents(document.querySelector('.chip-active .chip-value'));
            return [r.toString(), r.getClientRects().length]; }""")
        assert lines[0] == speaker and lines[1] > 1, lines
        for path in ["/", f"/article/{quote(article)}", f"/speaker/{quote(speaker)}", "/facet/speaker?q=said"]:
            check(path)
    finally:
        context.close()
    assert truncated > 0  # some names were too long for a chip on a phone: cut short, not widening the page


def _axe(browser, server, path):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=server, bypass_csp=True)
    pg = context.new_page()
    try:
        pg.goto(path)
        pg.add_script_tag(path=str(AXE))
        result = pg.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    finally:
        context.close()
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — " + "; ".join(n["target"][0] for n in v["nodes"][:3])
        for v in result["violations"] if v["impact"] in ("serious", "critical")
    ]


def test_axe_search_page(browser, server, top_speaker):
    from urllib.parse import urlencode

    assert _axe(browser, server, "/?" + urlencode({"q": "said", "speaker": top_speaker})) == []
    assert _axe(browser, server, "/") == []


def test_axe_article_page(browser, server):
    first = requests.get(server + "/api/search", params={"q": "said"}, timeout=30).json()["results"][0]["id"]
    assert _axe(browser, server, f"/article/{first}") == []


def test_axe_speaker_page(browser, server, top_speaker):
    assert _axe(browser, server, f"/speaker/{top_speaker}") == []


def test_screenshot_search_with_speaker_filter(page, top_speaker, server, request):
    from urllib.parse import urlencode

    if request.node.callspec.params.get("server") != "whoosh":
        pytest.skip("the screenshot (docs/screenshot.png by `make screenshot`) shows the default, Whoosh, backend")

    page.goto("/?" + urlencode({"q": "said", "speaker": top_speaker}))
    page.locator(".result-quotes").first.wait_for()
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))
    assert SCREENSHOT.stat().st_size > 10_000


# -- quote search, trails, speaker pages, feeds ----------------------------------------------------------------
def test_acceptance_wikinews_repeats_a_quote_across_articles(server):
    folder, options = SERVED[server]  # the CLI over the index the server serves
    done = run_newsfacet("--index", folder, *options, "stats", "--json")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    clusters = json.loads(out)["clusters"]
    assert any(b["articles"] >= 2 for b in clusters["by_articles"]), clusters
    data = requests.get(server + "/api/quotes", params={"size": "100", "sort": "oldest"}, timeout=30).json()
    assert data["quotes"] > data["total"] > 0  # repeats are collapsed into one row each
    text = run_newsfacet("--index", folder, *options, "stats").stdout
    assert "clusters by articles spanned:" in text


def _spanning_cluster(server) -> dict:
    """A quote row of the Wikinews index whose cluster spans two articles or more."""
    for page in range(1, 40):
        data = requests.get(server + "/api/quotes", params={"size": "100", "page": str(page)}, timeout=30).json()
        for r in data["results"]:
            if r["cluster"] and r["cluster"]["articles"] >= 2 and r["speaker"]:
                return r
        if page >= data["pages"]:
            break
    pytest.fail("no cluster spanning two articles with a resolved speaker")


def test_quote_search_filtered_by_speaker_and_date(page, server):
    from playwright.sync_api import expect

    page.goto("/quotes?q=said")
    expect(page.locator(".tab-quotes.is-current")).to_be_visible()
    _mark_document(page)
    link = page.locator(".facet-speaker .fv-inc").first
    name = link.locator(".fv-name").inner_text()
    link.click()
    page.wait_for_url(re.compile(r"/quotes\?.*speaker="))
    expect(page.locator(".chip-active.chip-speaker")).to_contain_text(name)
    speakers = page.locator(".quote-row .quote-speaker").all_inner_texts()
    assert speakers and set(speakers) == {name}
    page.locator(".facet-date .date-years > li > a.fv-inc").first.click()
    page.wait_for_url(re.compile(r"from=(\d{4})-01-01&to=\1-12-31"))
    year = re.search(r"from=(\d{4})", page.url).group(1)
    expect(page.locator(".chip-active.chip-date")).to_be_visible()
    assert _same_document(page)  # htmx swapped the results, the page did not reload
    dates = page.locator(".quote-row .quote-meta time").evaluate_all("els => els.map(e => e.getAttribute('datetime'))")
    assert dates and all(d.startswith(year) for d in dates)
    assert set(page.locator(".quote-row .quote-speaker").all_inner_texts()) == {name}
    # the Articles tab keeps the words, the speaker and the dates
    href = page.locator(".tab-articles").get_attribute("href")
    assert href.startswith("/?") and "speaker=" in href and f"from={year}-01-01" in href


def test_opening_a_cluster_trail(page, server):
    from urllib.parse import urlencode

    row = _spanning_cluster(server)
    cid = row["cluster"]["id"]
    page.goto("/quotes?" + urlencode({"speaker": row["speaker"], "size": "100"}))
    item = page.locator(".quote-row", has=page.locator(f'a.trail-link[href="/quote/{cid}"]')).first
    summary = item.locator(".quote-cluster summary")
    expect_text = f"repeated in {row['cluster']['articles']} articles"
    assert expect_text in " ".join(summary.inner_text().split())
    assert not item.locator("a.trail-link").is_visible()
    summary.click()  # expands the list of repeats
    assert item.locator(".cluster-members li").count() >= 2
    with page.expect_navigation():
        item.locator("a.trail-link").click()
    assert page.url.endswith(f"/quote/{cid}")
    dates = page.locator(".trail .quote-meta time").evaluate_all("els => els.map(e => e.getAttribute('datetime'))")
    assert len(page.locator(".trail .quote-row").all()) >= 2 and dates == sorted(dates)
    # each repeat links to the quote in its article, which the article page marks
    with page.expect_navigation():
        page.locator(".trail .quote-context").first.click()
    anchor = page.url.split("#", 1)[1]
    assert anchor.startswith("q-") and page.locator(f".article-text #{anchor}.quote").count() == 1


def test_speaker_page_paging(page, top_speaker, server):
    from urllib.parse import quote

    page.goto("/speaker/" + quote(top_speaker))
    first = page.locator(".quote-row time").evaluate_all("els => els.map(e => e.getAttribute('datetime'))")
    assert first == sorted(first, reverse=True)
    assert page.locator(".speaker-outlets a").count() >= 1
    assert page.locator(".speaker-alongside a").count() >= 1
    with page.expect_navigation():
        page.locator(".pagination .page-next").click()
    assert "page=2" in page.url
    second = page.locator(".quote-row time").evaluate_all("els => els.map(e => e.getAttribute('datetime'))")
    assert second and second[0] <= first[-1]
    assert page.locator('.pagination [aria-current="page"]').inner_text() == "2"
    # another speaker is one click away
    other = page.locator(".speaker-alongside a").first
    name = other.inner_text()
    with page.expect_navigation():
        other.click()
    assert page.locator("h1").inner_text().endswith(name)


@pytest.mark.parametrize("path", ["/?q=said", "/quotes?q=said", "speaker"])
def test_feed_link_on_each_page(page, server, top_speaker, path):
    import feedparser
    from urllib.parse import quote

    page.goto("/speaker/" + quote(top_speaker) if path == "speaker" else path)
    advertised = page.locator('head link[rel="alternate"][type="application/atom+xml"]').get_attribute("href")
    visible = page.locator("a.feed-link").first
    assert visible.is_visible() and visible.get_attribute("href") == advertised
    resp = page.request.get(server + advertised)
    assert resp.ok and resp.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(resp.body())
    assert not feed.bozo and feed.entries
    assert all(e.link.startswith("http://127.0.0.1:5000/article/") and e.updated_parsed for e in feed.entries)
    again = page.request.get(server + advertised, headers={"If-None-Match": resp.headers["etag"]})
    assert again.status == 304


def test_axe_quote_pages(browser, server, top_speaker):
    row = _spanning_cluster(server)
    assert _axe(browser, server, "/quotes?q=said") == []
    assert _axe(browser, server, f"/quote/{row['cluster']['id']}") == []
