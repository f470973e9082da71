"""The newsfacet command line: a thin layer over search.indexer, search.enrich and search.query."""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import click

from search.config import load_settings

DEFAULT_PATHS = ("seeds",)


def _settings(ctx, **overrides):
    base = dict(ctx.obj or {})
    base.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return load_settings(**base)
    except SystemExit as exc:
        raise click.UsageError(str(exc)) from None


def _progress(label: str, quiet: bool):
    """A tqdm progress bar on stderr (articles/s and ETA), or None when quiet."""
    if quiet:
        return None
    from tqdm import tqdm

    tty = sys.stderr.isatty()
    # Shown in logs too (CI, nohup), but updated less often there so the log stays readable.
    return tqdm(total=0, desc=label, unit="article", file=sys.stderr, dynamic_ncols=tty,
                mininterval=0.5 if tty else 10.0, disable=False)


def _print_report(report, as_json: bool, verb: str) -> None:
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
        return
    parts = [f"{verb} {report.indexed} article{'s' if report.indexed != 1 else ''}"]
    if report.unchanged:
        parts.append(f"{report.unchanged} unchanged")
    if report.removed:
        parts.append(f"{report.removed} removed")
    parts.append(f"{len(report.skipped)} skipped")
    click.echo(", ".join(parts) + f" in {report.seconds:.1f}s "
               f"(spaCy ran on {report.analysed}, {report.cached} from cache; index has {report.total_documents}).")
    for w in report.warnings:
        click.echo(f"  warning: {w.where()}: {w.reason}", err=True)
    for s in report.skipped:
        click.echo(f"  skipped: {s.where()}: {s.reason}", err=True)


def _exit_status(report, strict: bool) -> int:
    if report.indexed == 0 and report.unchanged == 0 and report.removed == 0:
        return 1
    if strict and report.skipped:
        return 1
    return 0


def _backend(settings):
    from search.backend import BackendError, get_backend

    try:
        return get_backend(settings)
    except BackendError as exc:
        raise click.UsageError(str(exc)) from None


def _describe(settings) -> str:
    """Where a non-embedded backend keeps the index, without credentials."""
    from search.opensearch.connection import describe

    return describe(settings)


def _index_command(name, verb, ctx, paths, workers, model, aliases, max_chars, scheduler, dask_config, strict, wait,
                   as_json, quiet):
    from search.articles import ReaderUnavailable
    from search.cluster import ClusterError
    from search.enrich import PipelineError
    from search.entities import load_aliases  # noqa: F401  (fail early on a broken install)
    from search.contracts import IndexMissing
    from search.indexer import AliasFileError, IndexBusy

    settings = _settings(ctx, workers=workers, model=model, aliases=aliases, max_chars=max_chars,
                         scheduler=scheduler, dask_config=dask_config)
    backend = _backend(settings)
    paths = list(paths) or list(DEFAULT_PATHS)
    missing = [p for p in paths if not os.path.exists(p)]
    if missing and len(missing) == len(paths) and name == "rebuild":
        raise click.UsageError(f"No such file or folder: {', '.join(missing)}")
    bar = _progress(name, quiet or as_json)
    try:
        report = getattr(backend, name)(paths, progress=bar, wait=wait)
    except (IndexBusy, IndexMissing) as exc:  # IndexMissing: a cluster that does not answer, an old mapping
        raise click.ClickException(str(exc)) from None
    except PipelineError as exc:
        raise click.ClickException(str(exc)) from None
    except AliasFileError as exc:  # names file:line
        raise click.ClickException(str(exc)) from None
    except ReaderUnavailable as exc:  # articles are all read before any is enriched, so this comes first
        raise click.ClickException(f"{exc}\nThe index was not changed.") from None
    except ClusterError as exc:
        raise click.ClickException(f"{exc}. The previous index was kept (analyses that came back are in its "
                                   f"enrichment cache, so the next run does not redo them).") from None
    finally:
        if bar is not None:
            bar.close()
    _print_report(report, as_json, verb)
    if report.indexed == 0 and report.unchanged == 0 and report.removed == 0 and not as_json:
        click.echo("Nothing could be indexed; see the reasons above. The previous index was kept.", err=True)
    ctx.exit(_exit_status(report, strict))


