"""Turn an article's text plus character-offset annotations into safe, well-nested HTML."""
from __future__ import annotations

import re
from bisect import bisect_right

from markupsafe import Markup, escape

ENTITY_LABELS = {"person": "Person", "place": "Place", "org": "Organization", "date": "Date"}

_ALLOWED_SNIPPET_TAG = re.compile(r"</?mark(?: class=\"[A-Za-z0-9 _-]*\")?>")


def safe_snippet(snippet) -> Markup:
    """Pass the search layer's snippet through only if its sole markup is <mark>; else escape it."""
    if snippet is None:
        return Markup("")
    if hasattr(snippet, "__html__"):
        return Markup(snippet.__html__())
    text = str(snippet)
    # Defence in depth: the contract says "escaped text + <mark>", so anything else that looks
    # like a tag means the contract was broken and the whole snippet is shown as text.
    if "<" in _ALLOWED_SNIPPET_TAG.sub("", text) or ">" in _ALLOWED_SNIPPET_TAG.sub("", text):
        return escape(text)
    return Markup(text)


def _spans(items, text_len: int, kind_of) -> list[tuple[int, int, dict]]:
    """Valid (start, end, item) spans inside the text, sorted, overlapping ones dropped greedily."""
    spans = []
    for item in items or ():
        if not isinstance(item, dict):
            continue
        try:
            start, end = int(item.get("start")), int(item.get("end"))
        except (TypeError, ValueError):
            continue
        start, end = max(0, start), min(text_len, end)
        if start >= end:
            continue
        kind = kind_of(item)
        if kind is None:
            continue
        spans.append((start, end, dict(item, _kind=kind)))
    # Longest first among equal starts, so a full name wins over a part of it.
    spans.sort(key=lambda s: (s[0], -(s[1] - s[0])))
    kept: list[tuple[int, int, dict]] = []
    last_end = -1
    for start, end, item in spans:
        if start >= last_end:
            kept.append((start, end, item))
            last_end = end
    return kept


def _entity_kind(item) -> str | None:
    label = item.get("label")
    return label if label in ("person", "place", "org") else None


def _open_entity(item) -> str:
    kind = item["_kind"]
    value = item.get("value") or item.get("text") or ""
    title = f"{ENTITY_LABELS.get(kind, kind)}: {value}"
    return f'<mark class="ent ent-{kind}" title="{escape(title)}">'


def _open_quote(item) -> str:
    speaker = item.get("speaker") or item.get("speaker_text")
    who = f"Quote by {speaker}" if speaker else "Quote, speaker unknown"
    kind = "direct" if item.get("kind") != "indirect" else "indirect"
    data = f' data-speaker="{escape(speaker)}"' if speaker else ""
    # The side list links to #q-<start> so a reader can see a quote in its context.
    anchor = f' id="q-{int(item["start"])}"' if isinstance(item.get("start"), int) else ""
    return f'<span class="quote quote-{kind}"{anchor} title="{escape(who)}"{data}>'


def mark_text(text: str, entities=(), date_mentions=(), quotes=()) -> Markup:
    """Escape text and wrap entities, dates and quotes in tags that always nest properly.

    Quotes form the outer layer and entities/dates the inner one; within a layer overlapping
    spans are dropped, and an inner span that crosses a quote boundary is split in two.
    """
    text = text or ""
    n = len(text)
    quote_spans = _spans(quotes, n, lambda q: "quote")
    inner = _spans(
        list(entities or ()) + [dict(d, label="date") for d in (date_mentions or ()) if isinstance(d, dict)],
        n,
        lambda e: "date" if e.get("label") == "date" else _entity_kind(e),
    )
    bounds = {0, n}
    for start, end, _ in quote_spans + inner:
        bounds.update((start, end))
    cuts = sorted(bounds)

    quote_starts = [s[0] for s in quote_spans]
    inner_starts = [s[0] for s in inner]

    def covering(spans, starts, pos):
        # Spans are sorted and disjoint, so only the last one starting at or before pos can cover it.
        i = bisect_right(starts, pos) - 1
        if i >= 0 and spans[i][1] > pos:
            start, end, item = spans[i]
            return (start, end, i, item)
        return None

    out: list[str] = []
    open_quote = open_inner = None
    for a, b in zip(cuts, cuts[1:]):
        q = covering(quote_spans, quote_starts, a)
        e = covering(inner, inner_starts, a)
        if q != open_quote:
            if open_inner is not None:
                out.append("</mark>")
                open_inner = None
            if open_quote is not None:
                out.append("</span>")
            if q is not None:
                out.append(_open_quote(q[3]))
            open_quote = q
        if e != open_inner:
            if open_inner is not None:
                out.append("</mark>")
            if e is not None:
                out.append(_open_entity_or_date(e[3]))
            open_inner = e
        out.append(str(escape(text[a:b])))
    if open_inner is not None:
        out.append("</mark>")
    if open_quote is not None:
        out.append("</span>")
    return Markup("".join(out))


def _open_entity_or_date(item) -> str:
    if item["_kind"] == "date":
        return f'<mark class="ent ent-date" title="{escape("Date: " + str(item.get("text") or ""))}">'
    return _open_entity(item)
