"""Step 6: putting it together. Direct quotes get their cues, indirect quotes and embedded posts are
added, speakers are resolved in text order (quotes with no cue continue the previous speaker), and
the result becomes plain data."""
from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

from search.names import PersonIndex
from search.quotes.cues import (direct_cue, find_indirect, find_posts, is_argument, is_report_verb, partial_candidate,
                                partial_quote, subject_of)
from search.quotes.lexicon import PERSON_NOUNS
from search.quotes.model import Models, candidates, confidence_features, default_models, partial_features
from search.quotes.spans import looks_like_title
from search.quotes.speakers import SpeakerResolver
from search.quotes.view import ArticleView, Quote


def find_quotes(view: ArticleView, models: Models = Models()) -> list[Quote]:
    """All quotes of the article in text order, with speakers resolved and floating quotes carried over.
    The trained models (model.Models) each take one step when present: the partial-quote detector keeps
    the clause around a few quoted words someone's as an indirect quote, the ranker reviews the rules'
    choice of source, the confidence model says how likely each speaker is right."""
    posts = find_posts(view)
    for pq in posts:
        for dq in view.direct:
            if dq.start >= pq.start and dq.end <= pq.end + 1:
                dq.absorbed = True
    indirect = find_indirect(view) + posts
    for iq in indirect:
        for k in {view.quote_of[i] for i in range(iq.t0, iq.t1) if view.quote_of[i] >= 0}:
            dq = view.direct[k]
            if dq.start >= iq.start - 1 and dq.end <= iq.end + 1:
                dq.absorbed = True
    for dq in view.direct:
        if dq.absorbed:
            continue
        cue = direct_cue(view, dq)
        if cue is None:
            continue
        dq.cue = True
        dq.subject = cue.subject
        # 'called it "a costly blunder"': a short quote that is the cue verb's own argument
        dq.argument = cue.verb is not None and is_argument(view, cue.verb, dq.t0, dq.t1)
        dq.verb = cue.verb_text
    if models.partial is not None:
        indirect += _partial_quotes(view, models.partial, indirect)
    quotes = [q for q in view.direct if not q.absorbed] + indirect
    quotes.sort(key=lambda q: q.start)
    if models.ranker is not None:
        for q in quotes:
            if not q.post:
                review_source(view, models.ranker, q)
    resolver = SpeakerResolver(view, models.antecedent)
    _attribute(view, resolver, quotes)
    _continue_groups(quotes)
    _name_described_speakers(view, quotes)
    live = [q for q in quotes if not q.drop]
    if models.confidence is not None and live:
        for q, p in zip(live, models.confidence.probabilities(confidence_features(view, live))):
            q.confidence = float(p)
    return live


# The ranker's review, chosen on PolNeAR dev-direct (quote recall, speaker in source span) among margins
# 0/0.2 and new-source minimums 0.5/0.8/never: it replaces the rules' source whenever it scores higher, and
# gives a quote with no cue a source when that is likelier than not.
SWITCH_MARGIN = 0.0
NEW_SOURCE_MIN = 0.5


def review_source(view: ArticleView, ranker, q: Quote) -> None:
    """Let the trained ranker pick the source token among the candidates near q: it replaces the rules'
    choice when it is clearly likelier, and gives a cue-less quote a source when it is likely enough."""
    cands = candidates(view, q)
    if not cands.tokens:
        return
    p = ranker.probabilities(cands.X)
    k = int(np.argmax(p))
    best = cands.tokens[k]
    rule_p = None
    if q.subject is not None:
        rule_k = next((j for j, t in enumerate(cands.tokens) if t.i == q.subject.i), None)
        rule_p = float(p[rule_k]) if rule_k is not None else 0.0
    if q.subject is None:
        if p[k] >= NEW_SOURCE_MIN:
            q.subject, q.cue = best, True
            q.verb = best.head.text if best.dep_ in ("nsubj", "nsubjpass") else None
            q.source_p = q.confidence = float(p[k])
        return
    if best.i != q.subject.i and p[k] > rule_p + SWITCH_MARGIN:
        q.subject = best
        q.source_p = q.confidence = float(p[k])
    else:
        q.source_p = q.confidence = rule_p


