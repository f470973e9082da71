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


def build(vocab, spec: str, persons=(), orgs=(), dates=()):
    """(Doc, mentions, PersonIndex) from a compact token spec; persons/orgs/dates are (first, end) token ranges."""
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
    for label, ranges in (("PERSON", persons), ("ORG", orgs), ("DATE", dates)):
        for a, b in ranges:
            ents[a] = f"B-{label}"
            for i in range(a + 1, b):
                ents[i] = f"I-{label}"
    doc = Doc(vocab, words=words, spaces=spaces, pos=pos, tags=tags, deps=deps, heads=heads, lemmas=lemmas,
              ents=ents)
    index = PersonIndex()
    mentions = []
    for e in doc.ents:
        if e.label_ == "DATE":
            continue  # a date is no mention of anyone
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


def view_of(vocab, spec, persons=(), orgs=(), dates=()):
    doc, mentions, index = build(vocab, spec, persons, orgs, dates)
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


# ---- cues: dates, introductions, dashes, "according to", nicknames -----------------------------------
def test_a_date_after_the_verb_is_never_the_source(vocab):
    # “Beds are full,” said Tuesday Ann Ross.
    spec = ("“/PUNCT/``/punct/2/“_ Beds/NOUN/NNS/nsubj/2/bed are/AUX/VBP/ccomp/6/be full/ADJ/JJ/acomp/2/full_ "
            ",/PUNCT/,/punct/2/,_ ”/PUNCT/''/punct/6/” said/VERB/VBD/ROOT/6/say Tuesday/PROPN/NNP/npadvmod/6/Tuesday "
            "Ann/PROPN/NNP/compound/9/Ann Ross/PROPN/NNP/dobj/6/Ross_ ./PUNCT/./punct/6/.")
    view = view_of(vocab, spec, persons=[(8, 10)], dates=[(7, 8)])
    assert cues.direct_cue(view, view.direct[0]).subject.text == "Ross"


def test_an_introduction_ending_with_a_colon_cues_the_quotation_below_it(vocab):
    # The agency wrote: NL “Beds are full.”
    spec = ("The/DET/DT/det/1/the agency/NOUN/NN/nsubj/2/agency wrote/VERB/VBD/ROOT/2/write_ :/PUNCT/:/punct/2/: "
            "NL/SPACE/_SP/dep/3/NL “/PUNCT/``/punct/7/“_ Beds/NOUN/NNS/nsubj/7/bed are/AUX/VBP/ROOT/7/be "
            "full/ADJ/JJ/acomp/7/full_ ./PUNCT/./punct/7/._ ”/PUNCT/''/punct/7/”")
    view = view_of(vocab, spec)
    cue = cues.direct_cue(view, view.direct[0])
    assert (cue.subject.text, cue.verb.text, cue.side) == ("agency", "wrote", "before")


def test_a_dash_and_name_before_the_next_quotation_credit_the_first(vocab):
    # “Plant early.” ― Ann Ross “Water often.” ― Tom Hale
    spec = ("“/PUNCT/``/punct/1/“_ Plant/VERB/VB/ROOT/1/plant early/ADV/RB/advmod/1/early_ ./PUNCT/./punct/1/._ "
            "”/PUNCT/''/punct/1/” ―/PUNCT/:/punct/1/― Ann/PROPN/NNP/compound/7/Ann Ross/PROPN/NNP/appos/1/Ross "
            "“/PUNCT/``/punct/9/“_ Water/VERB/VB/ROOT/9/water often/ADV/RB/advmod/9/often_ ./PUNCT/./punct/9/._ "
            "”/PUNCT/''/punct/9/” ―/PUNCT/:/punct/9/― Tom/PROPN/NNP/compound/15/Tom Hale/PROPN/NNP/appos/9/Hale")
    view = view_of(vocab, spec, persons=[(6, 8), (14, 16)])
    assert [cues.direct_cue(view, q).subject.text for q in view.direct] == ["Ross", "Hale"]


