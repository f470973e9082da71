"""Each attribution rule on hand-built spaCy Docs (words, heads, tags, entities written out): no model needed.

The sentences are made up for these tests. A token is written "word/POS/TAG/dep/head/lemma", head being the
absolute index of the head token; a trailing "_" glues the next token to it (no space)."""
from __future__ import annotations

import json

import numpy as np
import pytest
import spacy
from spacy.tokens import Doc

from search.names import PersonIndex
from search.quotes import attribution, cues, model
from search.quotes.speakers import Discourse, SpeakerResolver
from search.quotes.view import ArticleView, Quote


@pytest.fixture(scope="module")
def vocab():
    return spacy.blank("en").vocab


def build(vocab, spec: str, persons=(), orgs=()):
    """(Doc, mentions, PersonIndex) from a compact token spec; persons/orgs are (first, end) token ranges."""
    words, spaces, pos, tags, deps, heads, lemmas = [], [], [], [], [], [], []
    for item in spec.split():
        glued = item.endswith("_")
        w, p, t, d, h, lem = item.rstrip("_").split("/")
        words.append("\n\n" if w == "NL" else w)
        spaces.append(not glued)
        pos.append(p)
        tags.append(t)
        deps.append(d)
        heads.append(int(h))
        lemmas.append(lem)
    spaces[-1] = False
    ents = ["O"] * len(words)
    for label, ranges in (("PERSON", persons), ("ORG", orgs)):
        for a, b in ranges:
            ents[a] = f"B-{label}"
            for i in range(a + 1, b):
                ents[i] = f"I-{label}"
    doc = Doc(vocab, words=words, spaces=spaces, pos=pos, tags=tags, deps=deps, heads=heads, lemmas=lemmas,
              ents=ents)
    index = PersonIndex()
    mentions = []
    for e in doc.ents:
        label = "person" if e.label_ == "PERSON" else "org"
        if label == "person":
            index.add(e.text)
        mentions.append({"label": label, "value": e.text, "tstart": e.start, "tend": e.end,
                         "start": e.start_char, "end": e.end_char, "text": e.text})
    return doc, mentions, index


# “The bridge will close,” Ann Ross said.
AFTER_QUOTE = ("“/PUNCT/``/punct/4/“_ The/DET/DT/det/2/the bridge/NOUN/NN/nsubj/4/bridge will/AUX/MD/aux/4/will "
               "close/VERB/VB/ccomp/9/close_ ,/PUNCT/,/punct/4/,_ ”/PUNCT/''/punct/9/” Ann/PROPN/NNP/compound/8/Ann "
               "Ross/PROPN/NNP/nsubj/9/Ross said/VERB/VBD/ROOT/9/say_ ./PUNCT/./punct/9/.")


def view_of(vocab, spec, persons=(), orgs=()):
    doc, mentions, index = build(vocab, spec, persons, orgs)
    return ArticleView(doc, mentions, index)


def test_view_marks_the_quoted_tokens_and_the_entities(vocab):
    view = view_of(vocab, AFTER_QUOTE, persons=[(7, 9)])
    assert view.text == "“The bridge will close,” Ann Ross said."
    assert [q.kind for q in view.direct] == ["direct"] and (view.direct[0].t0, view.direct[0].t1) == (0, 7)
    assert view.in_quote == [True] * 7 + [False] * 4
    assert view.entity(8) == ("person", "Ann Ross", 7, 9) and view.entity(8, ("org",)) is None


def test_cue_after_the_quote_is_the_verb_and_its_subject(vocab):
    view = view_of(vocab, AFTER_QUOTE, persons=[(7, 9)])
    cue = cues.direct_cue(view, view.direct[0])
    assert (cue.verb.text, cue.subject.text, cue.side, cue.verb_text) == ("said", "Ross", "after", "said")
    assert cues.is_report_verb(view, view.doc[9]) and not cues.is_report_verb(view, view.doc[4])


def test_a_quote_is_attributed_to_the_named_subject(vocab):
    doc, mentions, index = build(vocab, AFTER_QUOTE, persons=[(7, 9)])
    out = attribution.extract_quotes(doc, mentions, index, threshold=0.0)
    assert [(q["speaker"], q["text"], q["verb"], q["kind"]) for q in out] == [
        ("Ann Ross", "“The bridge will close,”", "said", "direct")]
    assert 0.0 < out[0]["confidence"] <= 1.0


def test_below_the_threshold_the_speaker_stays_unresolved(vocab):
    doc, mentions, index = build(vocab, AFTER_QUOTE, persons=[(7, 9)])
    out = attribution.extract_quotes(doc, mentions, index, threshold=1.01)
    assert [(q["speaker"], q["label"], q["speaker_text"]) for q in out] == [(None, None, "Ann Ross")]


