"""The collection-level name table (search/nametable.py) on records and names written for these tests."""
from __future__ import annotations

import json

import pytest

from search.names import apply_aliases, count_names, name_table, resolve_record
from search.nametable import NameTable, build_table, variant_key


def _rec(persons=(), orgs=(), places=(), speakers=()):
    return {"persons": list(persons), "organizations": list(orgs), "places": list(places),
            "speakers": list(speakers), "quotes": [{"speaker": s} for s in speakers], "entities": []}


def _table(recs, aliases=None) -> NameTable:
    return name_table(count_names(recs), aliases)


def test_surname_resolves_to_the_collections_full_name():
    recs = [_rec(["Orla Quenby"])] * 19 + [_rec(["Piet Quenby"]), _rec(["Quenby"], speakers=["Quenby"])]
    table = _table(recs)
    out = resolve_record(_rec(["Quenby"], speakers=["Quenby"]), table)  # 19 of 20 full-name articles
    assert out["persons"] == ["Orla Quenby"] and out["speakers"] == ["Orla Quenby"]
    assert out["quotes"] == [{"speaker": "Orla Quenby"}]
    # the article's own full name wins
    assert resolve_record(_rec(["Piet Quenby", "Quenby"]), table)["persons"] == ["Piet Quenby", "Quenby"]


def test_surname_stays_when_no_full_name_dominates():
    recs = [_rec(["Orla Quenby"])] * 8 + [_rec(["Piet Quenby"])] * 2 + [_rec(["Quenby"])]
    assert resolve_record(_rec(["Quenby"]), _table(recs))["persons"] == ["Quenby"]


def test_case_variants_take_the_most_frequent_spelling_ties_to_longest():
    recs = [_rec(orgs=["Green Valley party"])] + [_rec(orgs=["Green Valley Party"])] * 3
    assert _table(recs).canon["organizations"] == {"Green Valley party": "Green Valley Party"}
    tie = [_rec(orgs=["Vale Union"]), _rec(orgs=["VALE UNION"]), _rec(orgs=["Vale union"])]
    assert resolve_record(_rec(orgs=["Vale union"]), _table(tie))["organizations"] == ["VALE UNION"]


@pytest.mark.parametrize("variant, canonical", [
    ("U.K. Harbour Board", "UK Harbour Board"),  # dotted initials
    ("U. K. Harbour Board", "UK Harbour Board"),
    ("the UK Harbour Board", "UK Harbour Board"),  # a leading "the"
    ("UK Harbour Board (UKHB)", "UK Harbour Board"),  # a parenthesised abbreviation
    ("UK Harbour Board (UKHB", "UK Harbour Board"),  # ... and an unbalanced one
])
def test_spellings_of_one_organisation_are_one_value(variant, canonical):
    recs = [_rec(orgs=[canonical])] * 3 + [_rec(orgs=[variant])] * 2  # the most frequent spelling wins
    assert variant_key(variant) == variant_key(canonical)
    assert resolve_record(_rec(orgs=[variant]), _table(recs))["organizations"] == [canonical]


def test_a_speaker_with_the_takes_the_organisations_value():
    recs = [_rec(orgs=["Lakeview Herald"])] * 3 + [_rec(speakers=["the Lakeview Herald"])]
    out = resolve_record(_rec(speakers=["the Lakeview Herald"]), _table(recs))
    assert out["speakers"] == ["Lakeview Herald"] and out["quotes"][0]["speaker"] == "Lakeview Herald"


def test_place_before_an_organisation_the_collection_knows():
    recs = [_rec(orgs=["Green Valley Party"])] * 3 + [_rec(orgs=["Canada Green Valley Party"])]
    assert _table(recs).canon["organizations"]["Canada Green Valley Party"] == "Green Valley Party"


def test_kind_by_majority_of_articles():
    recs = [_rec(orgs=["Brightwater Holm"])] * 3 + [_rec(["Brightwater Holm"])]
    out = resolve_record(_rec(["Brightwater Holm"]), _table(recs))
    assert out["persons"] == [] and out["organizations"] == ["Brightwater Holm"]
    recs = [_rec(places=["Vellmar"])] * 2 + [_rec(orgs=["Vellmar"])]
    out = resolve_record(_rec(orgs=["Vellmar"], places=["Osterby"]), _table(recs))
    assert out["organizations"] == [] and sorted(out["places"]) == ["Osterby", "Vellmar"]


def test_entities_follow_the_table():
    recs = [_rec(orgs=["Brightwater Holm"])] * 3 + [_rec(["Brightwater Holm"])]
    rec = _rec(["Brightwater Holm"])
    rec["entities"] = [{"label": "person", "start": 0, "end": 15, "text": "Brightwater Holm", "value": "Brightwater Holm"}]
    assert resolve_record(rec, _table(recs))["entities"][0]["label"] == "org"
    assert rec["entities"][0]["label"] == "person"  # the stored record is left as it was


def test_table_does_not_depend_on_record_order():
    recs = [_rec(["Orla Quenby"], ["Green Valley party"]), _rec(["Quenby"], ["Green Valley Party"]),
            _rec(["Orla Quenby"], ["Green Valley Party"]), _rec(places=["Vellmar"]), _rec(orgs=["Vellmar"])]
    assert _table(recs) == _table(list(reversed(recs)))


def test_alias_file_has_the_last_word():
    recs = [_rec(orgs=["Green Valley party"])] + [_rec(orgs=["Green Valley Party"])] * 3
    table = _table(recs, {"GVP Alliance": "GVP Alliance", "Green Valley Party": "GVP Alliance"})
    assert resolve_record(_rec(orgs=["Green Valley party"]), table)["organizations"] == ["GVP Alliance"]


def test_table_round_trips_through_json():
    recs = [_rec(["Orla Quenby"])] * 3 + [_rec(["Quenby"]), _rec(orgs=["Vellmar"]), _rec(places=["Vellmar"])] * 2
    table = _table(recs)
    assert NameTable.from_dict(json.loads(json.dumps(table.to_dict()))) == table


def test_aliases_apply_to_finished_records():
    rec = apply_aliases(_rec(["Orla Q."], speakers=["Orla Q."]), {"Orla Q.": "Orla Quenby"})
    assert rec["persons"] == ["Orla Quenby"] and rec["quotes"][0]["speaker"] == "Orla Quenby"


def test_empty_counts_give_an_empty_table():
    assert not build_table({}) and resolve_record(_rec(["Ada"]), build_table({}))["persons"] == ["Ada"]


def test_names_command_lists_variants_and_merge_writes_the_override(tmp_path):
    from click.testing import CliRunner

    from conftest import make_record
    from search.cli import main
    from search.config import Settings
    from search.indexer import index_records

    recs = [make_record(f"a{i}", "T", "Text.", organizations=["Green Valley Party"]) for i in range(3)]
    recs.append(make_record("b", "T", "Text.", organizations=["Green Valley party", "Green Valley Party (GVP"]))
    index_records(recs, Settings(index=tmp_path / "ix"))
    run = CliRunner().invoke
    out = json.loads(run(main, ["--index", str(tmp_path / "ix"), "names", "--json"]).output)
    assert out["organizations"] == [{"name": "Green Valley Party", "count": 4,
                                     "variants": {"Green Valley party": 1, "Green Valley Party (GVP": 1}}]
    res = run(main, ["--index", str(tmp_path / "ix"), "names", "--merge", "Green Valley Party", "GVP"])
    assert res.exit_code == 0
    assert (tmp_path / "ix" / "aliases.txt").read_text() == "Green Valley Party = GVP\n"