# A partial quote is kept when the detector finds it likely enough to be someone's reported words. Chosen on
# PolNeAR dev among 0.5/0.7/0.85/0.95 (candidates climbing up to PARTIAL_CLIMB heads): direct-quote recall
# 0.956/0.942/0.931/0.928, speaker in source span 0.867/0.867/0.856/0.848, precision against all attributions
# 0.945/0.950/0.957/0.958: 0.7 keeps recall clear of 0.93 without the precision 0.5 costs. (GGT's annotators
# mark fewer of these clauses as quotes: its quote precision is 0.905/0.912/0.921/0.925 at the same points.)
PARTIAL_MIN = 0.7


def partial_candidates(view: ArticleView, taken: list[Quote]):
    """Direct quotes the carry-over rules would drop as quoted words inside narration (short, or with no
    cue), each with the clause that may report them; not where an indirect quote already covers them."""
    for dq in view.direct:
        if dq.absorbed or dq.before <= 2 or dq.post:
            continue
        words = len(re.findall(r"\w+", view.text[dq.start : dq.end]))
        if dq.cue and (words >= 4 or dq.argument):
            continue
        cand = partial_candidate(view, dq)
        if cand is not None and not any(q.t0 < cand.end and cand.start < q.t1 for q in taken):
            yield cand


def _partial_quotes(view: ArticleView, detector, taken: list[Quote]) -> list[Quote]:
    """Indirect quotes for the partial-quote candidates the detector accepts (their direct quotes absorbed)."""
    out: list[Quote] = []
    for cand in partial_candidates(view, taken):
        if any(q.t0 < cand.end and cand.start < q.t1 for q in out):
            continue
        if detector.probabilities(partial_features(view, cand)[None, :])[0] >= PARTIAL_MIN:
            cand.quote.absorbed = True
            out.append(partial_quote(view, cand))
    return out


def _attribute(view: ArticleView, resolver: SpeakerResolver, quotes: list[Quote]) -> None:
    """Resolve speakers in text order; a quote with no cue continues its group or the previous speaker."""
    prev: Quote | None = None
    groups: dict[int, Quote] = {}
    for q in quotes:
        subj = q.subject
        if subj is not None:
            q.speaker, q.speaker_text, q.label, q.how = resolver.resolve_quote(subj, q.t0, q.t1)
            if q.speaker and not q.post:
                # embedded posts stand outside the narration: "he said" after one is not its author
                resolver.discourse.add(subj.i, q.speaker, q.label)
        if q.kind == "direct":
            words = len(re.findall(r"\w+", view.text[q.start : q.end]))
            embedded = q.before > 2
            if not q.cue:
                g = groups.get(q.group)
                if g is not None:
                    q.speaker, q.speaker_text, q.label, q.confidence = g.speaker, g.speaker_text, g.label, g.confidence
                    q.source_p = g.source_p
                    q.how = "group"
                elif embedded or words <= 2 or _is_title(view, q) \
                        or (words < 4 and not (prev is not None and view.same_or_next_paragraph(prev, q))):
                    # Quoted words inside narration with no cue: a title, a term or scare quotes.
                    q.drop = True
                    continue
                else:
                    intro = introduced_person(view, q)
                    if intro is not None:
                        q.speaker, q.label, q.speaker_text, q.how = intro, "person", None, "introduced"
                        resolver.discourse.add(q.t0, intro, "person")
                    elif prev is not None:
                        q.speaker, q.label, q.speaker_text, q.confidence = prev.speaker, prev.label, None, prev.confidence
                        q.source_p = prev.source_p
                        q.how = "floating"
            elif (words < 4 and embedded and not q.argument) or _is_title(view, q):
                q.drop = True  # 'the plan was "a disaster," he said' keeps only the cue's clause
                continue
            if q.group not in groups and q.cue:
                groups[q.group] = q
        prev = q


def _continue_groups(quotes: list[Quote]) -> None:
    """A quotation running over several paragraphs has one speaker, wherever its cue stands."""
    cued = {}
    for q in quotes:
        if q.kind == "direct" and q.cue and q.group not in cued and not q.drop:
            cued[q.group] = q
    for q in quotes:
        g = cued.get(q.group) if q.kind == "direct" else None
        if g is not None and not q.cue:
            q.speaker, q.label, q.confidence, q.how = g.speaker, g.label, g.confidence, "group"
            q.source_p = g.source_p
            q.drop = False


