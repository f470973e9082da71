"""Routes: the search page, article and speaker pages, the JSON API and the CSV export."""
from __future__ import annotations

import csv
import dataclasses
import datetime as _dt
import hashlib
import io
import re
from urllib.parse import quote, urlencode

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from markupsafe import Markup
from werkzeug.exceptions import HTTPException

from search.contracts import (DATE_FACET, FACET_KEYS, FACETS, FEED_SORT, PRIVATE_RECORD_FIELDS, QUOTE_FACET_KEYS,
                              QUOTE_FACETS, QUOTE_RESULT_FIELDS, QUOTE_SINGULAR, RESULT_FIELDS, SINGULAR, SORTS,
                              IndexMissing, parse_quote_request, parse_request)

from . import get_searcher
from .charts import histogram_summary, histogram_svg, month_label, month_range
from .feeds import FEED_ENTRIES, absolute, atom, feed_etag
from .marking import mark_text, safe_snippet
from .state import SearchState

bp = Blueprint("web", __name__)

CSV_FIELDS = ("id", "title", "published", "source", "url", "speakers", "persons", "places",
              "organizations")
_YEAR = re.compile(r"^\d{4}$")
_MONTH = re.compile(r"^\d{4}-\d{2}$")


# -- helpers shared by the views -------------------------------------------------------------
def _args() -> dict[str, list[str]]:
    return request.args.to_dict(flat=False)


def _parse(args: dict[str, list[str]], *, for_page: bool, parse=parse_request):
    """parse_request (or parse_quote_request), defensively: bad input becomes messages, never an exception."""
    try:
        req, messages = parse(args, current_app.config["SETTINGS"])
    except Exception:
        current_app.logger.exception("parse_request failed on %r", args)
        req, messages = parse({})
        messages = ["This search could not be understood, so everything is shown instead."]
    messages = [str(m) for m in messages or ()]
    if for_page:
        # The page shows FACET_VISIBLE values and keeps the rest behind "show more".
        fetch = int(current_app.config["FACET_FETCH"])
        if req.facet_size < fetch:
            req = dataclasses.replace(req, facet_size=fetch)
    return req, messages


def _search(req, method: str = "search") -> tuple[dict | None, list[str]]:
    """Run the search (or the quote search); a failure in the search layer is logged and reported, not raised."""
    searcher = get_searcher()
    try:
        res = getattr(searcher, method)(req)
    except IndexMissing:
        raise
    except Exception:
        current_app.logger.exception("search failed for %r", req)
        return None, ["Sorry, this search could not be run. Try simpler words, or remove a filter."]
    # Not to_dict(): the page wants the facets' full {results, truncated} form.
    return {f.name: getattr(res, f.name) for f in dataclasses.fields(res) if f.name != "request"}, []


def _facet_parts(facet: dict | None) -> tuple[list[dict], bool]:
    """(values, truncated) of a facet {results, truncated}; a facet that is absent has neither."""
    if not facet:
        return [], False
    return list(facet.get("results") or []), bool(facet.get("truncated"))


def _empty_result(req) -> dict:
    return {"total": 0, "page": 1, "pages": 0, "page_size": getattr(req, "page_size", 20),
            "took_ms": 0, "messages": [], "results": [], "facets": {}, "histogram": []}


def _wants_partial() -> bool:
    """htmx requests get the fragment, except history restores which need the whole page."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


def fmt_date(value) -> str:
    """'2019-01-04' (or a datetime string) -> '4 Jan 2019'."""
    if not value:
        return ""
    text = str(value)
    try:
        d = _dt.date.fromisoformat(text[:10])
    except ValueError:
        return text
    return f"{d.day} {d.strftime('%b')} {d.year}"


def http_url(value) -> str | None:
    """The URL if it is http(s), else None: a stored javascript: URL must never become a link."""
    text = str(value or "").strip()
    return text if text.lower().startswith(("http://", "https://")) else None


# Double quotation marks only: a trailing apostrophe ("the players'") belongs to the words.
_QUOTE_CHARS = "\"“”«»„ \n\t"


def unquote(text) -> str:
    """A quote's words without the quotation marks around them (the page adds its own)."""
    raw = str(text or "").strip()
    stripped = raw.strip(_QUOTE_CHARS)
    return stripped or raw


def facet_id(facet: str, value: str, kind: str = "inc") -> str:
    """A stable element id for a facet link, so htmx can put keyboard focus back after a swap."""
    digest = hashlib.blake2s(f"{facet}\0{value}".encode(), digest_size=6).hexdigest()
    return f"fv-{kind}-{facet}-{digest}"


def register_template_helpers(app) -> None:
    """Filters and globals the templates use."""
    app.jinja_env.filters["fmt_date"] = fmt_date
    app.jinja_env.filters["month_label"] = month_label
    app.jinja_env.globals["facet_id"] = facet_id
    app.jinja_env.filters["http_url"] = http_url
    app.jinja_env.filters["unquote"] = unquote
    app.jinja_env.globals["SORTS"] = SORTS
    app.jinja_env.globals["SINGULAR"] = SINGULAR
    app.jinja_env.globals["QUOTE_SINGULAR"] = QUOTE_SINGULAR

    app.register_error_handler(IndexMissing, _index_missing)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)