def _index_options(f):
    f = click.option("--workers", type=click.IntRange(1, 64), default=None, help="spaCy processes (n_process); env NEWSFACET_WORKERS.")(f)
    f = click.option("--model", default=None, help="spaCy pipeline to use; env NEWSFACET_MODEL.")(f)
    f = click.option("--aliases", type=click.Path(dir_okay=False), default=None,
                     help="Alias file (lines 'Canonical Name = Variant, Variant'); default aliases.txt next to the index.")(f)
    f = click.option("--max-chars", type=click.IntRange(1000), default=None,
                     help="Enrich at most this many characters of an article (the full text is indexed).")(f)
    f = _cluster_options(f)
    f = click.option("--strict", is_flag=True, help="Exit non-zero if any file or line was skipped.")(f)
    f = click.option("--wait", type=float, default=0.0, show_default=True,
                     help="Seconds to wait for another rebuild/update to finish.")(f)
    f = click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")(f)
    f = click.option("--quiet", "-q", is_flag=True, help="No progress bar.")(f)
    return f


def _cluster_options(f):
    f = click.option("--scheduler", default=None, metavar="ADDRESS",
                     help="Enrich on a Dask cluster: its scheduler (tcp://HOST:8786, tls://...); env NEWSFACET_SCHEDULER.")(f)
    f = click.option("--dask-config", type=click.Path(dir_okay=False), default=None,
                     help="Dask config file (YAML) for --scheduler, e.g. TLS certificates; env NEWSFACET_DASK_CONFIG.")(f)
    return f


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--index", "index", type=click.Path(file_okay=False), default=None,
              help="Index directory (default index/, env NEWSFACET_INDEX).")
@click.option("--backend", default=None,
              help="Engine holding the index: whoosh (default) or opensearch; env NEWSFACET_BACKEND.")
@click.option("--opensearch-url", default=None,
              help="OpenSearch node URLs, comma-separated (env NEWSFACET_OPENSEARCH_URL); credentials in "
                   "NEWSFACET_OPENSEARCH_USER / NEWSFACET_OPENSEARCH_PASSWORD.")
@click.option("--opensearch-index", default=None,
              help="OpenSearch alias holding the index (default newsfacet, env NEWSFACET_OPENSEARCH_INDEX).")
@click.pass_context
def main(ctx, index, backend, opensearch_url, opensearch_index):
    """newsfacet: faceted search over news articles - who is in them, where, when, and who said what."""
    ctx.obj = {k: v for k, v in (("index", index), ("backend", backend), ("opensearch_url", opensearch_url),
                                 ("opensearch_index", opensearch_index)) if v}


def _index_option(f):
    """--index accepted after the sub-command too (`newsfacet stats --index DIR`)."""
    def callback(ctx, param, value):
        if value:
            ctx.find_root().obj["index"] = value
        return value
    return click.option("--index", "index_", type=click.Path(file_okay=False), default=None, expose_value=False,
                        callback=callback, is_eager=True, help="Index directory (default index/, env NEWSFACET_INDEX).")(f)


def _index_subcommand(name: str, verb: str, doc: str):
    """`rebuild` and `update`: the same arguments and options, over the backend method of the same name."""

    @main.command(name, help=doc)
    @click.argument("paths", nargs=-1, type=click.Path())
    @_index_options
    @_index_option
    @click.pass_context
    def command(ctx, paths, **options):
        _index_command(name, verb, ctx, paths, **options)

    return command


rebuild = _index_subcommand(
    "rebuild", "Indexed", "Build the index from PATHS (files or folders; default seeds/) and switch to it atomically.")
