"""Step 3: cues. What marks a stretch of text as someone's words, and which token names its source:
reporting verbs and their subjects, "according to", a colon or a dash by a name, and the clausal
complements of reporting verbs (indirect speech). Functions of an ArticleView; they return typed
candidates and never decide who the speaker is (speakers.py does)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from spacy.attrs import LEMMA, LOWER

from search.names import is_medium
from search.quotes.lexicon import (CHANNEL_PREPOSITIONS, DIRECTIVE_LEMMAS, FIRST_SECOND, PARENTHETICAL_LEMMAS,
                                   QUOTATION_DASHES,
                                   QUESTION_WORDS, REPORT_LEMMAS, SOURCE_NOUNS, WEAK_LEMMAS)
from search.quotes.spans import find_embedded_posts
from search.quotes.view import ArticleView, Quote


@dataclass(frozen=True)
class Cue:
    """A cue found next to a quote: the token naming the source, and the verb (None for ':' and '—')."""

    subject: object  # spaCy Token
    verb: object | None = None  # spaCy Token
    mark: str | None = None  # ":" or "—" when punctuation is the cue
    side: str = "after"  # "after" | "before" the quote

    @property
    def verb_text(self) -> str | None:
        """The cue as the quote record shows it."""
        if self.verb is None:
            return self.mark
        return "according to" if self.verb.lower_ == "according" else self.verb.text


def is_channel(view: ArticleView, tok) -> bool:
    """Whether tok names the medium of a statement ('on a podcast', 'via Facebook'), not its author."""
    if tok.dep_ == "pobj" and tok.head.lower_ in CHANNEL_PREPOSITIONS:
        ent = view.ent_of.get(tok.i)
        return tok.pos_ == "PROPN" and (ent is None or ent.label != "person")
    return is_medium(tok.text, strict=True) and tok.dep_ not in ("nsubj", "nsubjpass")


def is_report_verb(view: ArticleView, t) -> bool:
    """A reporting verb outside quotation marks."""
    if view.in_quote[t.i]:
        return False
    if t.pos_ not in ("VERB", "AUX") and t.tag_ not in ("VBD", "VBZ", "VBP", "VBG", "VBN", "VB"):
        return False
    lem = t.lemma_.lower()
    if lem == "write" and t.tag_ == "VBN":
        return False
    if lem == "point" and not any(c.dep_ == "prt" and c.lower_ == "out" for c in t.children):
        return False
    return lem in REPORT_LEMMAS


def subject_of(view: ArticleView, v):
    """The subject token of reporting verb v, following conjunctions and participles."""
    for c in v.children:
        if c.dep_ in ("nsubj", "nsubjpass", "csubj"):
            if c.dep_ == "nsubjpass":
                for a in v.children:
                    if a.dep_ == "agent":
                        for p in a.children:
                            if p.dep_ == "pobj":
                                return p
                return None
            return c
    h = v
    while h.dep_ in ("pcomp", "prep", "advcl") and h.head.i != h.i:
        h = h.head
    if v.tag_ == "VBG" and h.lemma_ == "quote":
        # "He was quoted as saying ...": the one quoted
        for c in h.children:
            if c.dep_ == "nsubjpass":
                return c
    if v.tag_ == "VBG" and v.dep_ == "pcomp" and h.i != v.i and h.pos_ in ("VERB", "AUX"):
        return subject_of(view, h)  # "ended by stating ...": whoever ended
    # "she laughed and said ...", ", he said, adding that ..."
    if v.dep_ in ("conj", "advcl", "xcomp") and v.head is not v:
        h = v.head
        if h.lemma_ in REPORT_LEMMAS or v.dep_ == "conj" or v.tag_ == "VBG":
            return subject_of(view, h) if h.i != v.i else None
    if v.tag_ in ("VBD", "VBZ", "VBP"):
        return left_subject(view, v)
    return None


def left_subject(view: ArticleView, v):
    """When the parse lost the subject ("Sen. Ann Ross, D-Ohio, a member of the panel, said ..."):
    the first name opening the verb's clause, if no other verb stands between them."""
    doc = view.doc
    p = view.para_of[v.i]
    j = v.i - 1
    while j >= 0 and view.para_of[j] == p and not view.in_quote[j] and doc[j].text not in (".", "!", "?", ";", ":"):
        if doc[j].pos_ in ("VERB", "AUX"):
            return None
        j -= 1
    for k in range(j + 1, v.i):
        t = doc[k]
        if t.is_space or t.is_punct:
            continue
        ent = view.entity(k, ("person", "org"))
        if ent is not None:
            # only the appositive shape "Name, role, said"
            return doc[ent.end - 1] if ent.end < v.i and doc[ent.end].text == "," else None
        return None
    return None