def _is_api() -> bool:
    return request.path.startswith("/api/") or request.path.endswith((".csv", ".atom"))


def _index_missing(exc):
    message = str(exc) or "No index yet - run `newsfacet rebuild` first."
    if _is_api():
        return jsonify({"error": message}), 503
    index_dir = str(current_app.config["INDEX_DIR"])
    command = "newsfacet rebuild" if index_dir in ("index", "index/") else f"newsfacet --index {index_dir} rebuild"
    return render_template("no_index.html", message=message, command=command,
                           q=request.args.get("q", "")), 503


def _http_error(exc: HTTPException):
    if _is_api():
        return jsonify({"error": exc.description, "status": exc.code}), exc.code
    return render_template("error.html", code=exc.code, title=exc.name, message=exc.description), exc.code


def _unexpected_error(exc):
    current_app.logger.exception("unexpected error on %s", request.path)
    if _is_api():
        return jsonify({"error": "internal error"}), 500
    return render_template("error.html", code=500, title="Something went wrong",
                           message="The page could not be shown. Try again, or go back to the search."), 500


# -- view models ---------------------------------------------------------------------------
def _facet_view(key: str, title: str, facet: dict | None, state: SearchState, contains: str = "") -> dict:
    """Facet values with toggle URLs; active values always listed first, even at count 0 (those containing
    `contains`, when the list was asked for them)."""
    results, truncated = _facet_parts(facet)
    seen = set()
    values = []
    for item in results:
        value = str(item.get("value", ""))
        if not value or value in seen:
            continue
        seen.add(value)
        values.append(item | {"value": value})
    for value in state.include.get(key, []) + state.exclude.get(key, []):
        if value not in seen and contains.casefold() in value.casefold():
            seen.add(value)
            values.append({"value": value, "count": 0})
    out = []
    for item in values:
        value = item["value"]
        selected = state.is_included(key, value)
        excluded = state.is_excluded(key, value)
        out.append({
            "value": value,
            "count": item.get("count", 0),
            "selected": selected,
            "excluded": excluded,
            "include_url": state.toggle(key, value),
            "exclude_url": state.toggle_not(key, value),
            "id": facet_id(key, value),
            "not_id": facet_id(key, value, "exc"),
        })
    out.sort(key=lambda v: (not (v["selected"] or v["excluded"]),))
    distinct = facet.get("distinct") if isinstance(facet, dict) else None
    return {"key": key, "title": title, "entries": out, "truncated": truncated,
            "distinct": distinct if isinstance(distinct, int) else None, "failed": _failed(facet),
            "visible": int(current_app.config["FACET_VISIBLE"]),
            "all_url": _with_query(url_for(_FACET_PAGES[state.keys], key=key), state)}


def _failed(facet: dict | None) -> str | None:
    """Why a facet was not counted (it failed, or passed its time limit), or None."""
    return str(facet["failed"]) if facet and facet.get("failed") else None


def _with_query(path: str, state: SearchState) -> str:
    """path with the search state's query string."""
    url = state.url()
    return path + ("?" + url.split("?", 1)[1] if "?" in url else "")


def _date_view(facet: dict | None, state: SearchState) -> dict:
    """Years in order, each with its months when the search layer drills down into it."""
    years: dict[str, dict] = {}
    months: list[dict] = []
    for item in _facet_parts(facet)[0]:
        value = str(item.get("value", ""))
        if _YEAR.match(value):
            lo, hi = f"{value}-01-01", f"{value}-12-31"
            current = state.date_from == lo and state.date_to == hi
            years[value] = {"value": value, "label": value, "count": item.get("count", 0),
                            "selected": current,
                            "url": state.with_dates(None, None) if current else state.with_dates(lo, hi),
                            "months": []}
        elif _MONTH.match(value):
            lo, hi = month_range(value) or (None, None)
            if lo is None:
                continue
            current = state.date_from == lo and state.date_to == hi
            up = (f"{value[:4]}-01-01", f"{value[:4]}-12-31")
            months.append({"value": value, "label": month_label(value), "count": item.get("count", 0),
                           "selected": current,
                           "url": state.with_dates(*up) if current else state.with_dates(lo, hi)})
    for m in sorted(months, key=lambda m: m["value"]):
        year = m["value"][:4]
        if year not in years:
            lo, hi = f"{year}-01-01", f"{year}-12-31"
            current = state.date_from == lo and state.date_to == hi
            years[year] = {"value": year, "label": year, "count": None, "selected": current,
                           "url": state.with_dates(None, None) if current else state.with_dates(lo, hi),
                           "months": []}
        years[year]["months"].append(m)
    return {"years": [years[y] for y in sorted(years)], "from": state.date_from or "",
            "to": state.date_to or "", "failed": _failed(facet)}


def _selected_month(state: SearchState) -> str | None:
    if state.date_from and state.date_to and state.date_from[:7] == state.date_to[:7]:
        rng = month_range(state.date_from[:7])
        if rng == (state.date_from, state.date_to):
            return state.date_from[:7]
    return None