def test_according_to_ends_at_the_comma_when_the_parse_hangs_the_statement_on_the_source(vocab):
    # According to Ann Ross, the plan fails. ("fails" parsed as a plural noun in apposition to Ross)
    spec = ("According/VERB/VBG/ROOT/0/accord to/ADP/IN/prep/0/to Ann/PROPN/NNP/compound/3/Ann "
            "Ross/PROPN/NNP/pobj/1/Ross_ ,/PUNCT/,/punct/3/, the/DET/DT/det/7/the plan/NOUN/NN/compound/7/plan "
            "fails/NOUN/NNS/appos/3/fail_ ./PUNCT/./punct/0/.")
    view = view_of(vocab, spec, persons=[(2, 4)])
    found = cues.find_indirect(view)
    assert [(view.text[q.start:q.end], q.subject.text, q.verb) for q in found] == [
        ("the plan fails", "Ross", "according to")]


@pytest.mark.parametrize("text, expected", [('Del. Ann "Annie" Ross said', True), ('he said "Not Now" twice', False),
                                            ('Ann "the Rock" Ross', False)])
def test_a_quoted_nickname_inside_a_name_is_not_a_quotation(text, expected):
    from search.quotes.spans import looks_like_nickname

    s = text.index('"')
    e = text.index('"', s + 1) + 1
    assert looks_like_nickname(text, s, e) is expected


def test_a_partial_quote_candidate_climbs_to_the_verb_that_reports_it(vocab):
    # Ross ended by stating she might “soon” retire.
    spec = ("Ross/PROPN/NNP/nsubj/1/Ross ended/VERB/VBD/ROOT/1/end by/ADP/IN/prep/1/by stating/VERB/VBG/pcomp/2/state "
            "she/PRON/PRP/nsubj/9/she might/AUX/MD/aux/9/might “/PUNCT/``/punct/7/“_ soon/ADV/RB/advmod/9/soon_ "
            "”/PUNCT/''/punct/7/” retire/VERB/VB/ccomp/3/retire_ ./PUNCT/./punct/1/.")
    view = view_of(vocab, spec, persons=[(0, 1)])
    dq = view.direct[0]
    dq.before = 6
    cand = cues.partial_candidate(view, dq)
    assert (cand.verb.text, cand.subject.text) == ("stating", "Ross")
    assert view.text[view.doc[cand.start].idx : cues.partial_quote(view, cand).end] == "she might “soon” retire"


# ---- speakers: surnames, descriptions, documents, introductions ------------------------------------
# Ann Ross runs the shelter. NL Ross said the beds were full. ("Ross" tagged as a common noun the second time)
SURNAME_AS_NOUN = ("Ann/PROPN/NNP/compound/1/Ann Ross/PROPN/NNP/nsubj/2/Ross runs/VERB/VBZ/ROOT/2/run "
                   "the/DET/DT/det/4/the shelter/NOUN/NN/dobj/2/shelter_ ./PUNCT/./punct/2/._ NL/SPACE/_SP/dep/5/NL "
                   "Ross/NOUN/NN/nsubj/8/ross said/VERB/VBD/ROOT/8/say the/DET/DT/det/10/the beds/NOUN/NNS/nsubj/11/bed "
                   "were/AUX/VBD/ccomp/8/be full/ADJ/JJ/acomp/11/full_ ./PUNCT/./punct/8/.")


def test_a_surname_tagged_as_a_noun_is_the_person_named_in_full(vocab):
    view = view_of(vocab, SURNAME_AS_NOUN, persons=[(0, 2)])
    assert SpeakerResolver(view).resolve(view.doc[7])[:3] == ("Ann Ross", "Ross", "person")