# Ann Ross said that the bridge would close.
INDIRECT = ("Ann/PROPN/NNP/compound/1/Ann Ross/PROPN/NNP/nsubj/2/Ross said/VERB/VBD/ROOT/2/say that/SCONJ/IN/mark/6/that "
            "the/DET/DT/det/5/the bridge/NOUN/NN/nsubj/7/bridge would/AUX/MD/aux/7/would close/VERB/VB/ccomp/2/close_ "
            "./PUNCT/./punct/2/.")


def test_indirect_speech_is_the_clausal_complement_of_a_reporting_verb(vocab):
    view = view_of(vocab, INDIRECT, persons=[(0, 2)])
    found = cues.find_indirect(view)
    assert [(view.text[q.start:q.end], q.verb, q.subject.text) for q in found] == [
        ("that the bridge would close", "said", "Ross")]


def test_a_negated_reporting_verb_reports_nothing(vocab):
    # Ann Ross did not say that the bridge would close.
    spec = ("Ann/PROPN/NNP/compound/1/Ann Ross/PROPN/NNP/nsubj/4/Ross did/AUX/VBD/aux/4/do not/PART/RB/neg/4/not "
            "say/VERB/VB/ROOT/4/say that/SCONJ/IN/mark/9/that the/DET/DT/det/7/the bridge/NOUN/NN/nsubj/9/bridge "
            "would/AUX/MD/aux/9/would close/VERB/VB/ccomp/4/close_ ./PUNCT/./punct/4/.")
    assert cues.find_indirect(view_of(vocab, spec, persons=[(0, 2)])) == []


def test_a_reported_question_is_not_a_statement(vocab):
    # Ann Ross asked whether the bridge would close.
    spec = ("Ann/PROPN/NNP/compound/1/Ann Ross/PROPN/NNP/nsubj/2/Ross asked/VERB/VBD/ROOT/2/ask "
            "whether/SCONJ/IN/mark/7/whether the/DET/DT/det/5/the bridge/NOUN/NN/nsubj/7/bridge would/AUX/MD/aux/7/would "
            "close/VERB/VB/ccomp/2/close_ ./PUNCT/./punct/2/.")
    assert cues.find_indirect(view_of(vocab, spec, persons=[(0, 2)])) == []


def test_passive_reporting_verb_takes_the_agent(vocab):
    # The plan was announced by Ann Ross.
    spec = ("The/DET/DT/det/1/the plan/NOUN/NN/nsubjpass/3/plan was/AUX/VBD/auxpass/3/be announced/VERB/VBN/ROOT/3/announce "
            "by/ADP/IN/agent/3/by Ann/PROPN/NNP/compound/6/Ann Ross/PROPN/NNP/pobj/4/Ross_ ./PUNCT/./punct/3/.")
    view = view_of(vocab, spec, persons=[(5, 7)])
    assert cues.subject_of(view, view.doc[3]).text == "Ross"


def test_colon_names_the_speaker_before_it(vocab):
    # Ross: “We are ready.”
    spec = ("Ross/PROPN/NNP/ROOT/0/Ross_ :/PUNCT/:/punct/0/: “/PUNCT/``/punct/4/“_ We/PRON/PRP/nsubj/4/we "
            "are/AUX/VBP/ROOT/4/be ready/ADJ/JJ/acomp/4/ready_ ./PUNCT/./punct/4/._ ”/PUNCT/''/punct/4/”")
    view = view_of(vocab, spec, persons=[(0, 1)])
    cue = cues.direct_cue(view, view.direct[0])
    assert (cue.subject.text, cue.mark, cue.side) == ("Ross", ":", "before")


@pytest.mark.parametrize("dash", ["—", "―"])
def test_a_dash_after_the_quote_names_its_author(vocab, dash):
    # “Plant early.” — Ann Ross
    spec = (f"“/PUNCT/``/punct/1/“_ Plant/VERB/VB/ROOT/1/plant early/ADV/RB/advmod/1/early_ ./PUNCT/./punct/1/._ "
            f"”/PUNCT/''/punct/1/” {dash}/PUNCT/:/punct/1/{dash} Ann/PROPN/NNP/compound/7/Ann Ross/PROPN/NNP/appos/1/Ross")
    view = view_of(vocab, spec, persons=[(6, 8)])
    cue = cues.direct_cue(view, view.direct[0])
    assert (cue.subject.text, cue.verb_text) == ("Ross", "—")