def _chip_list(values, facet: str, state: SearchState, limit: int = 4) -> dict:
    values = [str(v) for v in values or () if v]
    return {
        "facet": facet,
        "shown": [{"value": v, "url": state.toggle(facet, v) if not state.is_included(facet, v) else None,
                   "selected": state.is_included(facet, v)} for v in values[:limit]],
        "more": max(0, len(values) - limit),
    }


# The "all values of a facet" page of each kind of search.
_FACET_PAGES = {FACET_KEYS: "web.facet_values", QUOTE_FACET_KEYS: "web.quote_facet_values"}


def _articles_state(req, args) -> SearchState:
    return SearchState.from_request(req, args, base=url_for("web.search"))


def _quotes_state(req, args) -> SearchState:
    return SearchState.from_request(req, args, base=url_for("web.quotes"), keys=QUOTE_FACET_KEYS,
                                    singular=QUOTE_SINGULAR)


def _tabs(state: SearchState, current: str) -> list[dict]:
    """The Articles and Quotes tabs: the same words, dates and shared filters on the other search."""
    articles = state.elsewhere(url_for("web.search"), FACET_KEYS, SINGULAR)
    quotes = state.elsewhere(url_for("web.quotes"), QUOTE_FACET_KEYS, QUOTE_SINGULAR)
    return [{"key": "articles", "label": "Articles", "url": articles.url(), "current": current == "articles"},
            {"key": "quotes", "label": "Quotes", "url": quotes.url(), "current": current == "quotes"}]


def _feed_url(state: SearchState, path: str) -> str:
    """The feed of a page: path with the page's parameters (no page number: a feed is the newest entries)."""
    pairs = [(k, v) for k, v in state.pairs() if k not in ("sort", "size")]
    return path + ("?" + urlencode(pairs) if pairs else "")


def _result_view(r: dict, state: SearchState) -> dict:
    speakers = set(state.include.get("speaker", []))
    quotes = [q for q in r.get("quotes") or () if isinstance(q, dict) and q.get("speaker") in speakers]
    return {
        "id": str(r.get("id", "")),
        "title": r.get("title") or "(untitled)",
        "published": r.get("published"),
        "source": r.get("source"),
        "url": r.get("url"),
        "snippet": safe_snippet(r.get("snippet")),
        "chips": [
            _chip_list(r.get("speakers"), "speaker", state, limit=3),
            # A speaker is usually also a person: show the name once.
            _chip_list([p for p in r.get("persons") or () if p not in set(r.get("speakers") or ())], "person", state,
                       limit=3),
            _chip_list(r.get("places"), "place", state, limit=3),
            _chip_list(r.get("organizations"), "org", state, limit=2),
        ],
        "speaker_quotes": quotes[:2],
        "more_quotes": max(0, len(quotes) - 2),
    }


def _pagination(page: int, pages: int, url) -> dict | None:
    """Page links around the current page (url(n) is page n's URL), or None for a single page."""
    if pages <= 1:
        return None
    wanted = {1, pages} | set(range(max(1, page - 2), min(pages, page + 2) + 1))
    items, last = [], 0
    for n in sorted(wanted):
        if n - last > 1:
            items.append(None)  # an ellipsis
        items.append({"n": n, "url": url(n), "current": n == page})
        last = n
    return {
        "items": items,
        "prev": url(page - 1) if page > 1 else None,
        "next": url(page + 1) if page < pages else None,
    }


def _search_context(args) -> dict:
    req, messages = _parse(args, for_page=True)
    res, errors = _search(req)
    state = _articles_state(req, args)  # after the search: a variant of a name chose its canonical value in req
    ctx = _listing_context(req, state, res, messages, errors, FACETS, "articles", "web.search_feed",
                           "web.export_csv", "web.api_search")
    speakers = state.include.get("speaker", [])
    ctx["results"] = [_result_view(r, state) for r in ctx["res"].get("results") or ()]
    ctx["speaker_filter"] = speakers
    ctx["speaker_quotes_url"] = (state.elsewhere(url_for("web.quotes"), QUOTE_FACET_KEYS, QUOTE_SINGULAR).url()
                                 if speakers else None)
    return ctx


