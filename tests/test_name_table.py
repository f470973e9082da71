"""The collection-level name table (search/names.py) on records and names written for these tests."""
from __future__ import annotations

from search.names import apply_aliases, count_names, name_table, resolve_record


def _rec(persons=(), orgs=(), places=(), speakers=()):
    return {"persons": list(persons), "organizations": list(orgs), "places": list(places),
            "speakers": list(speakers), "quotes": [{"speaker": s} for s in speakers], "entities": []}


def test_surname_resolves_to_the_collections_full_name():
    recs = [_rec(["Orla Quenby"])] * 19 + [_rec(["Piet Quenby"]), _rec(["Quenby"], speakers=["Quenby"])]
    table = name_table(count_names(recs))
    assert table["persons"]["Quenby"] == "Orla Quenby"  # 19 of 20 full-name mentions
    out = resolve_record(_rec(["Quenby"], speakers=["Quenby"]), table)
    assert out["persons"] == ["Orla Quenby"] and out["speakers"] == ["Orla Quenby"]
    # the article's own full name wins
    assert resolve_record(_rec(["Piet Quenby", "Quenby"]), table)["persons"] == ["Piet Quenby", "Quenby"]


def test_surname_stays_when_no_full_name_dominates():
    recs = [_rec(["Orla Quenby"])] * 8 + [_rec(["Piet Quenby"])] * 2 + [_rec(["Quenby"])]
    assert "Quenby" not in name_table(count_names(recs)).get("persons", {})


def test_case_variants_take_the_most_frequent_spelling_ties_to_longest():
    recs = [_rec(orgs=["Green Valley party"])] + [_rec(orgs=["Green Valley Party"])] * 3
    assert name_table(count_names(recs))["organizations"] == {"Green Valley party": "Green Valley Party"}


def test_place_before_an_organisation_the_collection_knows():
    recs = [_rec(orgs=["Green Valley Party"])] * 3 + [_rec(orgs=["Canada Green Valley Party"])]
    assert name_table(count_names(recs))["organizations"]["Canada Green Valley Party"] == "Green Valley Party"


def test_an_organisation_in_most_articles_is_no_person():
    recs = [_rec(orgs=["Brightwater Holm"])] * 3 + [_rec(["Brightwater Holm"])]
    table = name_table(count_names(recs))
    assert table["persons"]["Brightwater Holm"] == ""
    assert resolve_record(_rec(["Brightwater Holm"]), table)["persons"] == []


def test_table_does_not_depend_on_record_order():
    recs = [_rec(["Orla Quenby"], ["Green Valley party"]), _rec(["Quenby"], ["Green Valley Party"]),
            _rec(["Orla Quenby"], ["Green Valley Party"])]
    assert name_table(count_names(recs)) == name_table(count_names(list(reversed(recs))))


def test_aliases_apply_to_finished_records():
    rec = apply_aliases(_rec(["Orla Q."], speakers=["Orla Q."]), {"Orla Q.": "Orla Quenby"})
    assert rec["persons"] == ["Orla Quenby"] and rec["quotes"][0]["speaker"] == "Orla Quenby"


def test_names_command_lists_variants_and_merge_writes_the_override(tmp_path):
    import json

    from click.testing import CliRunner

    from conftest import make_record
    from search.cli import main
    from search.config import Settings
    from search.indexer import index_records

    recs = [make_record(f"a{i}", "T", "Text.", organizations=["Green Valley Party"]) for i in range(3)]
    recs.append(make_record("b", "T", "Text.", organizations=["Green Valley party"]))
    index_records(recs, Settings(index=tmp_path / "ix"))
    run = CliRunner().invoke
    out = json.loads(run(main, ["--index", str(tmp_path / "ix"), "names", "--json"]).output)
    assert out["organizations"] == [{"name": "Green Valley Party", "count": 4, "variants": {"Green Valley party": 1}}]
    res = run(main, ["--index", str(tmp_path / "ix"), "names", "--merge", "Green Valley Party", "GVP"])
    assert res.exit_code == 0
    assert (tmp_path / "ix" / "aliases.txt").read_text() == "Green Valley Party = GVP\n"