def _said_by(subject: str, lemma: str, det: str = "") -> str:
    """'[det] subject said the beds were full.' as a token spec, the subject at index 1 when there is a det."""
    head = 1 if det else 0
    first = f"{det}/DET/DT/det/1/{det.lower()} " if det else ""
    verb = head + 1
    return (first + f"{subject}/NOUN/NN/nsubj/{verb}/{lemma} said/VERB/VBD/ROOT/{verb}/say the/DET/DT/det/{verb + 2}/the "
            f"beds/NOUN/NNS/nsubj/{verb + 3}/bed were/AUX/VBD/ccomp/{verb}/be full/ADJ/JJ/acomp/{verb + 3}/full_ "
            f"./PUNCT/./punct/{verb}/.")


def test_a_person_the_article_only_describes_is_the_speaker_as_written(vocab):
    view = view_of(vocab, _said_by("volunteer", "volunteer", "A"))
    assert SpeakerResolver(view).resolve(view.doc[1]) == ("a volunteer", "A volunteer", "group", "description_new")


def test_a_thing_that_speaks_names_no_speaker_unless_its_author_is_named(vocab):
    view = view_of(vocab, _said_by("ad", "ad", "The"))
    assert SpeakerResolver(view).resolve(view.doc[1])[:3] == (None, "The ad", None)


def test_a_statement_with_no_author_speaks_for_the_last_speaker(vocab):
    view = view_of(vocab, _said_by("statement", "statement", "The"))
    resolver = SpeakerResolver(view)
    resolver.discourse.add(0, "Harbour Freight", "org")
    assert resolver.resolve(view.doc[1])[:3] == ("Harbour Freight", "The statement", "org")


@pytest.mark.parametrize("lemma, gender", [("businessman", "m"), ("congresswoman", "f"), ("mother", "f"),
                                           ("human", None), ("mayor", None)])
def test_a_noun_tells_a_gender_only_when_english_does(lemma, gender):
    from search.quotes.speakers import noun_gender

    assert noun_gender(lemma) == gender


# Tom Hale met Ann Ross. NL The businessman said the beds were full.
MET = ("Tom/PROPN/NNP/compound/1/Tom Hale/PROPN/NNP/nsubj/2/Hale met/VERB/VBD/ROOT/2/meet Ann/PROPN/NNP/compound/4/Ann "
       "Ross/PROPN/NNP/dobj/2/Ross_ ./PUNCT/./punct/2/._ NL/SPACE/_SP/dep/5/NL The/DET/DT/det/8/the "
       "businessman/NOUN/NN/nsubj/9/businessman said/VERB/VBD/ROOT/9/say the/DET/DT/det/11/the "
       "beds/NOUN/NNS/nsubj/12/bed were/AUX/VBD/ccomp/9/be full/ADJ/JJ/acomp/12/full_ ./PUNCT/./punct/9/.")


def test_antecedent_candidates_describe_each_person_named_before(vocab):
    view = view_of(vocab, MET, persons=[(0, 2), (3, 5)])
    genders = {"Tom Hale": "m", "Ann Ross": "f"}
    cands = model.antecedent_candidates(view, 7, ("person",), "m", genders, [(1, "Tom Hale", "person")])
    rows = {v: dict(zip(model.antecedent_feature_names(), x)) for v, x in zip(cands.values, cands.X)}
    assert set(rows) == {"Tom Hale", "Ann Ross"}
    assert rows["Ann Ross"]["recency_0"] == 1 and rows["Tom Hale"]["recency_1"] == 1
    assert rows["Tom Hale"]["gender_match"] == 1 and rows["Ann Ross"]["gender_mismatch"] == 1
    assert rows["Tom Hale"]["last_speaker"] == 1 and rows["Tom Hale"]["last_subject"] == 1
    assert rows["Ann Ross"]["last_dobj"] == 1 and rows["Ann Ross"]["sentences_1"] == 1