def _name_described_speakers(view: ArticleView, quotes: list[Quote]) -> None:
    """'A spokeswoman for the mayor said ...' then '"...," said Ann Ross': the next quote names her,
    when Ann Ross was not mentioned before the description."""
    live = [q for q in quotes if not q.drop]
    for k, q in enumerate(live[:-1]):
        subj = q.subject
        if q.label != "group" or subj is None or subj.tag_ != "NN" or subj.lemma_.lower() not in PERSON_NOUNS:
            continue
        if not any(c.lower_ in ("a", "an") for c in subj.children if c.dep_ == "det"):
            continue
        nxt = live[k + 1]
        nsubj = nxt.subject
        if nxt.label != "person" or nsubj is None or not nxt.cue or nsubj.i < subj.i:
            continue
        if view.para_of[nsubj.i] - view.para_of[subj.i] > 1:
            continue
        if any(m["value"] == nxt.speaker and m["tstart"] < subj.i for m in view.mentions):
            continue
        named = nxt.speaker
        for other in live:
            if other.speaker == q.speaker and other.label == "group":
                other.speaker, other.label, other.how = named, "person", "named_later"


def _is_title(view: ArticleView, q: Quote) -> bool:
    """Whether a quoted span is a title ('"The Boy Who Sailed Home"'), not words someone said."""
    return looks_like_title(view.text[q.start : q.end].strip("\"“”„«»'‘’` ,."))


def introduced_person(view: ArticleView, q: Quote) -> str | None:
    """A quote opening its sentence right after narration that introduces someone as its subject ("Ann Ross
    hopes ..." before it in its paragraph, or as the paragraph before when the quote opens its own) is that
    person's, not the previous speaker's."""
    doc, para_of = view.doc, view.para_of
    t0 = q.t0
    para = para_of[t0]
    if q.before > 0:
        return None  # narration before it in its own sentence: not a quotation set after someone's introduction
    j = t0 - 1
    while j >= 0 and doc[j].is_space:
        j -= 1
    if j < 0:
        return None
    prev_para = para_of[j]  # the quote's own paragraph when narration precedes it there, else the one before
    if prev_para != para and para_of[t0 - 1] == para and not doc[t0 - 1].is_space:
        return None
    def quoted(i: int) -> bool:
        """Token i is inside a quotation (not a title or scare quotes, already dropped)."""
        return view.quote_of[i] >= 0 and not view.direct[view.quote_of[i]].drop

    k = j
    while k >= 0 and para_of[k] == prev_para:
        if prev_para == para and any(quoted(i) for i in range(view.sent_start[k], k + 1)):
            break  # in its own paragraph, only the sentences since the last quotation's introduce
        if quoted(k) or (is_report_verb(view, doc[k]) and subject_of(view, doc[k]) is not None):
            return None  # the narration quotes or reports someone: carry that over instead
        k -= 1
    for m in view.mentions:
        if m["label"] == "person" and k < m["tstart"] <= j and doc[m["tend"] - 1].dep_ in ("nsubj", "nsubjpass"):
            return m["value"]
    for t in doc[k + 1 : j + 1]:
        # a surname the NER left untagged, of someone the article names in full
        if t.pos_ == "PROPN" and t.dep_ in ("nsubj", "nsubjpass") and t.i not in view.ent_of \
                and view.persons.knows(t.text):
            return view.persons.canonical(t.text)
    return None


@lru_cache(maxsize=1)
def min_confidence() -> float:
    """The configured confidence below which a speaker stays unresolved (search/config.py)."""
    from search.config import load_settings

    return load_settings().speaker_min_confidence


def extract_quotes(doc, mentions: list[dict], persons: PersonIndex, threshold: float | None = None) -> list[dict]:
    """Quotes of a parsed Doc as plain dicts (see docs/CONTRACTS.md); 'label' is for the caller.
    A quote whose confidence is under threshold (default: the configured one) keeps no speaker."""
    view = ArticleView(doc, mentions, persons)
    text = view.text
    threshold = min_confidence() if threshold is None else threshold
    out = []
    for q in find_quotes(view, default_models()):
        sure = q.confidence >= threshold
        out.append({"speaker": q.speaker if sure else None, "speaker_text": q.speaker_text, "text": text[q.start : q.end],
                    "verb": q.verb, "start": q.start, "end": q.end, "kind": q.kind,
                    "confidence": round(q.confidence, 3), "label": q.label if sure else None})
    return out
