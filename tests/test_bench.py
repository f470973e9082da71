"""The benchmark's plumbing and comparison rules (no timing is asserted; the benchmark itself prints figures)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import peers, run  # noqa: E402
from bench.querybench import sample_requests  # noqa: E402
from search.query import parse_request  # noqa: E402


def test_groupedby_sample_keeps_the_mix_of_kinds_and_bands():
    # the headline mix: kinds repeat every 4 requests, bands of single terms every 16
    qs = [{"kind": ("single", "single", "two", "phrase")[i % 4],
           "band": (i // 4) % 4 if i % 4 < 2 else None} for i in range(240)]
    picked = sample_requests(qs, 8)
    kinds = {(qs[i]["kind"], qs[i]["band"]) for i in picked}
    assert kinds == {(k, b) for k, b in ((q["kind"], q["band"]) for q in qs)}
    assert 27 <= len(picked) <= 33
    assert sample_requests(qs, 8) == picked  # the same requests on every run
    assert sample_requests(qs, 1) == set(range(240))


def test_count_sets_follow_newsfacets_facet_rules():
    from search.query import FACETS

    req, _ = parse_request({"q": ["budget"], "person": ["Ann Lee"], "place": ["Oslo"], "from": ["2020"]})
    sets = peers.count_sets(req)
    others = tuple(f for f in FACETS if f not in ("person", "place"))
    assert sets[0] == (("person", "place"), True, others + ("month",))
    # each filtered facet is counted under the other filters but not its own
    assert (("place",), True, ("person",)) in sets
    assert (("person",), True, ("place",)) in sets
    # years are counted without the date range
    assert (("person", "place"), False, ("year",)) in sets
    assert len(sets) == 4
    plain, _ = parse_request({"q": ["budget"]})
    assert peers.count_sets(plain) == [((), False, tuple(FACETS) + ("month",))]


def test_top_lists_agree_when_only_values_tied_at_the_cut_differ():
    a = [("Ann", 5), ("Bob", 3), ("Cy", 2)]
    assert peers.same_top(a, [("Ann", 5), ("Bob", 3), ("Dee", 2)])
    assert not peers.same_top(a, [("Ann", 5), ("Dee", 3), ("Cy", 2)])
    assert not peers.same_top(a, [("Ann", 5), ("Bob", 3), ("Cy", 1)])
    assert peers.same_top([], [])
    assert peers.top({"b": 2, "a": 2, "c": 3, "z": 0}, 2) == [("c", 3), ("a", 2)]


def test_query_text_reaches_the_peers_as_words_and_phrases():
    assert peers.text_parts('tax "climate change" vote') == [("word", "tax"), ("phrase", "climate change"),
                                                             ("word", "vote")]
    assert peers.fts5_expression('tax "climate-change" NEAR') == '"tax" AND "climate change" AND "NEAR"'


def _fake_sections(calls):
    def make(name, value):
        def run_section(ctx, prev):
            calls.append(name)
            return {"value": value, "prev": prev}

        def report(result, res):
            return [f"## {name}", "", f"value {result['value']}", ""]
        return run.Section(name, run_section, report)
    return [make("alpha", 1), make("beta", 2)]


def test_only_reruns_one_section_and_keeps_the_others(tmp_path, monkeypatch):
    calls: list[str] = []
    monkeypatch.setattr(run, "OUT", tmp_path)
    monkeypatch.setattr(run, "sections", lambda: _fake_sections(calls))
    run.main(["--quick"])
    assert calls == ["alpha", "beta"]
    first = json.loads((tmp_path / "results-quick.json").read_text())
    run.main(["--quick", "--only", "beta"])
    assert calls == ["alpha", "beta", "beta"]
    after = json.loads((tmp_path / "results-quick.json").read_text())
    assert after["sections"]["alpha"] == first["sections"]["alpha"]
    assert after["meta"]["alpha"] == first["meta"]["alpha"]
    assert "--only beta" in after["meta"]["beta"]["command"]
    report = (tmp_path / "RESULTS-quick.md").read_text()
    assert "## alpha" in report and "## beta" in report and "--only beta" in report
    # --reuse runs only what is missing
    run.main(["--quick", "--reuse"])
    assert calls == ["alpha", "beta", "beta"]
    (tmp_path / "results-quick.json").write_text(json.dumps({"sections": {"alpha": {"value": 1}}, "meta": {}}))
    run.main(["--quick", "--reuse"])
    assert calls == ["alpha", "beta", "beta", "beta"]