def _listing_context(req, state: SearchState, res: dict | None, messages: list[str], errors: list[str], facet_specs,
                     noun: str,
                     feed: str, export: str, api: str) -> dict:
    """What a page of results shows around its rows, for article search and quote search alike."""
    failed = res is None
    if failed:
        res = _empty_result(req) | {"quotes": 0}
    messages = list(dict.fromkeys(messages + [str(m) for m in res.get("messages") or ()] + errors))
    facets = res.get("facets") or {}
    page = int(res.get("page") or 1)
    pages = int(res.get("pages") or 0)
    sort = getattr(req, "sort", None) or "relevance"
    if not state.q and sort == "relevance":
        sort = "newest"  # without words to rank by, "relevance" means newest first
    hist = res.get("histogram") or []
    return {
        "state": state,
        "q": state.q,
        "res": res,
        "failed": failed,
        "messages": messages,
        "tabs": _tabs(state, noun),
        "feed_url": _feed_url(state, url_for(feed)),
        "facets": [_facet_view(f.key, f.label, facets.get(f.key), state) for f in facet_specs],
        "date": _date_view(facets.get(DATE_FACET), state),
        "chips": state.chips(),
        "sort": sort,
        "sort_links": [{"value": v, "label": label, "url": state.with_sort(v), "current": v == sort}
                       for v, label in SORTS if state.q or v != "relevance"],
        "histogram": histogram_svg(hist, href=lambda m: state.with_dates(*month_range(m)),
                                   selected=_selected_month(state), htmx=True, noun=noun),
        "histogram_summary": histogram_summary(hist, noun=noun),
        "pagination": _pagination(page, pages, lambda n: state.url(page=n)),
        "page": page,
        "pages": pages,
        "export_url": _with_query(url_for(export), state),
        "api_url": _with_query(url_for(api), state),
    }


# -- routes ----------------------------------------------------------------------------------
@bp.route("/")
def search():
    """The search page; htmx requests get just the results fragment."""
    ctx = _search_context(_args())
    template = "_results.html" if _wants_partial() else "search.html"
    status = 400 if ctx["failed"] else 200
    return render_template(template, **ctx), status


FACET_TITLES = {f.key: f.label for f in FACETS}
QUOTE_FACET_TITLES = {f.key: f.label for f in QUOTE_FACETS}
FILTER_MATCHES_SHOWN = 50


@bp.route("/facet/<key>")
def facet_values(key: str):
    """Every value of one facet under the current search, optionally those containing some text.

    htmx requests (the sidebar's filter box) get the list alone; otherwise a full page that
    works without JavaScript.
    """
    return _facet_values(key, FACET_TITLES, parse_request, _articles_state, "facet")


@bp.route("/quotes/facet/<key>")
def quote_facet_values(key: str):
    """Every value of one quote facet under the current quote search (as facet_values)."""
    return _facet_values(key, QUOTE_FACET_TITLES, parse_quote_request, _quotes_state, "quote_facet")


def _facet_values(key: str, titles: dict, parse, make_state, method: str):
    if key not in titles:
        abort(404, description=f"There is no facet called “{key}”.")
    args = _args()
    contains = " ".join(((args.pop("contains", None) or [""])[0]).split())[:100]
    req, messages = _parse(args, for_page=False, parse=parse)
    try:
        # This facet alone, its values filtered by the text in the search layer (a keystroke in the filter box
        # used to count every facet at FACET_ALL values).
        one = getattr(get_searcher(), method)(req, key, int(current_app.config["FACET_ALL"]),
                                              contains=contains or None)
        errors: list[str] = []
    except IndexMissing:
        raise
    except Exception:
        current_app.logger.exception("facet %s failed for %r", key, req)
        one = {"total": 0, "facet": None, "messages": []}
        errors = ["Sorry, this list could not be made. Try again, or remove a filter."]
    state = make_state(req, args)  # after the count: chosen variants are canonical values in req
    f = _facet_view(key, titles[key], one["facet"], state, contains=contains)
    ctx = {"f": f, "entries": f["entries"], "contains": contains, "state": state, "res": {"total": one["total"]},
           "messages": messages + [str(m) for m in one.get("messages") or ()] + errors,
           "shown": FILTER_MATCHES_SHOWN, "all_url": f["all_url"], "back_url": state.url()}
    if _wants_partial():
        return render_template("_facet_list.html", **ctx)
    return render_template("facet.html", q=state.q, **ctx)


@bp.route("/api/search")
def api_search():
    """The search page's JSON twin."""
    req, messages = _parse(_args(), for_page=False)
    res, errors = _search(req)
    failed = res is None
    if failed:
        res = _empty_result(req)
    payload = {
        "total": res.get("total", 0),
        "page": res.get("page", 1),
        "pages": res.get("pages", 0),
        "page_size": res.get("page_size"),
        "took_ms": res.get("took_ms"),
        "messages": list(dict.fromkeys(messages + [str(m) for m in res.get("messages") or ()] + errors)),
        "results": [{k: (str(r.get(k)) if k == "snippet" and r.get(k) is not None else r.get(k))
                     for k in RESULT_FIELDS} for r in res.get("results") or ()],
        **_api_facets(res, FACET_KEYS),
    }
    return jsonify(payload), (400 if failed else 200)


def _api_facets(res: dict, keys: tuple) -> dict:
    """The facets, their truncation flags and the histogram of a result, as the JSON APIs give them."""
    facets = res.get("facets") or {}
    return {
        "facets": {
            key: [
                {"value": v.get("value"), "count": v.get("count", 0), "selected": bool(v.get("selected")),
                 **({"excluded": bool(v.get("excluded"))} if key != "date" else {})}
                for v in _facet_parts(facets.get(key))[0]
            ]
            for key in (*keys, DATE_FACET)
        },
        "facets_truncated": {key: _facet_parts(facets.get(key))[1] for key in (*keys, DATE_FACET)},
        # A facet that failed or passed its time limit is empty above; here is why (Datasette's facets do this).
        "facets_failed": {key: _failed(facets.get(key)) for key in (*keys, DATE_FACET) if _failed(facets.get(key))},
        "histogram": [{"month": h.get("month"), "count": h.get("count", 0)} for h in res.get("histogram") or ()],
    }


