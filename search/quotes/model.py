"""Step 5: the trained models and their features, three small logistic models:

- the source ranker: for a quote, every noun-phrase head near it is a candidate source, scored from
  syntactic, distance, cue and entity features; the best one is the source (trained on PolNeAR);
- the partial-quote detector: whether the clause of a verb that governs a few quoted words inside
  narration reports someone's words (trained on PolNeAR);
- the confidence model: how likely a quote's speaker is right, from how it was found (trained on the
  GGT dev articles; `make eval` reports its 5-fold cross-validation).

Weights live in `search/data/*.json` (plain JSON: feature names, weights, bias, and a note of the training
data and of the command that made them, `make train`, see bench/train_attribution.py). Features are
non-lexical, except a verb's lemma, which enters only hashed into a few buckets, so no word or phrase of
the training texts is stored. Scoring needs only NumPy.
"""
from __future__ import annotations

import json
import math
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from spacy import symbols as spacy_symbols

from search.quotes.cues import is_report_verb, is_time
from search.quotes.lexicon import FIRST_SECOND, GROUP_PRONOUNS, HE_SHE, QUOTATION_DASHES, RELATIVE_PRONOUNS
from search.quotes.view import ArticleView, Quote

MODEL_PATH = Path(__file__).resolve().parents[1] / "data" / "source_ranker.json"
# How far from a quote a source may stand, in tokens (PolNeAR: 99% of sources before a quote are within
# 30 words of it, after it within 10; almost all in the same paragraph).
WINDOW_BEFORE = 45
WINDOW_AFTER = 20
HASH_BUCKETS = 32
_DEPS = ("nsubj", "nsubjpass", "pobj", "appos", "dobj", "poss", "conj", "attr", "ROOT", "npadvmod", "dep")


def feature_names() -> list[str]:
    """The names of the feature vector's positions, in order."""
    names = ["bias_candidate", "before", "after", "inside", "log_distance", "d_le2", "d_le5", "d_le10", "d_le20",
             "same_sentence", "same_paragraph", "nearest_on_side", "rank_on_side",
             "pos_PROPN", "pos_PRON", "pos_NOUN"]
    names += [f"dep_{d}" for d in _DEPS] + ["dep_other"]
    names += ["ent_person", "ent_org", "ent_place", "ent_none",
              "pron_he_she", "pron_group", "pron_first_second", "pron_relative", "in_other_quote",
              "subject_of_report_verb", "subject_of_verb", "head_governs_quote", "according_to",
              "colon_after", "dash_before", "rule_subject", "rule_subject_verb", "rule_subject_mark",
              "rule_subject_according", "rule_subject_post", "quote_direct", "quote_indirect_x_after",
              "capitalised", "plural"]
    names += [f"head_lemma_{k}" for k in range(HASH_BUCKETS)]
    return names


_INDEX = {n: i for i, n in enumerate(feature_names())}
N_FEATURES = len(_INDEX)


def _bucket(word: str) -> int:
    """A stable hash bucket of a word (crc32, so every process and version agrees)."""
    return zlib.crc32(word.encode("utf-8")) % HASH_BUCKETS


@dataclass
class Candidates:
    """The candidate source tokens of one quote and their feature rows."""

    tokens: list  # spaCy Tokens
    X: np.ndarray  # (len(tokens), N_FEATURES)


# A candidate heads a noun phrase: a noun, name or pronoun that is not part of a bigger name or phrase.
_HEAD_POS = np.array([spacy_symbols.NOUN, spacy_symbols.PROPN, spacy_symbols.PRON], dtype=np.uint64)
_NON_HEAD_DEPS = ("compound", "flat", "amod", "nmod", "det")


@lru_cache(maxsize=8)
def _non_head_deps(vocab) -> np.ndarray:
    """The ids of the dependency labels of words inside a noun phrase, in vocab's string store."""
    return np.array([vocab.strings[d] for d in _NON_HEAD_DEPS], dtype=np.uint64)


def _quote_heads(view: ArticleView, q: Quote) -> set[int]:
    """Tokens outside the quote that its tokens hang on, and their heads (the verb that governs it)."""
    out: set[int] = set()
    for t in view.doc[q.t0 : q.t1]:
        h = t.head
        if not (q.t0 <= h.i < q.t1):
            out.add(h.i)
            out.add(h.head.i)
    return out