def inverted_subject(view: ArticleView, v, lo: int, hi: int):
    """For "said Smith" and "..., Smith said" when the parser missed the subject: nearest nominal."""
    doc = view.doc
    for j in range(v.i + 1, min(hi, v.i + 9)):
        t = doc[j]
        if t.text in (",", ";", ":") or (t.pos_ == "VERB" and t.dep_ not in ("amod", "compound")):
            break  # past the inverted subject
        if is_time(t):
            continue  # "said Thursday morning": when, not who
        if t.pos_ in ("PROPN", "PRON") or t.i in view.ent_of:
            while t.dep_ in ("compound", "flat") and t.head.i > t.i and t.head.i < hi:
                t = t.head
            return t
        if t.pos_ in ("NOUN",):
            return t
    return None


def is_time(tok) -> bool:
    """Whether tok is part of a date or time ("Monday", "last week"): never a source."""
    return tok.ent_type_ in ("DATE", "TIME")


def cue_in(view: ArticleView, lo: int, hi: int, prefer_last: bool):
    """(verb, subject token) of the reporting verb (or 'according to') in tokens lo..hi; (None, None)."""
    doc = view.doc
    idx = range(hi - 1, lo - 1, -1) if prefer_last else range(lo, hi)
    for j in idx:
        t = doc[j]
        if t.lower_ == "according" and j + 1 < hi and doc[j + 1].lower_ == "to":
            for k in range(j + 2, min(hi, j + 8)):
                u = doc[k]
                if u.dep_ == "pobj" or u.i in view.ent_of:
                    while u.dep_ in ("compound", "flat") and u.head.i > u.i:
                        u = u.head
                    return t, u
            continue
        if is_report_verb(view, t):
            s = subject_of(view, t)
            if s is not None and not (lo <= s.i < hi):
                s = None if view.in_quote[s.i] else s
            if s is None:
                s = inverted_subject(view, t, lo, hi)
            if s is None:
                # "..., he said" where the parser hung the pronoun elsewhere: nearest nominal before
                for k in range(j - 1, max(lo - 1, j - 6), -1):
                    u = doc[k]
                    if (u.pos_ in ("PRON", "PROPN") or u.i in view.ent_of) and not is_time(u):
                        s = u
                        break
            if s is not None:
                return t, s
    return None, None


def dash_speaker(view: ArticleView, lo: int, hi: int):
    """For '"..." — Jane Smith' the name after the dash."""
    doc = view.doc
    while lo < hi and doc[lo].is_space:
        lo += 1  # a no-break space between the closing mark and the dash
    if hi - lo < 2 or hi - lo > 8 or doc[lo].text not in QUOTATION_DASHES:
        return None
    # only a byline-like tail: the dash and name end the paragraph, or the next quotation follows them
    # ('"..." ― Ann Ross "..." ― Tom Hale', a list of readers' answers)
    if hi < len(doc) and not ("\n" in doc[hi - 1].whitespace_ or "\n" in doc[hi].text or doc[hi].text in (".",)
                              or view.in_quote[hi]):
        return None
    for j in range(lo + 1, min(hi, lo + 5)):
        t = doc[j]
        ent = view.entity(t.i, ("person", "org"))
        if ent is not None:
            return doc[ent.end - 1]
        if t.pos_ == "PROPN":
            while j + 1 < hi and doc[j + 1].pos_ == "PROPN":
                j += 1
            return doc[j]
    return None


def colon_speaker(view: ArticleView, lo: int, hi: int):
    """For 'Smith: "..."' the name before the colon."""
    doc = view.doc
    if hi - 1 < lo or doc[hi - 1].text not in (":",):
        return None
    for j in range(hi - 2, max(lo - 1, hi - 8), -1):
        t = doc[j]
        if is_channel(view, t):
            return t  # the resolver finds who posted it
        if view.entity(t.i, ("person", "org")) is not None:
            return t
        if t.pos_ in ("PROPN", "PRON"):
            return t
    return None


