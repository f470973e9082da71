"""Routes: the search page, article and speaker pages, the JSON API and the CSV export."""
from __future__ import annotations

import csv
import dataclasses
import datetime as _dt
import hashlib
import io
import re

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    render_template,
    request,
    url_for,
)
from markupsafe import Markup
from werkzeug.exceptions import HTTPException

from search.contracts import (DATE_FACET, FACET_KEYS, FACETS, PRIVATE_RECORD_FIELDS, RESULT_FIELDS, SINGULAR, SORTS,
                              IndexMissing, parse_request)

from . import get_searcher
from .charts import histogram_summary, histogram_svg, month_label, month_range
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


def _parse(args: dict[str, list[str]], *, for_page: bool):
    """parse_request, defensively: bad input becomes messages, never an exception."""
    try:
        req, messages = parse_request(args)
    except Exception:
        current_app.logger.exception("parse_request failed on %r", args)
        req, messages = parse_request({})
        messages = ["This search could not be understood, so all articles are shown instead."]
    messages = [str(m) for m in messages or ()]
    if for_page:
        # The page shows FACET_VISIBLE values and keeps the rest behind "show more".
        fetch = int(current_app.config["FACET_FETCH"])
        if req.facet_size < fetch:
            req = dataclasses.replace(req, facet_size=fetch)
    return req, messages


def _search(req) -> tuple[dict | None, list[str]]:
    """Run the search; a failure in the search layer is logged and reported, not raised."""
    searcher = get_searcher()
    try:
        res = searcher.search(req)
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

    app.register_error_handler(IndexMissing, _index_missing)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)


def _is_api() -> bool:
    return request.path.startswith("/api/") or request.path.endswith(".csv")


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
            "all_url": _with_query(url_for("web.facet_values", key=key), state)}


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


def _pagination(page: int, pages: int, url_of) -> dict | None:
    """Page links around the current page (url_of(n) is page n's URL), or None for a single page."""
    if pages <= 1:
        return None
    wanted = {1, pages} | set(range(max(1, page - 2), min(pages, page + 2) + 1))
    items, last = [], 0
    for n in sorted(wanted):
        if n - last > 1:
            items.append(None)  # an ellipsis
        items.append({"n": n, "url": url_of(n), "current": n == page})
        last = n
    return {
        "items": items,
        "prev": url_of(page - 1) if page > 1 else None,
        "next": url_of(page + 1) if page < pages else None,
    }


def _search_context(args) -> dict:
    req, messages = _parse(args, for_page=True)
    state = SearchState.from_request(req, args, base=url_for("web.search"))
    res, errors = _search(req)
    failed = res is None
    if failed:
        res = _empty_result(req)
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
        "results": [_result_view(r, state) for r in res.get("results") or ()],
        "facets": [_facet_view(f.key, f.label, facets.get(f.key), state) for f in FACETS],
        "date": _date_view(facets.get(DATE_FACET), state),
        "chips": state.chips(),
        "sort": sort,
        "sort_links": [{"value": v, "label": label, "url": state.with_sort(v), "current": v == sort}
                       for v, label in SORTS if state.q or v != "relevance"],
        "histogram": histogram_svg(hist, href=lambda m: state.with_dates(*month_range(m)),
                                   selected=_selected_month(state), htmx=True),
        "histogram_summary": histogram_summary(hist),
        "pagination": _pagination(page, pages, lambda n: state.url(page=n)),
        "page": page,
        "pages": pages,
        "speaker_filter": state.include.get("speaker", []),
        "export_url": _with_query(url_for("web.export_csv"), state),
        "api_url": _with_query(url_for("web.api_search"), state),
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
FILTER_MATCHES_SHOWN = 50