update = _index_subcommand(
    "update", "Updated", "Index new and changed articles under PATHS; remove those whose source file is gone.")


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write JSON Lines here (default: standard output).")
@click.option("--workers", type=click.IntRange(1, 64), default=None, help="spaCy processes.")
@click.option("--model", default=None, help="spaCy pipeline to use.")
@click.option("--aliases", type=click.Path(dir_okay=False), default=None, help="Alias file.")
@click.option("--max-chars", type=click.IntRange(1000), default=None, help="Enrich at most this many characters.")
@click.option("--no-text", is_flag=True, help="Leave the article text out of the output.")
@_cluster_options
@click.option("--quiet", "-q", is_flag=True, help="No progress bar (shown with --scheduler).")
@_index_option
@click.pass_context
def enrich(ctx, paths, output, workers, model, aliases, max_chars, no_text, scheduler, dask_config, quiet):
    """Enrich articles and print the records as JSON Lines (no index is written)."""
    from search.articles import Article, ReaderUnavailable, Skip, read_articles
    from search.cluster import ClusterError
    from search.enrich import Enricher, PipelineError
    from search.indexer import AliasFileError, load_aliases_for

    settings = _settings(ctx, workers=workers, model=model, aliases=aliases, max_chars=max_chars,
                         scheduler=scheduler, dask_config=dask_config)
    try:
        table = load_aliases_for(settings)
    except AliasFileError as exc:
        raise click.ClickException(str(exc)) from None
    from search.names import count_names, name_table, resolve_record

    # A cluster run is long and remote: show its progress (a local run prints nothing but records, as before).
    bar = _progress("enrich", quiet or not settings.scheduler)
    if bar is not None:
        bar.reset(total=sum(isinstance(a, Article) for a in read_articles(paths, max_file_bytes=settings.max_file_bytes)))
    enricher = Enricher(settings, aliases=table, progress=bar)
    out = open(output, "w", encoding="utf-8") if output else sys.stdout
    n = skipped = 0
    try:
        items = read_articles(paths, max_file_bytes=settings.max_file_bytes)
        records = []
        for rec in enricher.enrich(items):
            records.append(rec)
            if bar is not None and not isinstance(rec, Skip):
                bar.update(1)
        enricher.close()
        # The collection's canonical names over all inputs, as an index applies them (search/names.py).
        names = name_table(count_names(r for r in records if not isinstance(r, Skip)))
        for rec in records:
            if not isinstance(rec, Skip):
                rec = resolve_record(rec, names)
            if isinstance(rec, Skip):
                if not rec.warning:
                    skipped += 1
                click.echo(f"{'warning' if rec.warning else 'skipped'}: {rec.where()}: {rec.reason}", err=True)
                continue
            for w in rec.get("warnings") or []:
                click.echo(f"warning: {rec.get('path')}: {w}", err=True)
            if no_text:
                rec.pop("text", None)
            out.write(json.dumps(rec, ensure_ascii=False) + "\n")
            n += 1
    except (PipelineError, ReaderUnavailable) as exc:
        raise click.ClickException(str(exc)) from None
    except ClusterError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        enricher.close()
        if bar is not None:
            bar.close()
        if output:
            out.close()
    click.echo(f"Enriched {n} article{'s' if n != 1 else ''}, {skipped} skipped.", err=True)
    ctx.exit(0 if n else 1)


def _open(ctx):
    from search.contracts import IndexMissing

    settings = _settings(ctx)
    try:
        return _backend(settings).open_searcher(), settings
    except IndexMissing as exc:
        raise click.ClickException(str(exc)) from None


def _listing_args(query, date_from, date_to, sort, page, limit, **filters) -> dict[str, list[str]]:
    """A search command's arguments as the query-string mapping parse_request reads."""
    args = {"q": [" ".join(query)], "sort": [sort], "page": [str(page)], "size": [str(limit)],
            **{k: list(v) for k, v in filters.items()}}
    if date_from:
        args["from"] = [date_from]
    if date_to:
        args["to"] = [date_to]
    return args