def _lookup_article(article_id: str):
    # The id is only ever a lookup key in the index, never part of a file path.
    if len(article_id) > 1000:
        return None
    return get_searcher().article(article_id)


@bp.route("/api/articles/<path:article_id>")
def api_article(article_id: str):
    """One enriched record as JSON."""
    record = _lookup_article(article_id)
    if record is None:
        return jsonify({"error": f"No article with id {article_id!r}"}), 404
    return jsonify({k: v for k, v in record.items() if k not in PRIVATE_RECORD_FIELDS})


@bp.route("/article/<path:article_id>")
def article(article_id: str):
    """An article with its people, places, organisations, dates and quotes marked."""
    record = _lookup_article(article_id)
    if record is None:
        abort(404, description=f"There is no article with the id “{article_id}”. It may have been removed "
                               "from the index.")
    body = mark_text(record.get("text") or "", record.get("entities"), record.get("date_mentions"),
                     record.get("quotes"))
    state = SearchState(base=url_for("web.search"))
    quotes = [q for q in record.get("quotes") or () if isinstance(q, dict) and q.get("text")]
    lists = [{"key": f.key, "title": f.label, "values": record.get(f.record_key) or []} for f in FACETS]
    dates = sorted({str(d)[:10] for d in record.get("dates") or () if d})
    return render_template("article.html", a=record, body=body, quotes=quotes, lists=lists, dates=dates,
                           state=state)


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        value = "; ".join(str(v) for v in value if v is not None)
    text = str(value)
    # Spreadsheets run cells starting with these as formulas: keep them text.
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        text = "'" + text
    return text


@bp.route("/export.csv")
def export_csv():
    """The articles matching the search, streamed as CSV, at most Settings.export_max_rows of them."""
    req, _ = _parse(_args(), for_page=False)
    return _csv_response(req, "newsfacet-export.csv", CSV_FIELDS, "iter_matching", noun="articles")


def _csv_response(req, filename: str, columns, method: str, row=lambda r: r, noun: str = "quotes"):
    """Stream `method`'s rows as a CSV attachment, at most Settings.export_max_rows of them."""
    settings = current_app.config["SETTINGS"]
    cap = int(settings.export_max_rows)
    # Its own searcher, not the per-request one: the stream outlives the request's teardown.
    # Opened now, so a missing index is a clear 503 and not a broken stream.
    cm = current_app.config["OPEN_SEARCHER"](settings)
    searcher = cm.__enter__()
    closed = []
    logger = current_app.logger

    def close() -> None:
        if not closed:
            closed.append(True)
            cm.__exit__(None, None, None)

    def rows():
        try:
            yield from _csv_rows(records, cap, logger, columns, row, noun)
        finally:
            close()  # the stream ran to its end, or was closed while running

    try:
        # called now: an index without quotes is a clear 503 too; one row more tells whether the cap cut it
        records = getattr(searcher, method)(req, limit=cap + 1)
        response = Response(rows(), mimetype="text/csv",
                            headers={"Content-Disposition": f'attachment; filename="{filename}"'})
        # And when the server is done with the response though the stream never started (a client gone before
        # the first byte): a generator that never ran has no `finally` to run.
        response.call_on_close(close)
    except BaseException:
        close()
        raise
    return response