@pytest.mark.parametrize("feature, expected", [("gender_match", "Tom Hale"), ("recency_0", "Ann Ross")])
def test_a_definite_description_takes_the_antecedent_the_ranker_prefers(vocab, feature, expected):
    view = view_of(vocab, MET, persons=[(0, 2), (3, 5)])
    names = model.antecedent_feature_names()
    w = np.zeros(len(names), dtype=np.float32)
    w[names.index(feature)] = 3.0
    resolver = SpeakerResolver(view, model.LogisticModel(w, 0.0, names))
    resolver.discourse.gender = {"Tom Hale": "m", "Ann Ross": "f"}
    assert resolver.resolve(view.doc[8])[:4] == (expected, "The businessman", "person", "focus")


def test_the_committed_antecedent_ranker_matches_the_code_and_names_its_training_data():
    data = json.loads(model.ANTECEDENT_PATH.read_text(encoding="utf-8"))
    assert data["features"] == model.antecedent_feature_names()
    assert "PolNeAR" in data["trained_on"] and "make train" in data["command"]
    assert model.default_antecedent() is not None


def test_a_quotation_after_narration_about_someone_is_theirs(vocab):
    # “Beds are full,” said Tom Hale. Ann Ross nodded. “We will wait here.”
    spec = ("“/PUNCT/``/punct/2/“_ Beds/NOUN/NNS/nsubj/2/bed are/AUX/VBP/ccomp/6/be full/ADJ/JJ/acomp/2/full_ "
            ",/PUNCT/,/punct/2/,_ ”/PUNCT/''/punct/6/” said/VERB/VBD/ROOT/6/say Tom/PROPN/NNP/compound/8/Tom "
            "Hale/PROPN/NNP/nsubj/6/Hale_ ./PUNCT/./punct/6/. Ann/PROPN/NNP/compound/11/Ann Ross/PROPN/NNP/nsubj/12/Ross "
            "nodded/VERB/VBD/ROOT/12/nod_ ./PUNCT/./punct/12/. “/PUNCT/``/punct/17/“_ We/PRON/PRP/nsubj/17/we "
            "will/AUX/MD/aux/17/will wait/VERB/VB/ROOT/17/wait here/ADV/RB/advmod/17/here_ ./PUNCT/./punct/17/._ "
            "”/PUNCT/''/punct/17/”")
    view = view_of(vocab, spec, persons=[(7, 9), (10, 12)])
    found = attribution.find_quotes(view, model.Models())
    assert [(q.speaker, q.how) for q in found] == [("Tom Hale", "entity_person"), ("Ann Ross", "introduced")]


def test_he_after_a_described_person_who_just_spoke_is_that_person(vocab):
    # A security officer said the doors were locked. NL “We ran for the exits,” he said.
    spec = ("A/DET/DT/det/2/a security/NOUN/NN/compound/2/security officer/NOUN/NN/nsubj/3/officer "
            "said/VERB/VBD/ROOT/3/say the/DET/DT/det/5/the doors/NOUN/NNS/nsubjpass/7/door were/AUX/VBD/auxpass/7/be "
            "locked/VERB/VBN/ccomp/3/lock_ ./PUNCT/./punct/3/._ NL/SPACE/_SP/dep/8/NL “/PUNCT/``/punct/12/“_ "
            "We/PRON/PRP/nsubj/12/we ran/VERB/VBD/ccomp/19/run for/ADP/IN/prep/12/for the/DET/DT/det/15/the "
            "exits/NOUN/NNS/pobj/13/exit_ ,/PUNCT/,/punct/12/,_ ”/PUNCT/''/punct/19/” he/PRON/PRP/nsubj/19/he "
            "said/VERB/VBD/ROOT/19/say_ ./PUNCT/./punct/19/.")
    view = view_of(vocab, spec)
    found = attribution.find_quotes(view, model.Models())
    assert [(q.kind, q.speaker) for q in found] == [("indirect", "a security officer"), ("direct", "a security officer")]

