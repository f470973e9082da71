"""Entity canonicalisation: alias files, name clean-up, and the analysis component on short texts."""
from __future__ import annotations

from pathlib import Path

import pytest

from search.entities import ANALYSIS_KEYS, load_aliases
from search.names import PersonIndex, clean_org, clean_person, clean_place, is_disease, is_medium, is_time_zone

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "seeds" / "000_83b8ae0f96c8195e.txt"


# ---- alias files (no model) ------------------------------------------------------------------------
def test_load_aliases_reads_variants_comments_and_blank_lines(tmp_path):
    path = tmp_path / "aliases.txt"
    path.write_text("# people\nVolodymyr Zelensky = Zelenskiy, Zelenskyy\n\nUnited Nations = UN\n", encoding="utf-8")
    assert load_aliases(path) == {
        "Volodymyr Zelensky": "Volodymyr Zelensky",
        "Zelenskiy": "Volodymyr Zelensky",
        "Zelenskyy": "Volodymyr Zelensky",
        "United Nations": "United Nations",
        "UN": "United Nations",
    }


def test_load_aliases_none_is_empty():
    assert load_aliases(None) == {}


@pytest.mark.parametrize("line", ["Just a name", "= Variant", "Name =", "A = B = C"])
def test_load_aliases_bad_line_names_file_and_line(tmp_path, line):
    path = tmp_path / "aliases.txt"
    path.write_text(f"# ok\nGood Name = Variant\n{line}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=rf"aliases\.txt:3\b"):
        load_aliases(path)


# ---- name clean-up (no model) ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "raw, name",
    [
        ("Secretary of State Antony Blinken", "Antony Blinken"),
        ("President Volodymyr Zelenskiy", "Volodymyr Zelenskiy"),
        ("Dr. Jane Okafor", "Jane Okafor"),
        ("Blinken's", "Blinken"),
        ("Blinken’s", "Blinken"),
        ("Hereditary Chief Tom Alder", "Tom Alder"),
        ("he", None),
        ("Thursday", None),
        ("May 6", None),
        ("2021", None),
        ("Jane Doe/Getty Images", None),
        ("Actor Brendan Fraser", "Brendan Fraser"),
        ("Immunologist Kristian Andersen", "Kristian Andersen"),
        ("Podcaster Spike Cohen", "Spike Cohen"),
        ("Baker Mayfield", "Baker Mayfield"),  # an occupation that is also a given name, with one word after it
        ("Carter Page", "Carter Page"),
    ],
)
def test_clean_person(raw, name):
    assert clean_person(raw) == name


@pytest.mark.parametrize("raw", ["U.S.", "US", "the United States", "United States of America", "the U.S."])
def test_united_states_is_one_place(raw):
    assert clean_place(raw) == "United States"


def test_clean_org_drops_article_and_possessive():
    assert clean_org("the Kremlin's") == "Kremlin"
    assert clean_org("it") is None


def test_person_index_prefers_longest_full_form_and_aliases():
    idx = PersonIndex({"Zelenskiy": "Volodymyr Zelensky", "Volodymyr Zelenskiy": "Volodymyr Zelensky"})
    idx.add("Antony Blinken")
    idx.add("Volodymyr Zelenskiy")
    assert idx.canonical("Blinken") == "Antony Blinken"
    assert idx.canonical("Zelenskiy") == "Volodymyr Zelensky"
    assert idx.canonical("Nobody Else") == "Nobody Else"
    assert idx.knows("Blinken") and not idx.knows("Smith")


def test_person_index_same_surname_prefers_the_one_named_more():
    idx = PersonIndex()
    for name in ("Kevin Varga", "Kevin Varga", "Andrew Varga"):
        idx.add(name)
    assert idx.canonical("Varga") == "Kevin Varga"


# ---- the pipeline ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def nlp():
    spacy = pytest.importorskip("spacy")
    from search.config import DEFAULT_MODEL
    from search.entities import PIPELINE_EXCLUDE, configure_pipeline

    return configure_pipeline(spacy.load(DEFAULT_MODEL, exclude=PIPELINE_EXCLUDE))