def _csv_rows(records, cap: int, logger, columns=CSV_FIELDS, row=lambda r: r, noun: str = "articles"):
    """The CSV export, one encoded line at a time; past `cap` rows, a last line saying the file was cut."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(columns)
    yield buf.getvalue()
    rows = 0
    try:
        for record in records:
            if rows == cap:
                yield (f"# export stopped at {cap:,} rows, the export cap (NEWSFACET_EXPORT_MAX_ROWS): more {noun} "
                       f"match; narrow the search, or raise the cap\r\n")
                return
            record = row(record)
            buf.seek(0)
            buf.truncate()
            writer.writerow([_csv_cell(record.get(f)) for f in columns])
            rows += 1
            yield buf.getvalue()
    except Exception:
        logger.exception("CSV export stopped early")
        yield "# export stopped early: an error occurred\r\n"


# -- quotes ------------------------------------------------------------------------------------------
QUOTE_CSV_FIELDS = ("id", "text", "speaker", "speaker_text", "kind", "verb", "start", "end", "position", "article_id",
                    "title", "published", "source", "url", "cluster", "indexed")


def context_url(article_id, start) -> str:
    """The article page scrolled to a quote (the page marks each quote with the anchor q-<start>)."""
    url = url_for("web.article", article_id=str(article_id))
    return url + (f"#q-{int(start)}" if isinstance(start, int) else "")


def _cluster_view(c: dict | None) -> dict | None:
    if not c or not c.get("articles"):
        return None
    members = [{"source": m.get("source"), "published": m.get("published"),
                "url": url_for("web.article", article_id=str(m.get("article_id")))} for m in c.get("members") or ()]
    return {"id": c["id"], "url": url_for("web.quote_trail", cluster_id=c["id"]), "quotes": c.get("quotes", 0),
            "articles": c.get("articles", 0), "outlets": c.get("outlets", 0),
            "first": members[0] if members else None, "members": members, "more": c.get("more", 0)}


def _quote_view(r: dict, state: SearchState | None = None) -> dict:
    """A quote row for the templates: the quote, who, where it stands, and its cluster."""
    art = r.get("article") or {}
    speaker = r.get("speaker")
    return {
        "id": r.get("id"), "snippet": safe_snippet(r.get("snippet")), "text": r.get("text") or "",
        "speaker": speaker, "speaker_text": r.get("speaker_text"), "kind": r.get("kind"),
        "speaker_url": url_for("web.speaker", name=speaker) if speaker else None,
        "filter_url": (state.toggle("speaker", speaker) if state is not None and speaker
                       and not state.is_included("speaker", speaker) and "speaker" in state.keys else None),
        "article": {"id": art.get("id"), "title": art.get("title") or "(untitled)", "published": art.get("published"),
                    "source": art.get("source"), "url": url_for("web.article", article_id=str(art.get("id")))},
        "context_url": context_url(art.get("id"), r.get("start")),
        "cluster": _cluster_view(r.get("cluster")),
    }


def _quote_search_context(args) -> dict:
    req, messages = _parse(args, for_page=True, parse=parse_quote_request)
    res, errors = _search(req, "quotes")
    state = _quotes_state(req, args)  # after the search, as the article search's
    ctx = _listing_context(req, state, res, messages, errors, QUOTE_FACETS, "quotes", "web.quotes_feed",
                           "web.quotes_csv", "web.api_quotes")
    ctx["results"] = [_quote_view(r, state) for r in ctx["res"].get("results") or ()]
    return ctx


@bp.route("/quotes")
def quotes():
    """Quote search: what was said, by whom, where it first appeared; htmx requests get the results fragment."""
    ctx = _quote_search_context(_args())
    template = "_quote_results.html" if _wants_partial() else "quotes.html"
    return render_template(template, **ctx), (400 if ctx["failed"] else 200)


@bp.route("/api/quotes")
def api_quotes():
    """The quote search page's JSON twin."""
    req, messages = _parse(_args(), for_page=False, parse=parse_quote_request)
    res, errors = _search(req, "quotes")
    failed = res is None
    if failed:
        res = _empty_result(req) | {"quotes": 0}
    payload = {
        "total": res.get("total", 0), "quotes": res.get("quotes", 0), "page": res.get("page", 1),
        "pages": res.get("pages", 0), "page_size": res.get("page_size"), "took_ms": res.get("took_ms"),
        "messages": list(dict.fromkeys(messages + [str(m) for m in res.get("messages") or ()] + errors)),
        "results": [_quote_json(r) for r in res.get("results") or ()],
        **_api_facets(res, QUOTE_FACET_KEYS),
    }
    return jsonify(payload), (400 if failed else 200)


def _quote_json(r: dict) -> dict:
    out = {k: (str(r.get(k)) if k == "snippet" and r.get(k) is not None else r.get(k)) for k in QUOTE_RESULT_FIELDS}
    out["context_url"] = context_url((r.get("article") or {}).get("id"), r.get("start"))
    return out


def _quote_csv_row(r: dict) -> dict:
    art = r.get("article") or {}
    return {**r, "article_id": art.get("id"), "title": art.get("title"), "published": art.get("published"),
            "source": art.get("source"), "url": art.get("url"), "cluster": (r.get("cluster") or {}).get("id")}


@bp.route("/quotes.csv")
def quotes_csv():
    """Every quote matching the quote search (one row per quote, with its cluster id), streamed as CSV."""
    req, _ = _parse(_args(), for_page=False, parse=parse_quote_request)
    return _csv_response(req, "newsfacet-quotes.csv", QUOTE_CSV_FIELDS, "iter_quotes", _quote_csv_row)


def _trail(cluster_id: str, endpoint: str):
    """(the cluster's trail or None, a 301 to where a merged cluster lives now or None)."""
    trail = get_searcher().quote_cluster(cluster_id) if len(cluster_id) <= 100 else None
    if trail and trail.get("redirect"):
        return None, redirect(url_for(endpoint, cluster_id=trail["redirect"]), code=301)
    return trail, None


@bp.route("/quote/<cluster_id>")
def quote_trail(cluster_id: str):
    """Where a quote came from: every article that reported it, earliest first."""
    trail, moved = _trail(cluster_id, "web.quote_trail")
    if moved:
        return moved
    if not trail:
        abort(404, description=f"There is no quote cluster “{cluster_id}”: the articles that repeated it may have "
                               "been removed from the index.")
    rows = [_quote_view(r) for r in trail.get("trail") or ()]
    speakers = sorted({r["speaker"] for r in rows if r["speaker"]})
    return render_template("trail.html", trail=trail, rows=rows, speakers=speakers,
                           first=rows[0] if rows else None)