def candidates(view: ArticleView, q: Quote) -> Candidates:
    """Noun-phrase heads near quote q (same paragraph, within the window) with their features."""
    doc = view.doc
    p0, p1 = view.para_of[q.t0], view.para_of[q.t1 - 1]
    lo, hi = max(0, q.t0 - WINDOW_BEFORE), min(len(doc), q.t1 + WINDOW_AFTER)
    # noun-phrase heads by array filters first: building a Token for every word of the window is the cost
    heads_mask = np.isin(view.pos[lo:hi], _HEAD_POS) & ~np.isin(view.dep[lo:hi], _non_head_deps(doc.vocab))
    keep = set((lo + np.nonzero(heads_mask)[0]).tolist())
    if q.subject is not None and lo <= q.subject.i < hi:
        keep.add(q.subject.i)
    subj_i = q.subject.i if q.subject is not None else -1
    # the rules' own choice stays a candidate wherever it stands (an introduction ending with a colon in the
    # paragraph before); dates and times never speak
    toks = [doc[i] for i in sorted(keep)
            if not (q.kind == "direct" and q.t0 <= i < q.t1) and (p0 <= view.para_of[i] <= p1 or i == subj_i)
            and (i == subj_i or not is_time(doc[i]))]
    X = np.zeros((len(toks), N_FEATURES), dtype=np.float32)
    if not toks:
        return Candidates(toks, X)
    heads = _quote_heads(view, q)
    sent_start = view.sent_start
    q_sent_first, q_sent_last = sent_start[q.t0], sent_start[q.t1 - 1]
    before_idx = [k for k, t in enumerate(toks) if t.i < q.t0]
    after_idx = [k for k, t in enumerate(toks) if t.i >= q.t1]
    rank = {}
    for r, k in enumerate(reversed(before_idx)):
        rank[k] = r
    for r, k in enumerate(after_idx):
        rank[k] = r
    verb = q.verb or ""
    for k, t in enumerate(toks):
        row = X[k]
        f = _INDEX
        row[f["bias_candidate"]] = 1
        if t.i < q.t0:
            d = q.t0 - t.i
            row[f["before"]] = 1
        elif t.i >= q.t1:
            d = t.i - q.t1 + 1
            row[f["after"]] = 1
        else:
            d = 0
            row[f["inside"]] = 1
        row[f["log_distance"]] = math.log1p(d) / 4
        row[f["d_le2"]] = d <= 2
        row[f["d_le5"]] = d <= 5
        row[f["d_le10"]] = d <= 10
        row[f["d_le20"]] = d <= 20
        sent = sent_start[t.i]
        row[f["same_sentence"]] = sent in (q_sent_first, q_sent_last)
        row[f["same_paragraph"]] = view.para_of[t.i] in (p0, p1)
        r = rank.get(k, 0)
        row[f["nearest_on_side"]] = r == 0
        row[f["rank_on_side"]] = min(r, 10) / 10
        if t.pos_ in ("PROPN", "PRON", "NOUN"):
            row[f["pos_" + t.pos_]] = 1
        dep = t.dep_ if t.dep_ in _DEPS else "other"
        row[f["dep_" + dep]] = 1
        ent = view.ent_of.get(t.i)
        row[f["ent_" + (ent.label if ent is not None else "none")]] = 1
        low = t.lower_
        row[f["pron_he_she"]] = low in HE_SHE
        row[f["pron_group"]] = low in GROUP_PRONOUNS
        row[f["pron_first_second"]] = low in FIRST_SECOND
        row[f["pron_relative"]] = low in RELATIVE_PRONOUNS
        row[f["in_other_quote"]] = view.in_quote[t.i] and not (q.t0 <= t.i < q.t1)
        h = t.head
        if t.dep_ in ("nsubj", "nsubjpass", "csubj"):
            row[f["subject_of_verb"]] = 1
            row[f["subject_of_report_verb"]] = is_report_verb(view, h)
            row[f[f"head_lemma_{_bucket(h.lemma_.lower())}"]] = 1
        row[f["head_governs_quote"]] = h.i in heads
        row[f["according_to"]] = h.lower_ == "to" and h.head.lower_ == "according"
        nxt = t.right_edge.i + 1
        row[f["colon_after"]] = nxt < len(doc) and doc[nxt].text == ":"
        row[f["dash_before"]] = t.left_edge.i > 0 and doc[t.left_edge.i - 1].text in QUOTATION_DASHES
        if t.i == subj_i:
            row[f["rule_subject"]] = 1
            if q.post:
                row[f["rule_subject_post"]] = 1
            elif verb == "according to":
                row[f["rule_subject_according"]] = 1
            elif verb in (":", "—"):
                row[f["rule_subject_mark"]] = 1
            else:
                row[f["rule_subject_verb"]] = 1
        row[f["quote_direct"]] = q.kind == "direct"
        row[f["quote_indirect_x_after"]] = q.kind == "indirect" and t.i >= q.t1
        row[f["capitalised"]] = t.text[:1].isupper() and t.i > sent
        row[f["plural"]] = t.tag_ in ("NNS", "NNPS")
    return Candidates(toks, X)


