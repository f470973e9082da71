"""Step 2: one article as attribution reads it: tokens, paragraphs, entities, direct quotes, and the
typed quote record that the later steps fill in."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from spacy.attrs import DEP, IDX, POS, SENT_START

from search.names import PersonIndex
from search.quotes.lexicon import ABBREVIATIONS
from search.quotes.spans import find_direct_spans, looks_like_nickname


class Entity(NamedTuple):
    """A person, place or organisation mention covering a token (from search/entities.py)."""

    label: str  # "person" | "place" | "org"
    value: str  # canonical name
    start: int  # first token
    end: int  # token after the last


@dataclass
class Quote:
    """A quotation found in the text, before it becomes plain data."""

    start: int  # character offsets of the quote text
    end: int
    kind: str  # "direct" | "indirect"
    t0: int = 0  # token range of the quote
    t1: int = 0
    speaker: str | None = None
    speaker_text: str | None = None
    verb: str | None = None
    cue: bool = False  # attributed by a cue (verb, colon, dash, "according to"), not carried over
    label: str | None = None  # "person" | "org" | "group" for the speaker
    group: int = -1  # multi-paragraph direct quotes share a group
    absorbed: bool = False  # part of an indirect quote or an embedded post: not reported on its own
    subject: object | None = None  # the spaCy token the cue names as the source
    verb_i: int | None = None  # token of the cue verb
    before: int = 0  # tokens of narration before a direct quote in its sentence
    argument: bool = False  # a short quote that is the cue verb's own argument ('called it "a mess"')
    post: bool = False  # an embedded social-media post
    drop: bool = False  # not a quotation after all (a title, scare quotes)
    how: str = ""  # how the speaker was found: the resolver's rule, or "group", "floating", "introduced"
    source_p: float = 1.0  # the ranker's probability of the source token (1 when it had no candidates)
    confidence: float = 1.0  # how sure the speaker is; below the threshold it stays unresolved


class ArticleView:
    """Indexes of one parsed Doc that every step reads: entity and paragraph of each token, and which
    tokens stand inside quotation marks."""

    def __init__(self, doc, mentions: list[dict], persons: PersonIndex):
        """Index the Doc and find its direct quotes."""
        self.doc = doc
        self.text = doc.text  # Doc.text joins every token: build it once
        self.persons = persons
        self.mentions = mentions
        self.ent_of: dict[int, Entity] = {}
        for m in mentions:
            ent = Entity(m["label"], m["value"], m["tstart"], m["tend"])
            for i in range(m["tstart"], m["tend"]):
                self.ent_of[i] = ent
        n = len(doc)
        self.in_quote = [False] * n
        self.quote_of = [-1] * n
        # Paragraph of each token: the number of tokens before it whose text or trailing space holds a line
        # break. Computed on arrays: a Python loop over tokens costs as much as the rest of attribution.
        starts = doc.to_array(IDX).astype(np.int64) if n else np.zeros(0, dtype=np.int64)
        breaks = np.zeros(n, dtype=np.int64)
        newlines = np.array([m.start() for m in re.finditer("\n", self.text)], dtype=np.int64)
        if n and len(newlines):
            breaks[np.unique(np.searchsorted(starts, newlines, side="right") - 1)] = 1
        self.para_of = (np.cumsum(breaks) - breaks).tolist()
        # first token of each token's sentence (Token.sent scans the Doc on every call)
        starts_flag = doc.to_array(SENT_START) if n else np.zeros(0, dtype=np.int64)
        firsts = np.where(starts_flag == 1, np.arange(n), 0)
        if n:
            firsts[0] = 0
        self.sent_start = np.maximum.accumulate(firsts).tolist() if n else []
        # coarse part of speech and dependency label of every token, for quick filters
        self.pos = doc.to_array(POS) if n else np.zeros(0, dtype=np.uint64)
        self.dep = doc.to_array(DEP) if n else np.zeros(0, dtype=np.uint64)
        self.direct: list[Quote] = []
        for s, e, g in find_direct_spans(self.text):
            if looks_like_nickname(self.text, s, e):
                continue  # part of a name, not a quotation
            span = doc.char_span(s, e, alignment_mode="expand")
            if span is None or len(span) == 0:
                continue
            k = len(self.direct)
            self.direct.append(Quote(s, e, "direct", t0=span.start, t1=span.end, group=g))
            for i in range(span.start, span.end):
                self.in_quote[i] = True
                self.quote_of[i] = k

    def entity(self, i: int, labels=("person", "org", "place")) -> Entity | None:
        """The entity covering token i when its label is one of labels."""
        ent = self.ent_of.get(i)
        return ent if ent is not None and ent.label in labels else None

    def clip_paragraph(self, a: int, b: int, anchor: int) -> tuple[int, int]:
        """Keep only the part of a token range in the anchor token's paragraph."""
        p = self.para_of[anchor]
        while a < b and self.para_of[a] != p:
            a += 1
        while b > a and self.para_of[b - 1] != p:
            b -= 1
        return a, b

    def abbreviation_stop(self, j: int) -> bool:
        """Whether the period at token j closes a title abbreviation ("Lt. Ann Ross"), not a sentence."""
        prev = self.doc[j - 1]
        return self.doc[j].text == "." and not prev.whitespace_ and prev.lower_ in ABBREVIATIONS

    def region_after(self, t1: int) -> tuple[int, int]:
        """Tokens after a quote up to the end of its sentence, the next quote or the paragraph end."""
        doc = self.doc
        j = t1
        stop = min(len(doc), t1 + 30)
        while j < stop:
            t = doc[j]
            if self.in_quote[j] or "\n" in t.text:
                break
            if t.text in (".", "!", "?") and j > t1 and not self.abbreviation_stop(j):
                break
            j += 1
            if "\n" in t.whitespace_:
                break
        return t1, j

    def region_before(self, t0: int) -> tuple[int, int]:
        """Tokens before a quote back to its sentence start, the previous quote or the paragraph start."""
        doc = self.doc
        j = t0
        stop = max(0, t0 - 30)
        while j > stop:
            t = doc[j - 1]
            if self.in_quote[j - 1] or "\n" in t.text or "\n" in t.whitespace_:
                break
            if t.text in (".", "!", "?") and not self.abbreviation_stop(j - 1):
                break
            j -= 1
        return j, t0

    def is_headline(self, i: int) -> bool:
        """Whether token i sits in a headline-like line ('READ MORE: ...', a line with no final stop)."""
        p = self.para_of[i]
        a = i
        while a > 0 and self.para_of[a - 1] == p:
            a -= 1
        b = i
        while b + 1 < len(self.doc) and self.para_of[b + 1] == p:
            b += 1
        while b > a and self.doc[b].is_space:
            b -= 1
        first, last = self.doc[a], self.doc[b]
        if first.is_upper and first.is_alpha and len(first) > 1 and any(t.text == ":" for t in self.doc[a : min(b, a + 4)]):
            return True
        return not last.text.endswith((".", "!", "?", "”", '"', "’", "'", "…", ")")) and b - a < 25

    def same_or_next_paragraph(self, a: Quote, b: Quote) -> bool:
        """Whether quote b follows quote a closely (same or next paragraph)."""
        sa = self.doc.char_span(a.start, a.end, alignment_mode="expand")
        sb = self.doc.char_span(b.start, b.end, alignment_mode="expand")
        return sa is not None and sb is not None and self.para_of[sb.start] - self.para_of[sa.start] <= 1