# Ann Ross runs the shelter. NL “We need beds,” she said.
PRONOUN = ("Ann/PROPN/NNP/compound/1/Ann Ross/PROPN/NNP/nsubj/2/Ross runs/VERB/VBZ/ROOT/2/run the/DET/DT/det/4/the "
           "shelter/NOUN/NN/dobj/2/shelter_ ./PUNCT/./punct/2/._ NL/SPACE/_SP/dep/5/NL "
           "“/PUNCT/``/punct/9/“_ We/PRON/PRP/nsubj/9/we need/VERB/VBP/ccomp/14/need beds/NOUN/NNS/dobj/9/bed_ "
           ",/PUNCT/,/punct/9/,_ ”/PUNCT/''/punct/14/” she/PRON/PRP/nsubj/14/she said/VERB/VBD/ROOT/14/say_ "
           "./PUNCT/./punct/14/.")


def test_a_pronoun_resolves_to_the_person_in_focus(vocab):
    view = view_of(vocab, PRONOUN, persons=[(0, 2)])
    resolver = SpeakerResolver(view)
    assert resolver.resolve(view.doc[13])[:3] == ("Ann Ross", "she", "person")
    assert resolver.resolve(view.doc[8])[:3] == (None, "We", None)  # "we" inside a quote is never a speaker


def test_a_pronoun_skips_a_person_of_the_other_gender(vocab):
    view = view_of(vocab, PRONOUN, persons=[(0, 2)])
    resolver = SpeakerResolver(view)
    resolver.discourse = Discourse(gender={"Ann Ross": "m"})
    assert resolver.resolve(view.doc[13]).name is None


def test_the_company_points_back_to_the_last_organisation(vocab):
    # Harbour Freight hired staff. NL The company said it would grow.
    spec = ("Harbour/PROPN/NNP/compound/1/Harbour Freight/PROPN/NNP/nsubj/2/Freight hired/VERB/VBD/ROOT/2/hire "
            "staff/NOUN/NN/dobj/2/staff_ ./PUNCT/./punct/2/._ NL/SPACE/_SP/dep/4/NL The/DET/DT/det/7/the "
            "company/NOUN/NN/nsubj/8/company said/VERB/VBD/ROOT/8/say it/PRON/PRP/nsubj/11/it would/AUX/MD/aux/11/would "
            "grow/VERB/VB/ccomp/8/grow_ ./PUNCT/./punct/8/.")
    view = view_of(vocab, spec, orgs=[(0, 2)])
    assert SpeakerResolver(view).resolve(view.doc[7])[:3] == ("Harbour Freight", "The company", "org")


def test_a_described_source_is_the_speaker_as_written(vocab):
    # Officials said the road would reopen.
    spec = ("Officials/NOUN/NNS/nsubj/1/official said/VERB/VBD/ROOT/1/say the/DET/DT/det/3/the road/NOUN/NN/nsubj/5/road "
            "would/AUX/MD/aux/5/would reopen/VERB/VB/ccomp/1/reopen_ ./PUNCT/./punct/1/.")
    view = view_of(vocab, spec)
    assert SpeakerResolver(view).resolve(view.doc[0]) == ("officials", "Officials", "group", "described")


def test_a_title_in_quote_marks_is_not_a_quote(vocab):
    # She read “The Long Road Home” twice.
    spec = ("She/PRON/PRP/nsubj/1/she read/VERB/VBD/ROOT/1/read “/PUNCT/``/punct/5/“_ The/DET/DT/det/5/the "
            "Long/PROPN/NNP/compound/5/Long Road/PROPN/NNP/compound/6/Road Home/PROPN/NNP/dobj/1/Home_ "
            "”/PUNCT/''/punct/1/” twice/ADV/RB/advmod/1/twice_ ./PUNCT/./punct/1/.")
    doc, mentions, index = build(vocab, spec)
    assert attribution.extract_quotes(doc, mentions, index) == []


# ---- the trained ranker -------------------------------------------------------------------------
def test_candidates_are_noun_phrase_heads_with_one_feature_row_each(vocab):
    view = view_of(vocab, AFTER_QUOTE, persons=[(7, 9)])
    q = view.direct[0]
    q.subject, q.verb = view.doc[8], "said"
    cands = model.candidates(view, q)
    assert [t.text for t in cands.tokens] == ["Ross"]  # "Ann" is a compound, quoted words are not candidates
    row = dict(zip(model.feature_names(), cands.X[0]))
    assert row["after"] == 1 and row["before"] == 0 and row["rule_subject"] == 1 and row["rule_subject_verb"] == 1
    assert row["ent_person"] == 1 and row["subject_of_report_verb"] == 1 and row["d_le2"] == 1
    assert sum(row[f"head_lemma_{k}"] for k in range(model.HASH_BUCKETS)) == 1


def test_ranker_scores_with_numpy_from_plain_weights():
    w = np.zeros(model.N_FEATURES, dtype=np.float32)
    w[model.feature_names().index("subject_of_report_verb")] = 2.0
    ranker = model.SourceRanker(w, -1.0)
    X = np.zeros((2, model.N_FEATURES), dtype=np.float32)
    X[0, model.feature_names().index("subject_of_report_verb")] = 1
    assert ranker.probabilities(X).tolist() == pytest.approx([1 / (1 + np.exp(-1.0)), 1 / (1 + np.exp(1.0))], abs=1e-6)