def _listing_options(rows: str, json_help: str):
    """--from, --to, --sort, --limit, --page and --json of a command listing results."""
    def add(f):
        f = click.option("--json", "as_json", is_flag=True, help=json_help)(f)
        f = click.option("--page", type=click.IntRange(1), default=1, show_default=True)(f)
        f = click.option("--limit", type=click.IntRange(1, 100), default=10, show_default=True,
                         help=f"{rows} to show.")(f)
        f = click.option("--sort", type=click.Choice(["relevance", "newest", "oldest"]), default="relevance",
                         show_default=True)(f)
        f = click.option("--to", "date_to", default=None, help="Published on or before.")(f)
        f = click.option("--from", "date_from", default=None,
                         help="Published on or after (YYYY-MM-DD, YYYY-MM or YYYY).")(f)
        return f
    return add


@main.command()
@click.argument("query", nargs=-1)
@click.option("--speaker", multiple=True, help="Only articles quoting this speaker (repeat for any of several).")
@click.option("--person", multiple=True, help="Only articles mentioning this person.")
@click.option("--place", multiple=True, help="Only articles mentioning this place.")
@click.option("--org", multiple=True, help="Only articles mentioning this organisation.")
@click.option("--author", multiple=True, help="Only articles by this author (byline or credit).")
@click.option("--language", multiple=True, help="Only articles in this language (ISO 639-1 code, e.g. en).")
@click.option("--not-speaker", multiple=True, help="Leave out articles quoting this speaker.")
@click.option("--not-person", multiple=True, help="Leave out articles mentioning this person.")
@click.option("--not-place", multiple=True, help="Leave out articles mentioning this place.")
@click.option("--not-org", multiple=True, help="Leave out articles mentioning this organisation.")
@_listing_options("Results", "Print one JSON object.")
@_index_option
@click.pass_context
def search(ctx, query, speaker, person, place, org, author, language, not_speaker, not_person, not_place, not_org,
           date_from, date_to, sort, limit, page, as_json):
    """Search the index: full text narrowed by speaker, person, place, organisation and date."""
    from search.contracts import parse_request

    args = _listing_args(query, date_from, date_to, sort, page, limit, speaker=speaker, person=person, place=place,
                         org=org, author=author, language=language, not_speaker=not_speaker, not_person=not_person,
                         not_place=not_place, not_org=not_org)
    searcher, settings = _open(ctx)
    with searcher:
        req, messages = parse_request(args, settings)
        res = searcher.search(req, messages)
    if as_json:
        _echo_json(res)
        return
    _print_results(res)


def _plain(snippet: str) -> str:
    import html
    import re

    return html.unescape(re.sub(r"</?mark[^>]*>", "", snippet))


def _terminal_snippet(snippet: str) -> str:
    """Highlighted words in bold yellow on a terminal, [bracketed] when piped."""
    import html
    import re

    s = html.unescape(re.sub(r"<mark[^>]*>", "\x00", snippet).replace("</mark>", "\x01"))
    on, off = ("\x1b[1;33m", "\x1b[0m") if sys.stdout.isatty() else ("[", "]")
    return " ".join(s.replace("\x00", on).replace("\x01", off).split())


def _print_head(res, noun: str, note: str = "") -> int:
    """Messages and the count line of a result; returns the number of its first row."""
    for m in res.messages:
        click.echo(click.style(f"note: {m}", fg="yellow"), err=True)
    first = (res.page - 1) * res.page_size + 1 if res.total else 0
    last = first + len(res.results) - 1 if res.total else 0
    click.echo(click.style(f"{res.total} {noun}{'s' if res.total != 1 else ''}", bold=True) + note
               + (f" (showing {first}-{last})" if res.total else "") + f" in {res.took_ms:.0f} ms")
    return first