class LogisticModel:
    """A logistic scorer from plain weights over named features (the ranker and the confidence model)."""

    def __init__(self, weights: np.ndarray, bias: float, names: list[str], meta: dict | None = None):
        """Weights in the order of names."""
        if weights.shape != (len(names),):
            raise ValueError(f"model has {weights.shape[0]} weights, the features are {len(names)}: "
                             f"retrain with `make train`")
        self.w = weights.astype(np.float32)
        self.b = float(bias)
        self.names = names
        self.meta = meta or {}

    @classmethod
    def load(cls, path, names: list[str]) -> LogisticModel:
        """Read a weights file (see module docstring) made for the features `names`."""
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if data.get("features") != names:
            raise ValueError(f"{path}: its features differ from this code's: retrain with `make train`")
        return cls(np.asarray(data["weights"], dtype=np.float32), data["bias"], names, data)

    def probabilities(self, X: np.ndarray) -> np.ndarray:
        """P(positive) of each row."""
        z = X @ self.w + self.b
        return 0.5 * (1.0 + np.tanh(0.5 * z))  # the logistic function, without exp's overflow warning


class SourceRanker(LogisticModel):
    """The source ranker: P(source) of each candidate row of candidates()."""

    def __init__(self, weights: np.ndarray, bias: float, meta: dict | None = None):
        """Weights in feature_names() order."""
        super().__init__(weights, bias, feature_names(), meta)

    @classmethod
    def load(cls, path=MODEL_PATH) -> SourceRanker:
        """Read the ranker's weights file."""
        m = LogisticModel.load(path, feature_names())
        return cls(m.w, m.b, m.meta)


@lru_cache(maxsize=1)
def default_ranker() -> SourceRanker | None:
    """The committed ranker; None when the weights file is absent (rules alone then decide)."""
    return SourceRanker.load() if MODEL_PATH.exists() else None


# ---- confidence: how likely a quote's speaker is right ---------------------------------------------
CONFIDENCE_PATH = MODEL_PATH.parent / "speaker_confidence.json"
# How a speaker was found: the resolver's rules (speakers.py) and the carry-over rules (attribution.py).
HOWS = ("", "joint", "surname", "titled_name", "entity_person", "entity_org", "entity_place", "appositive", "medium",
        "name", "pronoun", "pronoun_group", "org_noun", "description", "description_group", "focus", "described",
        "document", "document_last", "group", "floating", "introduced", "named_later", "institution",
        "description_new", "description_other")


def confidence_feature_names() -> list[str]:
    """The names of the confidence model's features, in order."""
    return ([f"how_{h or 'none'}" for h in HOWS]
            + ["direct", "cue_verb", "cue_mark", "cue_according", "cue_post", "cue_none", "source_p", "source_p_low",
               "speaker_one_word", "speaker_two_words", "speaker_long", "speaker_lower", "speaker_mentions",
               "speaker_known_person", "label_person", "label_org", "label_group", "quote_words"])


_CONF_INDEX = {n: i for i, n in enumerate(confidence_feature_names())}