@bp.route("/facet/<key>")
def facet_values(key: str):
    """Every value of one facet under the current search, optionally those containing some text.

    htmx requests (the sidebar's filter box) get the list alone; otherwise a full page that
    works without JavaScript.
    """
    if key not in FACET_KEYS:
        abort(404, description=f"There is no facet called “{key}”.")
    args = _args()
    contains = " ".join(((args.pop("contains", None) or [""])[0]).split())[:100]
    req, messages = _parse(args, for_page=False)
    state = SearchState.from_request(req, args, base=url_for("web.search"))
    try:
        # This facet alone, its values filtered by the text in the search layer (a keystroke in the filter box
        # used to count every facet at FACET_ALL values).
        one = get_searcher().facet(req, key, int(current_app.config["FACET_ALL"]), contains=contains or None)
        errors: list[str] = []
    except IndexMissing:
        raise
    except Exception:
        current_app.logger.exception("facet %s failed for %r", key, req)
        one = {"total": 0, "facet": None, "messages": []}
        errors = ["Sorry, this list could not be made. Try again, or remove a filter."]
    f = _facet_view(key, FACET_TITLES[key], one["facet"], state, contains=contains)
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
    facets = res.get("facets") or {}
    payload = {
        "total": res.get("total", 0),
        "page": res.get("page", 1),
        "pages": res.get("pages", 0),
        "page_size": res.get("page_size"),
        "took_ms": res.get("took_ms"),
        "messages": list(dict.fromkeys(messages + [str(m) for m in res.get("messages") or ()] + errors)),
        "results": [{k: (str(r.get(k)) if k == "snippet" and r.get(k) is not None else r.get(k))
                     for k in RESULT_FIELDS} for r in res.get("results") or ()],
        "facets": {
            key: [
                {"value": v.get("value"), "count": v.get("count", 0), "selected": bool(v.get("selected")),
                 **({"excluded": bool(v.get("excluded"))} if key != "date" else {})}
                for v in _facet_parts(facets.get(key))[0]
            ]
            for key in (*FACET_KEYS, DATE_FACET)
        },
        "facets_truncated": {key: _facet_parts(facets.get(key))[1]
                             for key in (*FACET_KEYS, DATE_FACET)},
        # A facet that failed or passed its time limit is empty above; here is why (Datasette's facets do this).
        "facets_failed": {key: _failed(facets.get(key)) for key in (*FACET_KEYS, DATE_FACET)
                          if _failed(facets.get(key))},
        "histogram": [{"month": h.get("month"), "count": h.get("count", 0)} for h in res.get("histogram") or ()],
    }
    return jsonify(payload), (400 if failed else 200)


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


@bp.route("/speaker/<path:name>")
def speaker(name: str):
    """One speaker's quotes, a page of articles at a time (newest first), with articles quoting them by month."""
    page = max(1, request.args.get("page", default=1, type=int) or 1)
    data = get_searcher().speaker(name, page=page) if len(name) <= 500 else None
    if not data or not data.get("total"):
        abort(404, description=f"No quotes by “{name}” were found in the index.")
    name = data.get("name") or name
    quotes = list(data.get("quotes") or [])
    state = SearchState(base=url_for("web.search"))
    hist = data.get("histogram") or []
    chart = histogram_svg(hist, href=lambda m: state.url([("speaker", name), ("from", month_range(m)[0]),
                                                         ("to", month_range(m)[1])]), noun="articles")
    # Consecutive quotes from one article under one heading (the searcher keeps them together).
    groups: list[dict] = []
    for q in quotes:
        art = q.get("article") or {}
        if groups and groups[-1]["article"].get("id") == art.get("id"):
            groups[-1]["quotes"].append(q)
        else:
            groups.append({"article": art, "quotes": [q]})
    pages = int(data.get("pages") or 1)
    return render_template("speaker.html", name=name, quotes=quotes, groups=groups, chart=chart,
                           chart_summary=histogram_summary(hist, noun="articles"), total=int(data["total"]),
                           page=int(data.get("page") or 1), pages=pages,
                           pagination=_pagination(int(data.get("page") or 1), pages,
                                                  lambda n: url_for("web.speaker", name=name, page=n)),
                           search_url=state.url([("speaker", name)]))


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
    settings = current_app.config["SETTINGS"]
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
            yield from _csv_rows(searcher, req, int(settings.export_max_rows), logger)
        finally:
            close()  # the stream ran to its end, or was closed while running

    try:
        response = Response(rows(), mimetype="text/csv",
                            headers={"Content-Disposition": 'attachment; filename="newsfacet-export.csv"'})
        # And when the server is done with the response though the stream never started (a client gone before
        # the first byte): a generator that never ran has no `finally` to run.
        response.call_on_close(close)
    except BaseException:
        close()
        raise
    return response


def _csv_rows(searcher, req, cap: int, logger):
    """The CSV export, one encoded line at a time; past `cap` rows, a last line saying the file was cut."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(CSV_FIELDS)
    yield buf.getvalue()
    rows = 0
    try:
        for record in searcher.iter_matching(req, limit=cap + 1):  # one more tells whether the cap cut it
            if rows == cap:
                yield (f"# export stopped at {cap:,} rows, the export cap (NEWSFACET_EXPORT_MAX_ROWS): more articles "
                       f"match; narrow the search, or raise the cap\r\n")
                return
            buf.seek(0)
            buf.truncate()
            writer.writerow([_csv_cell(record.get(f)) for f in CSV_FIELDS])
            rows += 1
            yield buf.getvalue()
    except Exception:
        logger.exception("CSV export stopped early")
        yield "# export stopped early: an error occurred\r\n"


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