def _print_facets(res) -> None:
    """The top five values of each facet (or why it was not counted)."""
    click.echo("")
    for name, f in res.facets.items():
        vals = [r for r in f["results"] if r["count"]][:5]
        if f.get("failed"):
            click.echo(click.style(f"{f['label']}: ", bold=True) + f"not shown: this list {f['failed']}")
        elif vals:
            click.echo(click.style(f"{f['label']}: ", bold=True) + ", ".join(f"{v['value']} ({v['count']})" for v in vals))


def _print_results(res) -> None:
    first = _print_head(res, "article")
    for i, r in enumerate(res.results, first):
        click.echo("")
        meta = " · ".join(x for x in (r["published"] and str(r["published"])[:10], r["source"]) if x)
        click.echo(click.style(f"{i}. {r['title'] or r['id']}", bold=True) + (f"  [{meta}]" if meta else ""))
        click.echo(f"   id: {r['id']}")
        click.echo("   " + _terminal_snippet(r["snippet"]))
        if r["speakers"]:
            click.echo("   speakers: " + ", ".join(r["speakers"][:6]))
        for q in r["quotes"][:3]:
            click.echo(f"   “{q['text'][:160]}” — {q['speaker']}")
    _print_facets(res)


@main.command()
@click.argument("query", nargs=-1)
@click.option("--speaker", multiple=True, help="Only quotes by this speaker (repeat for any of several).")
@click.option("--source", multiple=True, help="Only quotes reported by this source.")
@click.option("--kind", type=click.Choice(["direct", "indirect"]), multiple=True,
              help="direct (in quotation marks) or indirect (reported speech).")
@click.option("--not-speaker", multiple=True, help="Leave out quotes by this speaker.")
@click.option("--not-source", multiple=True, help="Leave out quotes reported by this source.")
@_listing_options("Rows", "Print one JSON object (the /api/quotes shape).")
@_index_option
@click.pass_context
def quotes(ctx, query, speaker, source, kind, not_speaker, not_source, date_from, date_to, sort, limit, page, as_json):
    """Search what was said: quotes matching QUERY, each repeated quote once with where it first appeared."""
    from search.contracts import QuoteIndexMissing, parse_quote_request

    args = _listing_args(query, date_from, date_to, sort, page, limit, speaker=speaker, source=source, kind=kind,
                         not_speaker=not_speaker, not_source=not_source)
    searcher, settings = _open(ctx)
    with searcher:
        req, messages = parse_quote_request(args, settings)
        try:
            res = searcher.quotes(req, messages)
        except QuoteIndexMissing as exc:
            raise click.ClickException(str(exc)) from None
    if as_json:
        _echo_json(res)
        return
    _print_quotes(res)


def _echo_json(res) -> None:
    """A result page (articles or quotes) as the API's JSON, its snippets as plain text for a terminal."""
    d = res.to_dict()
    for r in d["results"]:
        r["snippet"] = _plain(r["snippet"])
    click.echo(json.dumps(d, ensure_ascii=False, indent=2))


def _print_quotes(res) -> None:
    first = _print_head(res, "quote", f" ({res.quotes} with repeats)" if res.quotes != res.total else "")
    for i, r in enumerate(res.results, first):
        art = r["article"]
        click.echo("")
        who = r["speaker"] or r.get("speaker_text") or "speaker unknown"
        click.echo(click.style(f"{i}. {who}", bold=True) + (" (reported)" if r["kind"] == "indirect" else ""))
        click.echo("   “" + _terminal_snippet(r["snippet"]) + "”")
        meta = " · ".join(x for x in (art.get("published") and str(art["published"])[:10], art.get("source"),
                                      art.get("title")) if x)
        click.echo(f"   {meta}  [article {art.get('id')}, quote {r['position']}]")
        c = r.get("cluster")
        if c and c.get("articles"):
            f = c.get("first") or {}
            click.echo(f"   first appeared {f.get('published') or 'undated'} in {f.get('source') or '?'}; repeated in "
                       f"{c['articles']} article{'s' if c['articles'] != 1 else ''} by {c['outlets']} outlet"
                       f"{'s' if c['outlets'] != 1 else ''} (cluster {c['id']})")
    _print_facets(res)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@_index_option