@bp.route("/api/quote/<cluster_id>")
def api_quote_trail(cluster_id: str):
    """A cluster's trail as JSON (a merged cluster's old id answers 301 to its new one)."""
    trail, moved = _trail(cluster_id, "web.api_quote_trail")
    if moved:
        return moved
    if not trail:
        return jsonify({"error": f"No quote cluster {cluster_id!r}"}), 404
    return jsonify({**{k: v for k, v in trail.items() if k != "trail"},
                    "trail": [_quote_json(r) for r in trail.get("trail") or ()]})


# -- speakers ----------------------------------------------------------------------------------------
def _speaker_args() -> tuple[str, int, str | None, list[str]]:
    args = _args()
    messages: list[str] = []
    q = " ".join(((args.get("q") or [""])[0]).split())[:1000]
    raw = (args.get("page") or ["1"])[0]
    try:
        page = max(1, min(int(raw), 10_000))
    except ValueError:
        messages.append(f"Ignored page={raw[:20]!r}: not a whole number.")
        page = 1
    sort = (args.get("sort") or [None])[0]
    if sort not in (None, *[k for k, _ in SORTS]):
        messages.append(f"Unknown sort {sort[:20]!r}; use relevance, newest or oldest.")
        sort = None
    return q, page, sort, messages


@bp.route("/speaker/<path:name>")
def speaker(name: str):
    """A speaker's quotes (paged, newest first or by relevance to a query), per month, the outlets quoting them
    most, and who is quoted alongside them."""
    if name.endswith("/feed.atom"):
        return speaker_feed(name[: -len("/feed.atom")])
    q, page, sort, messages = _speaker_args()
    data = get_searcher().speaker(name, q=q, page=page, sort=sort) if len(name) <= 500 else None
    if not data or (not data.get("quotes_total") and not q):
        abort(404, description=f"No quotes by “{name}” were found in the index.")
    name = data.get("name") or name
    base = url_for("web.speaker", name=name)

    def page_url(p: int | None = None, **change) -> str:
        pairs = [("q", q)] if q else []
        if sort and "sort" not in change:
            pairs.append(("sort", sort))
        pairs += [(k, v) for k, v in change.items() if v]
        if p and p > 1:
            pairs.append(("page", str(p)))
        return base + ("?" + urlencode(pairs) if pairs else "")

    hist = data.get("histogram") or []
    quotes_state = SearchState(base=url_for("web.quotes"), keys=QUOTE_FACET_KEYS, singular=QUOTE_SINGULAR,
                               include={"speaker": [name]})
    chart = histogram_svg(hist, href=lambda m: quotes_state.with_dates(*month_range(m)), noun="quotes")
    pagination = _pagination(int(data.get("page") or 1), int(data.get("pages") or 1), page_url)
    sort_now = data.get("sort") or "newest"
    feed_pairs = [("q", q)] if q else []
    return render_template(
        "speaker.html", name=name, data=data, q=q, messages=messages + list(data.get("messages") or ()),
        rows=[_quote_view(r) for r in data.get("quotes") or ()], chart=chart,
        chart_summary=histogram_summary(hist, noun="quotes"), pagination=pagination,
        sort_links=[{"label": label, "url": page_url(sort=v), "current": v == sort_now}
                    for v, label in SORTS if q or v != "relevance"],
        outlets=[{**o, "url": quotes_state.toggle("source", o["value"])} for o in data.get("outlets") or ()],
        alongside=[{**o, "url": url_for("web.speaker", name=o["value"])} for o in data.get("alongside") or ()],
        search_url=SearchState(base=url_for("web.search")).url([("speaker", name)]),
        quotes_url=quotes_state.url(),
        feed_url=base + "/feed.atom" + ("?" + urlencode(feed_pairs) if feed_pairs else ""),
        form_action=base,
    )


# -- feeds -------------------------------------------------------------------------------------------
def _base_url() -> str:
    return str(getattr(current_app.config["SETTINGS"], "base_url", "") or "http://127.0.0.1:5000/")


def _feed_response(title: str, subtitle: str, page_url: str, entries_of):
    """An Atom feed for this request, or 304 when the client holds this very feed (same index, same URL)."""
    searcher = get_searcher()
    base = _base_url()
    # the path as it was asked for (quoted), not request.path (decoded: "/speaker/Ada Ng/feed.atom")
    query = quote(request.query_string.decode("latin-1"), safe="=&+%;,/:@")
    path = quote(request.path) + ("?" + query if query else "")
    etag = feed_etag(str(getattr(searcher, "version", "")), base, path)
    if request.if_none_match.contains(etag):
        resp = Response(status=304)
        resp.set_etag(etag)
        return resp
    body = atom(absolute(base, path), title, absolute(base, path), absolute(base, page_url), subtitle,
                entries_of(base))
    resp = Response(body, mimetype="application/atom+xml")
    resp.set_etag(etag)
    resp.headers["Cache-Control"] = "no-cache"
    return resp


def _feed_request(parse):
    req, messages = _parse(_args(), for_page=False, parse=parse)
    return dataclasses.replace(req, sort=FEED_SORT, page=1, page_size=FEED_ENTRIES, facet_size=1), messages