def confidence_features(view: ArticleView, quotes: list[Quote]) -> np.ndarray:
    """One row of confidence features per quote (see confidence_feature_names)."""
    f = _CONF_INDEX
    mentions: dict[str, int] = {}
    for m in view.mentions:
        mentions[m["value"]] = mentions.get(m["value"], 0) + 1
    X = np.zeros((len(quotes), len(f)), dtype=np.float32)
    for k, q in enumerate(quotes):
        row = X[k]
        row[f["how_" + (q.how if q.how in HOWS and q.how else "none")]] = 1
        row[f["direct"]] = q.kind == "direct"
        if q.post:
            row[f["cue_post"]] = 1
        elif q.verb == "according to":
            row[f["cue_according"]] = 1
        elif q.verb in (":", "—"):
            row[f["cue_mark"]] = 1
        elif q.verb and q.cue:
            row[f["cue_verb"]] = 1
        else:
            row[f["cue_none"]] = 1
        row[f["source_p"]] = q.source_p
        row[f["source_p_low"]] = q.source_p < 0.5
        name = q.speaker or ""
        words = name.split()
        row[f["speaker_one_word"]] = len(words) == 1
        row[f["speaker_two_words"]] = len(words) == 2
        row[f["speaker_long"]] = len(words) > 2
        row[f["speaker_lower"]] = name[:1].islower()
        bare = name[4:] if name.startswith("the ") else name
        row[f["speaker_mentions"]] = math.log1p(mentions.get(bare, 0)) / 3
        row[f["speaker_known_person"]] = q.label == "person" and bool(name) and view.persons.knows(name)
        if q.label in ("person", "org", "group"):
            row[f["label_" + q.label]] = 1
        row[f["quote_words"]] = math.log1p(q.t1 - q.t0) / 5
    return X


@lru_cache(maxsize=1)
def default_confidence() -> LogisticModel | None:
    """The committed confidence model; None when its weights file is absent (confidence = source probability)."""
    return LogisticModel.load(CONFIDENCE_PATH, confidence_feature_names()) if CONFIDENCE_PATH.exists() else None


# ---- partial quotes: is a verb's clause with a few quoted words someone's reported words? -------------
PARTIAL_PATH = MODEL_PATH.parent / "partial_quotes.json"
_CHILD_DEPS = ("dobj", "oprd", "ccomp", "xcomp", "attr", "pobj", "prep", "acomp", "advcl", "conj", "npadvmod")


def partial_feature_names() -> list[str]:
    """The names of the partial-quote detector's features, in order."""
    return (["report_verb", "verb_past", "verb_present", "verb_participle", "negated", "title_like",
             "quote_words_le2", "quote_words_le4", "quote_words", "quote_is_child", "quote_at_end",
             "content_words", "subject_person", "subject_org", "subject_pronoun", "subject_noun", "prep_as",
             "other_quotes_in_sentence"]
            + [f"child_{d}" for d in _CHILD_DEPS] + ["child_other"]
            + [f"verb_lemma_{k}" for k in range(HASH_BUCKETS)])


_PART_INDEX = {n: i for i, n in enumerate(partial_feature_names())}