@click.pass_context
def stats(ctx, as_json):
    """Articles, date range and the most frequent speakers, persons, places and organisations."""
    from search.cache import cache_path, cache_stats

    searcher, settings = _open(ctx)
    with searcher:
        s = searcher.stats()
    c = cache_stats(cache_path(settings.index))
    s["cache"] = {"path": c["path"], "entries": c["entries"], "bytes": c["bytes"], "versions": len(c["versions"]),
                  "unversioned": c["unversioned"]}
    if as_json:
        click.echo(json.dumps(s, ensure_ascii=False, indent=2))
        return
    click.echo(f"Index {settings.index}/ ({s['generation']}): {s['articles']} article{'' if s['articles'] == 1 else 's'}"
               + (f", published {s['first']} to {s['last']}" if s["first"] else ""))
    if s.get("not_enriched"):
        click.echo(f"{s['not_enriched']} article{'' if s['not_enriched'] == 1 else 's'} in a language without a "
                   f"pipeline: indexed for full text, without people, places, organisations or quotes")
    for key, label in (("speakers", "Top speakers"), ("persons", "Top people"), ("places", "Top places"),
                       ("organizations", "Top organizations"), ("authors", "Top authors"), ("languages", "Languages")):
        top = s["top_" + key]
        if top:
            click.echo(f"{label} ({s['distinct_' + key]} in all): " + ", ".join(f"{t['value']} ({t['count']})" for t in top))
    if s.get("quotes") is None:
        click.echo("No quote index yet: run `newsfacet rebuild` (or `update`) to add it.")
    else:
        cl = s["clusters"]
        click.echo(f"Quotes: {s['quotes']}; {cl['clusters']} cluster{'' if cl['clusters'] == 1 else 's'} of repeated "
                   f"quotes ({cl['clustered_quotes']} quotes)")
        if cl["clusters"]:
            click.echo("  clusters by articles spanned: " + ", ".join(f"{b['articles']}: {b['clusters']}"
                                                                   for b in cl["by_articles"]))
            click.echo("  clusters by quotes held: " + ", ".join(f"{b['quotes']}: {b['clusters']}"
                                                              for b in cl["by_quotes"]))
    n = c["entries"]
    click.echo(f"Enrichment cache: {n:,} analys{'i' if n == 1 else 'e'}s, {_size(c['bytes'])} ({c['path']})"
               + (f", made by {len(c['versions'])} versions of the code; `newsfacet cache prune` drops those it cannot "
                  f"use" if len(c["versions"]) > 1 else ""))