def test_ranker_refuses_weights_for_other_features(tmp_path):
    path = tmp_path / "ranker.json"
    path.write_text(json.dumps({"features": ["something_else"], "weights": [1.0], "bias": 0.0}))
    with pytest.raises(ValueError, match="retrain with `make train`"):
        model.SourceRanker.load(path)


def test_the_committed_ranker_matches_the_code_and_names_its_training_data():
    data = json.loads(model.MODEL_PATH.read_text(encoding="utf-8"))
    assert data["features"] == model.feature_names() and len(data["weights"]) == model.N_FEATURES
    assert "PolNeAR" in data["trained_on"] and "make train" in data["command"]
    ranker = model.default_ranker()
    assert ranker is not None and ranker.w.shape == (model.N_FEATURES,)


def test_the_ranker_moves_the_source_to_the_subject_of_the_reporting_verb(vocab):
    # “The bridge will close,” Ann Ross said: a wrong rule choice ("bridge", inside the quote) is corrected.
    view = view_of(vocab, AFTER_QUOTE, persons=[(7, 9)])
    q = view.direct[0]
    q.subject, q.cue, q.verb = view.doc[2], True, "said"
    q.kind = "indirect"  # let the quoted tokens compete, as an indirect quote's would
    attribution.review_source(view, model.default_ranker(), q)
    assert q.subject.text == "Ross" and q.confidence > 0.5
    assert isinstance(q, Quote)


def test_confidence_features_say_how_the_speaker_was_found(vocab):
    view = view_of(vocab, AFTER_QUOTE, persons=[(7, 9)])
    quotes = attribution.find_quotes(view, model.Models(ranker=model.default_ranker()))
    row = dict(zip(model.confidence_feature_names(), model.confidence_features(view, quotes)[0]))
    assert row["how_entity_person"] == 1 and row["cue_verb"] == 1 and row["direct"] == 1
    assert row["speaker_two_words"] == 1 and row["speaker_known_person"] == 1 and row["label_person"] == 1
    assert sum(v for k, v in row.items() if k.startswith("how_")) == 1


def test_the_committed_confidence_model_matches_the_code_and_names_its_training_data():
    data = json.loads(model.CONFIDENCE_PATH.read_text(encoding="utf-8"))
    assert data["features"] == model.confidence_feature_names()
    assert "GGT" in data["trained_on"] and "cross-validation" in data["trained_on"]
    calibrator = model.default_confidence()
    view_free = np.zeros((1, len(data["features"])), dtype=np.float32)
    assert 0.0 < float(calibrator.probabilities(view_free)[0]) < 1.0


# Ross likened the plan to “a slow train.”
PARTIAL = ("Ross/PROPN/NNP/nsubj/1/Ross likened/VERB/VBD/ROOT/1/liken the/DET/DT/det/3/the plan/NOUN/NN/dobj/1/plan "
           "to/ADP/IN/prep/1/to “/PUNCT/``/punct/8/“_ a/DET/DT/det/8/a slow/ADJ/JJ/amod/8/slow train/NOUN/NN/pobj/4/train_ "
           "./PUNCT/./punct/1/._ ”/PUNCT/''/punct/1/”")


def test_a_partial_quote_candidate_is_the_clause_of_the_verb_that_governs_it(vocab):
    view = view_of(vocab, PARTIAL, persons=[(0, 1)])
    dq = view.direct[0]
    dq.before = 5
    cand = cues.partial_candidate(view, dq)
    assert (cand.verb.text, cand.subject.text, cand.child.text) == ("likened", "Ross", "to")
    assert view.text[view.doc[cand.start].idx : cues.partial_quote(view, cand).end] == "the plan to “a slow train.”"
    row = dict(zip(model.partial_feature_names(), model.partial_features(view, cand)))
    assert row["report_verb"] == 0 and row["child_prep"] == 1 and row["subject_person"] == 1 and row["quote_words_le4"] == 1


@pytest.mark.parametrize("bias, expected", [(5.0, [("Ross", "the plan to “a slow train.”", "indirect")]), (-5.0, [])])
def test_the_detector_decides_whether_the_clause_is_a_quote(vocab, bias, expected):
    view = view_of(vocab, PARTIAL, persons=[(0, 1)])
    names = model.partial_feature_names()
    detector = model.LogisticModel(np.zeros(len(names), dtype=np.float32), bias, names)
    found = attribution.find_quotes(view, model.Models(partial=detector))
    assert [(q.speaker, view.text[q.start:q.end], q.kind) for q in found] == expected