def is_argument(view: ArticleView, v, t0: int, t1: int) -> bool:
    """Whether the quoted tokens t0..t1 are an object or complement of verb v (not a title in a
    prepositional phrase, 'said on the show "Morning Desk"')."""
    for t in view.doc[t0:t1]:
        if t.head.i < t0 or t.head.i >= t1:  # a root of the quoted span
            h, dep = t.head, t.dep_
            if h.i == v.i and dep in ("dobj", "oprd", "attr", "ccomp", "xcomp", "acomp", "npadvmod", "dep"):
                return True
            if h.head.i == v.i and h.dep_ in ("dobj", "oprd", "attr", "acomp") and dep in ("amod", "compound", "oprd", "attr", "appos", "conj"):
                return True
            if h.lower_ == "as" and h.head.i == v.i:
                return True  # 'described it as "plain theft"'
    return False


def _cue_on_side(view: ArticleView, lo: int, hi: int, side: str) -> Cue | None:
    """A reporting verb in tokens lo..hi (the one nearest the quote), else the punctuation cue of that side:
    a dash with a name after the quote, a name and colon before it."""
    v, s = cue_in(view, lo, hi, prefer_last=side == "before")
    if v is not None:
        return Cue(s, v, side=side)
    s = dash_speaker(view, lo, hi) if side == "after" else colon_speaker(view, lo, hi)
    return Cue(s, None, "—" if side == "after" else ":", side=side) if s is not None else None


def direct_cue(view: ArticleView, q: Quote) -> Cue | None:
    """The cue of a direct quote: a reporting verb or dash after it, else a verb or colon before it.
    Also records on q how much narration precedes it in its sentence."""
    cue = _cue_on_side(view, *view.region_after(q.t1), "after")
    before_lo, before_hi = view.region_before(q.t0)
    q.before = before_hi - before_lo
    cue = cue or _cue_on_side(view, before_lo, before_hi, "before")
    if cue is None and before_hi == before_lo:
        cue = _introduction(view, q)
    return cue


def _introduction(view: ArticleView, q: Quote) -> Cue | None:
    """For a quote opening its paragraph after one that ends with a colon ('The board wrote in a
    notice:' then the quotation set off below it): the cue of that closing sentence."""
    doc = view.doc
    j = q.t0 - 1
    while j >= 0 and doc[j].is_space:
        j -= 1
    if j < 0 or doc[j].text != ":" or view.in_quote[j] or view.para_of[j] == view.para_of[q.t0]:
        return None
    return _cue_on_side(view, view.sent_start[j], j + 1, "before")


# ---- indirect speech ---------------------------------------------------------------------------
def _trim(view: ArticleView, a: int, b: int) -> tuple[int, int]:
    """Shrink a token range to exclude edge punctuation and spaces outside quote marks, and grow it over
    direct quotes it cuts into, so 'X said the plan was "a mess"' is one quote."""
    doc, in_quote, quote_of = view.doc, view.in_quote, view.quote_of
    while a > 0 and in_quote[a] and in_quote[a - 1] and quote_of[a - 1] == quote_of[a]:
        a -= 1
    while b < len(doc) and in_quote[b - 1] and in_quote[b] and quote_of[b] == quote_of[b - 1]:
        b += 1
    while b > a and (doc[b - 1].is_space or (doc[b - 1].is_punct and not in_quote[b - 1])):
        b -= 1
    while a < b and (doc[a].is_space or (doc[a].is_punct and not in_quote[a])):
        a += 1
    return a, b


def indirect_quote(view: ArticleView, a: int, b: int, verb, subj, verb_text=None) -> Quote | None:
    """An indirect quote over tokens a..b, unless it is really a direct quote or too short."""
    doc = view.doc
    if view.is_headline(verb.i):
        return None  # headlines and "READ MORE:" links report, they do not quote
    a, b = view.clip_paragraph(a, b, verb.i)
    words = [x for x in doc[a:b] if not x.is_punct and not x.is_space]
    if len(words) < 3:
        return None
    quoted = sum(1 for x in words if view.in_quote[x.i])
    if view.in_quote[words[0].i] and quoted >= 0.5 * len(words):
        return None  # the complement is a direct quote: handled with the direct quotes
    a, b = _trim(view, a, b)
    if b <= a:
        return None
    return Quote(doc[a].idx, doc[b - 1].idx + len(doc[b - 1].text), "indirect", t0=a, t1=b,
                 verb=verb_text or verb.text, cue=True, verb_i=verb.i, subject=subj)