ARTICLE = (
    "Secretary of State Antony Blinken met President Volodymyr Zelenskiy in Kyiv on Thursday.\n\n"
    "Blinken said the U.S. stands with Ukraine. Zelenskiy's office said the talks went well.\n\n"
    "The United States and Russia have not agreed on a date, Blinken added."
)


@pytest.mark.model
def test_analysis_has_exactly_the_contract_keys(nlp):
    a = nlp(ARTICLE).user_data["newsfacet"]
    assert tuple(a) == ANALYSIS_KEYS


@pytest.mark.model
def test_persons_are_canonical_full_names(nlp):
    a = nlp(ARTICLE).user_data["newsfacet"]
    assert "Antony Blinken" in a["persons"] and "Volodymyr Zelenskiy" in a["persons"]
    assert "Blinken" not in a["persons"] and "Zelenskiy" not in a["persons"]
    assert all(p.lower() not in {"he", "she", "thursday"} for p in a["persons"])


@pytest.mark.model
def test_places_unify_the_united_states(nlp):
    a = nlp(ARTICLE).user_data["newsfacet"]
    assert "Kyiv" in a["places"] and "Ukraine" in a["places"] and "Russia" in a["places"]
    assert [p for p in a["places"] if "U" in p and "S" in p and "United" not in p] == []
    assert a["places"].count("United States") == 1


@pytest.mark.model
def test_entities_carry_offsets_and_canonical_values(nlp):
    doc = nlp(ARTICLE)
    ents = doc.user_data["newsfacet"]["entities"]
    blinken = [e for e in ents if e["text"] == "Blinken"]
    assert blinken and all(e["value"] == "Antony Blinken" and e["label"] == "person" for e in blinken)
    for e in ents:
        assert ARTICLE[e["start"] : e["end"]] == e["text"]


@pytest.mark.model
def test_date_mentions(nlp):
    a = nlp(ARTICLE).user_data["newsfacet"]
    assert {"start": ARTICLE.index("Thursday"), "end": ARTICLE.index("Thursday") + 8, "text": "Thursday"} in a["date_mentions"]


@pytest.mark.model
def test_gazetteer_place_wins_over_a_lone_person_tag(nlp):
    a = nlp("Officials in Kyiv and Toronto met on Monday. Kyiv said it was pleased.").user_data["newsfacet"]
    assert "Kyiv" in a["places"] and "Kyiv" not in a["persons"]


@pytest.mark.model
def test_aliases_unify_across_articles():
    spacy = pytest.importorskip("spacy")
    from search.config import DEFAULT_MODEL
    from search.entities import PIPELINE_EXCLUDE, configure_pipeline

    nlp = configure_pipeline(spacy.load(DEFAULT_MODEL, exclude=PIPELINE_EXCLUDE),
                             aliases={"Volodymyr Zelenskiy": "Volodymyr Zelensky", "Zelenskiy": "Volodymyr Zelensky"})
    a = nlp(ARTICLE).user_data["newsfacet"]
    assert "Volodymyr Zelensky" in a["persons"] and "Volodymyr Zelenskiy" not in a["persons"]


@pytest.mark.model
def test_analysis_is_plain_msgpack_data(nlp):
    import srsly

    a = nlp(ARTICLE).user_data["newsfacet"]
    assert srsly.msgpack_loads(srsly.msgpack_dumps(a)) == a


@pytest.mark.model
@pytest.mark.slow
def test_analysis_survives_two_processes(nlp):
    texts = [ARTICLE, "Statistics Canada said the jobless rate fell.", ARTICLE]
    single = [d.user_data["newsfacet"] for d in nlp.pipe(texts)]
    multi = [d.user_data["newsfacet"] for d in nlp.pipe(texts, n_process=2, batch_size=1)]
    assert multi == single