def _size(n: int) -> str:
    """Bytes for people: 512 B, 4.2 kB, 45.6 MB, 1.2 GB."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


@main.group()
def cache():
    """The enrichment cache (cache/enrich.sqlite in the index directory): analyses kept so that unchanged articles
    never go through spaCy again."""


@cache.command("prune")
@click.option("--model", default=None, help="Keep what this spaCy pipeline can use (default: the configured one).")
@click.option("--unversioned", is_flag=True,
              help="Also drop entries from before versions were recorded that no run has used since.")
@click.option("--wait", type=float, default=0.0, show_default=True,
              help="Seconds to wait for a running rebuild/update to finish.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@_index_option
@click.pass_context
def cache_prune(ctx, model, unversioned, wait, as_json):
    """Drop cached analyses that the current enrichment code and model cannot use, and free their space."""
    from search.cache import cache_path, prune_cache
    from search.enrich import Enricher, signature_usable
    from search.indexer import AliasFileError, IndexBusy, load_aliases_for, writer_lock

    settings = _settings(ctx, model=model)
    path = cache_path(settings.index)
    if not path.exists():
        click.echo(f"No enrichment cache at {path}; nothing to prune.")
        return
    try:
        current = Enricher(settings, aliases=load_aliases_for(settings)).signature()
        with writer_lock(Path(settings.index), wait=wait):  # a rebuild writing the cache meanwhile would race
            r = prune_cache(path, lambda version: signature_usable(version, current), unversioned=unversioned)
    except (IndexBusy, AliasFileError) as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps({**r, "path": str(path), "signature": current}, indent=2))
        return
    click.echo(f"Removed {r['removed']:,} cached analys{'i' if r['removed'] == 1 else 'e'}s that this code and model "
               f"({settings.model}) cannot use; kept {r['kept']:,}. {path}: {_size(r['bytes_before'])} -> "
               f"{_size(r['bytes_after'])} ({_size(max(0, r['bytes_before'] - r['bytes_after']))} freed).")
    if r["unversioned_kept"]:
        click.echo(f"{r['unversioned_kept']:,} entries date from before versions were recorded: a rebuild marks those "
                   f"it uses, then `newsfacet cache prune --unversioned` drops the rest.")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (0.0.0.0 exposes it to the network).")
@click.option("--port", type=click.IntRange(0, 65535), default=5000, show_default=True)
@click.option("--threads", type=click.IntRange(1, 64), default=8, show_default=True, help="Worker threads.")
@click.option("--base-url", default=None,
              help="The address readers reach this server at, for links in feeds (env NEWSFACET_BASE_URL).")
@_index_option
@click.pass_context
def serve(ctx, host, port, threads, base_url):
    """Serve the web UI and JSON API with waitress (a production WSGI server)."""
    from web import serve as run

    settings = _settings(ctx, base_url=base_url)
    backend = _backend(settings)  # an unknown backend is a usage error now, not a 500 on every request
    where = f"{settings.index}/" if backend.name == "whoosh" else _describe(settings)
    click.echo(f"newsfacet: serving {where} on http://{host}:{port}/ (Ctrl-C stops)", err=True)
    run(host=host, port=port, index_dir=str(settings.index), threads=threads, settings=settings)


@main.command()
@click.option("--merge", nargs=2, metavar="CANONICAL VARIANT", default=None,
              help="Write 'CANONICAL = VARIANT' to the alias file (aliases.txt next to the index, or --aliases).")
@click.option("--aliases", type=click.Path(dir_okay=False), default=None, help="Alias file to write to.")
@click.option("--limit", type=click.IntRange(1), default=50, show_default=True, help="Names per facet.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@_index_option
@click.pass_context
def names(ctx, merge, aliases, limit, as_json):
    """Canonical names of the index with their variants and article counts; --merge A B writes an alias."""
    if merge:
        settings = _settings(ctx, aliases=aliases)
        path = Path(settings.aliases or Path(settings.index) / "aliases.txt")
        canon, variant = (" ".join(x.split()) for x in merge)
        if not canon or not variant or "=" in canon + variant or "," in canon + variant:
            raise click.UsageError("--merge needs two names without '=' or ','")
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as f:
            f.write(f"{canon} = {variant}\n")
        click.echo(f"{path}: {canon} = {variant} (applied by the next rebuild or update; spaCy is not re-run)")
        return
    searcher, _ = _open(ctx)
    with searcher:
        out = searcher.names(limit)
    if as_json:
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    for key, groups in out.items():
        click.echo(click.style(key.capitalize(), bold=True))
        for g in groups:
            variants = ", ".join(f"{v} ({n})" for v, n in sorted(g["variants"].items()))
            click.echo(f"  {g['name']} ({g['count']})" + (f"  <- {variants}" if variants else ""))


if __name__ == "__main__":  # pragma: no cover
    main()