def partial_features(view: ArticleView, cand) -> np.ndarray:
    """The feature row of a cues.PartialCandidate."""
    from search.quotes.spans import looks_like_title

    f = _PART_INDEX
    row = np.zeros(len(f), dtype=np.float32)
    v, q, s, child = cand.verb, cand.quote, cand.subject, cand.child
    row[f["report_verb"]] = is_report_verb(view, v)
    row[f["verb_past"]] = v.tag_ in ("VBD", "VBN")
    row[f["verb_present"]] = v.tag_ in ("VBZ", "VBP")
    row[f["verb_participle"]] = v.tag_ == "VBG"
    row[f["negated"]] = any(c.dep_ == "neg" for c in v.children)
    row[f["title_like"]] = looks_like_title(view.text[q.start:q.end].strip("\"“”„«»'‘’` ,."))
    words = sum(1 for t in view.doc[q.t0:q.t1] if t.is_alpha)
    row[f["quote_words_le2"]] = words <= 2
    row[f["quote_words_le4"]] = words <= 4
    row[f["quote_words"]] = math.log1p(words) / 4
    row[f["quote_is_child"]] = child.left_edge.i >= q.t0 and child.right_edge.i < q.t1
    row[f["quote_at_end"]] = q.t1 >= cand.end
    row[f["content_words"]] = math.log1p(cand.end - cand.start) / 4
    ent = view.ent_of.get(s.i)
    row[f["subject_person"]] = ent is not None and ent.label == "person"
    row[f["subject_org"]] = ent is not None and ent.label != "person"
    row[f["subject_pronoun"]] = s.pos_ == "PRON"
    row[f["subject_noun"]] = s.pos_ == "NOUN"
    row[f["prep_as"]] = any(c.dep_ == "prep" and c.lower_ == "as" for c in v.children)
    sent = v.sent
    row[f["other_quotes_in_sentence"]] = len({view.quote_of[i] for i in range(sent.start, sent.end)
                                              if view.quote_of[i] >= 0}) > 1
    dep = child.dep_ if child.dep_ in _CHILD_DEPS else "other"
    row[f["child_" + dep]] = 1
    row[f[f"verb_lemma_{_bucket(v.lemma_.lower())}"]] = 1
    return row


@lru_cache(maxsize=1)
def default_partial() -> LogisticModel | None:
    """The committed partial-quote detector; None when its weights file is absent (no partial quotes)."""
    return LogisticModel.load(PARTIAL_PATH, partial_feature_names()) if PARTIAL_PATH.exists() else None


# ---- antecedents: which person or organisation named before a pronoun or description it stands for ---------
ANTECEDENT_PATH = MODEL_PATH.parent / "antecedent_ranker.json"
_MENTION_DEPS = ("subject", "poss", "dobj", "pobj", "appos", "other")


def antecedent_feature_names() -> list[str]:
    """The names of the antecedent ranker's features, in order."""
    return (["log_tokens", "same_sentence", "sentences_1", "sentences_2", "sentences_3_5", "sentences_6",
             "same_paragraph", "paragraphs_1", "paragraphs_2", "paragraphs_3", "recency_0", "recency_1", "recency_2",
             "subject_recency_0", "subject_recency_1", "mentions", "mention_share", "first_named",
             "subject_in_window", "last_speaker", "last_speaker_of_kind", "spoke", "spoke_in_window",
             "gender_match", "gender_mismatch", "in_own_words", "label_org"]
            + [f"last_{d}" for d in _MENTION_DEPS])


_ANT_INDEX = {n: i for i, n in enumerate(antecedent_feature_names())}


@dataclass
class Antecedents:
    """The entities an anaphor may stand for (canonical names and labels) and their feature rows."""

    values: list[str]
    labels: list[str]
    X: np.ndarray


def _sentence_numbers(view: ArticleView) -> list[int]:
    """Ordinal of each token's sentence (cached on the view)."""
    nums = getattr(view, "_sentence_numbers", None)
    if nums is None:
        starts = np.asarray(view.sent_start, dtype=np.int64)
        nums = (np.cumsum(np.r_[1, np.diff(starts) != 0]) - 1).tolist() if len(starts) else []
        view._sentence_numbers = nums
    return nums


def _mention_dep(tok) -> str:
    """The grammatical role of a mention's last token, coarsely."""
    if tok.dep_ in ("nsubj", "nsubjpass"):
        return "subject"
    return tok.dep_ if tok.dep_ in _MENTION_DEPS else "other"