def _article_entries(res: dict, base: str) -> list[dict]:
    out = []
    for r in res.get("results") or ():
        link = absolute(base, url_for("web.article", article_id=str(r.get("id"))))
        bits = [b for b in (r.get("source"), fmt_date(r.get("published"))) if b]
        summary = " ".join(html_text(r.get("snippet")).split())
        out.append({"id": link, "title": r.get("title") or "(untitled)", "link": link,
                    "indexed": r.get("indexed") or r.get("published"), "summary": (" · ".join(bits) + " — " if bits else "") + summary,
                    "categories": list(r.get("speakers") or ())[:5]})
    return out


def _quote_entries(res: dict, base: str) -> list[dict]:
    out = []
    for r in res.get("results") or ():
        art = r.get("article") or {}
        link = absolute(base, context_url(art.get("id"), r.get("start")))
        who = r.get("speaker") or r.get("speaker_text") or "Unknown speaker"
        text = unquote(r.get("text"))
        where = " · ".join(b for b in (art.get("source"), fmt_date(art.get("published")), art.get("title")) if b)
        summary = f"“{text}” — {who}. {where}."
        c = r.get("cluster") or {}
        if c.get("articles"):
            first = c.get("first") or {}
            summary += (f" First appeared {fmt_date(first.get('published')) or 'undated'} in "
                        f"{first.get('source') or 'an unnamed source'}; repeated in {c['articles']} article"
                        f"{'' if c['articles'] == 1 else 's'} by {c['outlets']} outlet{'' if c['outlets'] == 1 else 's'}"
                        f": {absolute(base, url_for('web.quote_trail', cluster_id=c['id']))}")
        short = text if len(text) <= 90 else text[:90].rsplit(" ", 1)[0] + " …"
        out.append({"id": link, "title": f"{who}: “{short}”", "link": link,
                    "indexed": r.get("indexed") or art.get("published"), "summary": summary, "author": who, "categories": [who] if r.get("speaker") else []})
    return out


@bp.route("/feed.atom")
def search_feed():
    """The Atom feed of an article search: the articles newsfacet indexed most recently first."""
    req, _ = _feed_request(parse_request)
    res, _ = _search(req)
    state = _articles_state(req, _args())
    if res is None:
        abort(500, description="This feed could not be made; try again, or simplify the search.")
    title = f"newsfacet: articles for “{req.q}”" if req.q else "newsfacet: articles"
    return _feed_response(title, _state_summary(state), state.url(), lambda base: _article_entries(res or {}, base))


@bp.route("/quotes/feed.atom")
def quotes_feed():
    """The Atom feed of a quote search: the quotes newsfacet indexed most recently first."""
    req, _ = _feed_request(parse_quote_request)
    res, _ = _search(req, "quotes")
    state = _quotes_state(req, _args())
    if res is None:
        abort(500, description="This feed could not be made; try again, or simplify the search.")
    title = f"newsfacet: quotes for “{req.q}”" if req.q else "newsfacet: quotes"
    return _feed_response(title, _state_summary(state), state.url(), lambda base: _quote_entries(res or {}, base))


def speaker_feed(name: str):
    """The Atom feed of a speaker page (with its query): their quotes newsfacet indexed most recently first."""
    q, _, _, _ = _speaker_args()
    data = get_searcher().speaker(name, q=q, page=1, page_size=FEED_ENTRIES, sort=FEED_SORT) \
        if len(name) <= 500 else None
    if not data or not data.get("quotes_total") and not q:
        abort(404, description=f"No quotes by “{name}” were found in the index.")
    name = data.get("name") or name  # a variant's feed is its canonical name's, as its page is
    page = url_for("web.speaker", name=name) + ("?" + urlencode([("q", q)]) if q else "")
    title = f"newsfacet: quotes by {name}" + (f" about “{q}”" if q else "")
    return _feed_response(title, title, page, lambda base: _quote_entries({"results": data.get("quotes")}, base))


def _state_summary(state: SearchState) -> str:
    """What a feed follows, in words: the query and the filters."""
    parts = [f"“{state.q}”"] if state.q else []
    parts += [f"{'not ' if c['excluded'] else ''}{c['label'].lower()} {c['value']}" for c in state.chips()]
    return "Newest first by when newsfacet indexed them" + (": " + ", ".join(parts) if parts else "") + "."


def html_text(snippet) -> str:
    """A snippet's text without its <mark> tags and entities (feeds carry plain text)."""
    import html as _html

    return _html.unescape(re.sub(r"</?mark[^>]*>", "", str(snippet or "")))


@bp.app_template_global()
def search_url(**params) -> str:
    """URL of a search for the given parameters (lists repeat the parameter)."""
    pairs = []
    for key, value in params.items():
        if value is None:
            continue
        for v in value if isinstance(value, (list, tuple)) else [value]:
            pairs.append((key, v))
    return SearchState(base=url_for("web.search")).url(pairs)


@bp.app_template_filter("markup_join")
def markup_join(items, sep=", ") -> Markup:
    """Join already-safe fragments."""
    return Markup(sep).join(items)