def _parenthetical(view: ArticleView, v, subj) -> Quote | None:
    """'The plan, he said, is sound.' / 'The plan is sound, he said.': the cue set off by commas."""
    doc = view.doc
    if v.lemma_.lower() not in PARENTHETICAL_LEMMAS:
        return None
    lo, hi = min(v.i, subj.left_edge.i), max(v.i, subj.right_edge.i) + 1
    # allow a trailing time word or "in a statement" after the verb
    while hi < len(doc) and doc[hi].dep_ in ("npadvmod", "advmod", "prep", "pobj", "det", "compound", "amod", "dobj") \
            and not view.in_quote[hi] and hi - v.i < 6:
        hi += 1
    if lo == 0 or doc[lo - 1].text != ",":
        return None
    sent = v.sent
    if hi < sent.end and doc[hi].text not in (",", ".", "!", "?") and not doc[hi].is_space:
        return None
    if any(view.in_quote[i] for i in range(sent.start, sent.end)):
        return None  # '"...," she said, laughing': the cue of a direct quote
    a, b = sent.start, sent.end
    if hi < sent.end and doc[hi].text == ",":
        # mid-sentence cue: both sides are the statement
        a_, b_ = view.clip_paragraph(a, b, v.i)
        return indirect_quote(view, a_, b_, v, subj)
    return indirect_quote(view, a, lo - 1, v, subj)


def _according(view: ArticleView, t) -> Quote | None:
    """'According to X, ...': the rest of the sentence is X's statement."""
    doc = view.doc
    if t.i + 1 >= len(doc) or doc[t.i + 1].lower_ != "to":
        return None
    to = doc[t.i + 1]
    pobj = next((c for c in to.children if c.dep_ == "pobj"), None)
    if pobj is None:
        return None
    speaker_tok = pobj
    # "according to a study by the Lane Institute": the named source inside the phrase; but
    # "according to the clerk who phoned the station" is the clerk.
    if pobj.i not in view.ent_of and not (pobj.lemma_.lower() in SOURCE_NOUNS and pobj.pos_ == "NOUN"):
        for u in pobj.subtree:
            if view.entity(u.i) is not None:
                speaker_tok = u
                break
    sent = t.sent
    phrase_lo, phrase_hi = t.i, pobj.right_edge.i + 1
    if phrase_lo - sent.start <= 1 and sent.end - phrase_hi < 3:
        # the parse hung the statement on the source ("According to Ann Ross, the plan fails."): the phrase
        # ends at the first comma after its object
        phrase_hi = next((u.i for u in doc[pobj.i : sent.end] if u.text == ","), phrase_hi)
    if phrase_lo - sent.start <= 1:
        a, b = phrase_hi, sent.end
    else:
        a, b = sent.start, phrase_lo
    return indirect_quote(view, a, b, t, speaker_tok, "according to")


def _maybe_cues(doc):
    """The tokens that may be cues: a reporting verb's lemma or 'according' (found on arrays, so only those
    become Token objects)."""
    if not len(doc):
        return []
    lemmas, lowers = doc.to_array(LEMMA), doc.to_array(LOWER)
    strings = doc.vocab.strings
    wanted = [u for u in np.unique(lemmas).tolist() if strings[u].lower() in REPORT_LEMMAS]
    hits = np.isin(lemmas, np.array(wanted, dtype=lemmas.dtype)) | (lowers == strings["according"])
    return [doc[i] for i in np.nonzero(hits)[0].tolist()]