def antecedent_candidates(view: ArticleView, before: int, labels: tuple[str, ...], gender: str | None,
                          genders: dict[str, str], turns: list, own: tuple[int, int] | None = None) -> Antecedents:
    """Every entity of the given labels named before token `before` (outside quotation marks), with features of
    how it stands to an anaphor there: distance of its last mention, salience, grammatical role, whether it
    spoke, gender agreement. `turns` are the discourse's (pos, name, label) before it; `own` the token range of
    the anaphor's quote, whose speaker it rarely names."""
    doc = view.doc
    sent_no = _sentence_numbers(view)
    by_value: dict[str, list[dict]] = {}
    for m in view.mentions:
        if m["tend"] > before or m["label"] not in labels or view.in_quote[m["tstart"]]:
            continue
        by_value.setdefault(m["value"], []).append(m)
    values = list(by_value)
    X = np.zeros((len(values), len(_ANT_INDEX)), dtype=np.float32)
    if not values:
        return Antecedents(values, [], X)
    f = _ANT_INDEX
    last = {v: ms[-1] for v, ms in by_value.items()}
    order = sorted(values, key=lambda v: -last[v]["tstart"])
    subj_last = {v: max((m["tstart"] for m in ms if _mention_dep(doc[m["tend"] - 1]) == "subject"), default=-1)
                 for v, ms in by_value.items()}
    subj_order = sorted((v for v in values if subj_last[v] >= 0), key=lambda v: -subj_last[v])
    total = sum(len(ms) for ms in by_value.values())
    first = min(values, key=lambda v: by_value[v][0]["tstart"])
    turns = [t for t in turns if t[0] < before]
    last_turn = turns[-1] if turns else None
    kind_turn = next((t for t in reversed(turns) if t[2] in labels), None)
    spoke: dict[str, list[int]] = {}
    for pos, name, _label in turns:
        spoke.setdefault(name, []).append(pos)
    a_sent, a_para = sent_no[before], view.para_of[before]
    for k, v in enumerate(values):
        row = X[k]
        m = last[v]
        end = m["tend"] - 1
        row[f["log_tokens"]] = math.log1p(max(0, before - end)) / 6
        ds = a_sent - sent_no[end]
        row[f["same_sentence"]] = ds == 0
        row[f["sentences_1"]] = ds == 1
        row[f["sentences_2"]] = ds == 2
        row[f["sentences_3_5"]] = 3 <= ds <= 5
        row[f["sentences_6"]] = ds >= 6
        dp = a_para - view.para_of[end]
        row[f["same_paragraph"]] = dp == 0
        row[f["paragraphs_1"]] = dp == 1
        row[f["paragraphs_2"]] = dp == 2
        row[f["paragraphs_3"]] = dp >= 3
        r = order.index(v)
        row[f["recency_" + str(min(r, 2))]] = 1
        if v in subj_order[:2]:
            row[f["subject_recency_" + str(subj_order.index(v))]] = 1
        n = len(by_value[v])
        row[f["mentions"]] = math.log1p(n) / 3
        row[f["mention_share"]] = n / total
        row[f["first_named"]] = v == first
        row[f["subject_in_window"]] = subj_last[v] >= 0 and a_para - view.para_of[subj_last[v]] <= 1
        row[f["last_speaker"]] = last_turn is not None and last_turn[1] == v
        row[f["last_speaker_of_kind"]] = kind_turn is not None and kind_turn[1] == v
        row[f["spoke"]] = math.log1p(len(spoke.get(v, ()))) / 2
        row[f["spoke_in_window"]] = any(a_para - view.para_of[p] <= 2 for p in spoke.get(v, ()))
        g = genders.get(v)
        row[f["gender_match"]] = gender is not None and g == gender
        row[f["gender_mismatch"]] = gender is not None and g is not None and g != gender
        row[f["in_own_words"]] = own is not None and own[0] <= m["tstart"] < own[1]
        row[f["label_org"]] = m["label"] != "person"
        row[f["last_" + _mention_dep(doc[end])]] = 1
    return Antecedents(values, [last[v]["label"] for v in values], X)


@lru_cache(maxsize=1)
def default_antecedent() -> LogisticModel | None:
    """The committed antecedent ranker; None when its weights file is absent (the rules then choose)."""
    return LogisticModel.load(ANTECEDENT_PATH, antecedent_feature_names()) if ANTECEDENT_PATH.exists() else None


@dataclass(frozen=True)
class Models:
    """The trained models attribution uses; any may be None (the rules alone then decide that step)."""

    ranker: SourceRanker | None = None
    confidence: LogisticModel | None = None
    partial: LogisticModel | None = None
    antecedent: LogisticModel | None = None


def default_models() -> Models:
    """The committed models."""
    return Models(default_ranker(), default_confidence(), default_partial(), default_antecedent())