@pytest.mark.model
@pytest.mark.skipif(not SEED.exists(), reason="seed article not in seeds/")
def test_seed_article_acceptance(nlp):
    a = nlp(SEED.read_text(encoding="utf-8")).user_data["newsfacet"]
    assert {"Antony Blinken", "Volodymyr Zelenskiy"} <= set(a["persons"])
    assert "Blinken" not in a["persons"] and "Zelenskiy" not in a["persons"]
    assert {"Ukraine", "Russia", "Kyiv", "Crimea"} <= set(a["places"])
    assert "State" not in a["organizations"]  # out of "Secretary of State"
    assert {"Antony Blinken", "Volodymyr Zelenskiy"} <= set(a["speakers"])
    assert any(q["speaker"] == "Antony Blinken" and "reckless and aggressive actions" in q["text"] for q in a["quotes"])


def test_honorific_makes_a_month_name_a_person():
    assert clean_person("Ms. May") == "May"
    assert clean_person("May") is None


# ---- kinds of junk kept out of the facets ----------------------------------------------------------
@pytest.mark.parametrize("name", ["Twitter", "Wikinews", "Znak.com", "the Facebook"])
def test_platforms_and_sites_are_media(name):
    assert is_medium(name)


def test_word_like_platforms_need_syntax():
    assert is_medium("Signal") and not is_medium("Signal", strict=True)
    assert not is_medium("Apple") and not is_medium("Reuters")


@pytest.mark.parametrize("name, zone", [("UTC", True), ("GMT", True), ("EDT", True), ("UTC+3", True),
                                        ("UN", False), ("NASA", False)])
def test_time_zones(name, zone):
    assert is_time_zone(name) is zone


@pytest.mark.parametrize("name, disease", [("COVID-19", True), ("SARS-CoV-2", True), ("Ebola", True),
                                           ("H1N1", True), ("the Zika virus", True), ("World Health Organization", False),
                                           ("F-35", False), ("Centers for Disease Control", False)])
def test_disease_names(name, disease):
    assert is_disease(name) is disease


@pytest.mark.model
def test_platform_is_an_organisation_never_a_person(nlp):
    a = nlp("Mayor Dana Holt wrote on Twitter that the road would reopen. "
            "Holt also posted the news on Facebook.").user_data["newsfacet"]
    assert "Twitter" not in a["persons"] and "Facebook" not in a["persons"]
    assert "Dana Holt" in a["persons"]


@pytest.mark.model
def test_time_zone_after_a_time_is_no_organisation(nlp):
    a = nlp("The storm reached the coast at 14:00 local time (1800 UTC) on Tuesday.").user_data["newsfacet"]
    assert "UTC" not in a["organizations"]


@pytest.mark.model
def test_disease_is_no_organisation(nlp):
    a = nlp("The minister said 40 people had died of COVID-19 in the province, according to the Health Ministry.")\
        .user_data["newsfacet"]
    assert "COVID-19" not in a["organizations"]


@pytest.mark.model
def test_interviewer_tag_is_no_organisation(nlp):
    text = ("Wikinews spoke to the painter Lena Marsh about her work.\n\n((WN)) What got you started?\n\n"
            "((Lena Marsh)) My grandmother taught me.\n\n((WN)) How long does a canvas take?\n\n"
            "((Lena Marsh)) About a month.")
    a = nlp(text).user_data["newsfacet"]
    assert "WN" not in a["organizations"] and "WN" not in a["speakers"]


@pytest.mark.model
def test_state_before_a_full_name_is_no_part_of_it(nlp):
    a = nlp("The bill was backed by Senator from Vermont Bernie Sanders and others.").user_data["newsfacet"]
    assert "Vermont Bernie Sanders" not in a["persons"]


@pytest.mark.model
def test_a_word_with_an_article_is_no_person(nlp):
    a = nlp("Critics warned that a no-deal Brexit would hurt farmers. Brexit was due in October.").user_data["newsfacet"]
    assert "Brexit" not in a["persons"]