def find_indirect(view: ArticleView) -> list[Quote]:
    """Reported speech: a reporting verb's clausal complement, and 'according to X' sentences."""
    out: list[Quote] = []
    doc = view.doc
    for t in _maybe_cues(doc):
        if not is_report_verb(view, t):
            if t.lower_ == "according" and not view.in_quote[t.i]:
                q = _according(view, t)
                if q:
                    out.append(q)
            continue
        if any(c.dep_ == "neg" for c in t.children):
            continue
        if any(c.dep_ == "auxpass" for c in t.children) and not any(c.dep_ == "agent" for c in t.children):
            continue  # "residents were asked to ...": the asker is not named
        subj = subject_of(view, t)
        if subj is None or view.in_quote[subj.i]:
            continue
        if subj.lower_ in FIRST_SECOND:
            continue
        comps = [c for c in t.children if c.dep_ == "ccomp" and c.i > t.i] or [c for c in t.children if c.dep_ == "ccomp"]
        if not comps and t.lemma_.lower() in DIRECTIVE_LEMMAS:
            # "urged voters to stay home": the infinitive after the addressee is the message
            comps = [c for c in t.children if c.dep_ == "xcomp" and c.i > t.i
                     and any(d.dep_ == "aux" and d.lower_ == "to" for d in c.children)]
        if not comps:
            # "said in a short note that ...": the parse hung the that-clause on the noun
            for c in t.subtree:
                if c.i > t.i and c.dep_ == "mark" and c.lower_ == "that" and c.head.pos_ in ("VERB", "AUX") \
                        and c.head.dep_ in ("acl", "relcl", "advcl") and c.i - t.i <= 8:
                    comps = [c.head]
                    break
        if comps:
            comp = comps[-1]
            a, b = comp.left_edge.i, comp.right_edge.i + 1
            first = doc[a]
            if first.lower_ in QUESTION_WORDS:
                continue  # "asked whether ...": a question reported, not a statement
            if t.lemma_.lower() in WEAK_LEMMAS and first.lower_ != "that":
                continue
            q = indirect_quote(view, a, b, t, subj)
        else:
            q = _parenthetical(view, t, subj)
        if q:
            out.append(q)
    return out


def find_posts(view: ArticleView) -> list[Quote]:
    """Embedded social-media posts: the post is a verbatim quote by its author."""
    out = []
    for s, e, a_s, a_e in find_embedded_posts(view.text):
        author = view.doc.char_span(a_s, a_e, alignment_mode="expand")
        if author is None:
            continue
        body = view.doc.char_span(s, e, alignment_mode="expand")
        if body is None:
            continue
        out.append(Quote(s, e, "direct", t0=body.start, t1=body.end, verb="posted", cue=True,
                         subject=author[-1], post=True))
    return out


# ---- partial quotes: a few quoted words inside the writer's own clause -------------------------------
@dataclass(frozen=True)
class PartialCandidate:
    """A verb whose clause carries a short direct quote ('Ross called the plan "a costly blunder"'): the
    clause from the verb's first complement to the end of the one holding the quote may be Ross's words."""

    quote: Quote  # the direct quote inside
    verb: object  # spaCy Token governing it
    subject: object  # the verb's subject token
    child: object  # the verb's child whose subtree holds the quote
    start: int  # token range of the reported content
    end: int


# How many heads up from a quote a governing verb may stand (PolNeAR train: the annotated reported clause around
# a short quotation reaches its cue within eight steps of the parse).
PARTIAL_CLIMB = 8


def partial_candidate(view: ArticleView, q: Quote) -> PartialCandidate | None:
    """The clause that reports a direct quote embedded in narration, when a verb outside quotation marks
    with a subject of its own governs it; None otherwise."""
    doc = view.doc
    roots = [t for t in doc[q.t0 : q.t1] if not (q.t0 <= t.head.i < q.t1)]
    if not roots:
        return None
    child, verb = roots[0], roots[0].head
    subj = None
    # climb from the quote to the first verb outside it that has a subject of its own and the quote after it
    # ('ended by stating she might "soon" retire' reaches "stating"; 'kept calling the plan "a mess"' "calling")
    for _ in range(PARTIAL_CLIMB):
        if verb.pos_ in ("VERB", "AUX") and not view.in_quote[verb.i] and child.i > verb.i:
            subj = subject_of(view, verb)
            if subj is not None and not view.in_quote[subj.i] and subj.lower_ not in FIRST_SECOND:
                break
        if verb.head.i == verb.i:
            return None
        child, verb = verb, verb.head
    else:
        return None
    firsts = [c for c in verb.children if c.i > verb.i and c.dep_ not in ("punct", "prt", "advmod", "neg", "aux")]
    start = min([c.left_edge.i for c in firsts] + [child.left_edge.i])
    end = max(child.right_edge.i + 1, q.t1)
    start, end = view.clip_paragraph(start, end, verb.i)
    start, end = _trim(view, start, end)
    if end - start < 2:
        return None
    return PartialCandidate(q, verb, subj, child, start, end)


def partial_quote(view: ArticleView, cand: PartialCandidate) -> Quote:
    """The reported content of a partial-quote candidate as an indirect quote."""
    doc = view.doc
    last = doc[cand.end - 1]
    return Quote(doc[cand.start].idx, last.idx + len(last.text), "indirect", t0=cand.start, t1=cand.end,
                 verb=cand.verb.text, cue=True, verb_i=cand.verb.i, subject=cand.subject)
