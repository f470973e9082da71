"""OpenSearch analysis that tokenises, drops and stems exactly as newsfacet's Whoosh schema does.

Whoosh's StemmingAnalyzer is a regex tokenizer (`[\\w\\*]+(\\.?[\\w\\*]+)*`), lowercase, a stop filter (Whoosh's stop
words and every token shorter than two characters, positions renumbered so phrases run across them) and
Whoosh's own Porter stemmer. Lucene's porter_stem is the published algorithm; Whoosh's port differs from it
on about 3% of news vocabulary ("added" -> "add", not "ad"), so both engines would index different terms for
the same word. Here every step of Whoosh's stemmer is rewritten as an anchored `pattern_replace` token
filter (stock analysis-common, no plugin), generated from Whoosh's own suffix tables:

- dropped tokens are removed by a character filter before tokenising, so no position gap is left where
  Whoosh renumbers;
- two-character tokens, which Whoosh never stems, carry a marker (\\x01) through the stem filters;
- a word starting with "y" has it upper-cased while stemming, as Whoosh does, so it counts as a consonant.

tests/test_opensearch.py checks tokens and positions against Whoosh's analyzer on the corpus vocabulary.
"""
from __future__ import annotations

from whoosh.analysis import STOP_WORDS
from whoosh.lang.porter import _step2list, _step3list

ANALYZER = "newsfacet_text"
# Whoosh's token pattern is `[\w\*]+(\.?[\w\*]+)*`; Python's `\w` on str is letters, numbers and "_".
WHOOSH_TOKEN = r"[\w\*]+(\.?[\w\*]+)*"
WORD = r"[\p{L}\p{N}_*]"
TOKEN = f"{WORD}+(?:\\.?{WORD}+)*"
MARK = r"\x01"
NOT_MARKED = r"^(?!\x01)"

# Whoosh's measure conditions (whoosh/lang/porter.py), as prefixes of a stem: "y" is neither vowel nor consonant
# there, and a capital Y (a leading y) is a consonant.
_C, _V = "[^aeiouy]", "[aeiou]"
M_GT0 = f"{_C}*{_V}+{_C}"  # _mgr0.match(stem)
M_GT1_HEAD = f"{_C}*{_V}+{_C}+{_V}+"
M_GT1 = f"{M_GT1_HEAD}{_C}"  # _mgr1.match(stem)
M_EQ1_WHOLE = f"{_C}*{_V}+{_C}+{_V}*"  # _meq1.match(stem), the whole stem
HAS_VOWEL = f"{_C}*[aeiouy]"  # _s_v.match(stem)
CVC_WHOLE = "[^aeiouy]+[aeiouy][^aeiouwxy]"  # _c_v.match(stem), the whole stem

STEP4_SUFFIXES = ("al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment", "ent", "ou", "ism",
                  "ate", "iti", "ous", "ive", "ize")


def _rule(name: str, pattern: str, replacement: str) -> tuple[str, dict]:
    return name, {"type": "pattern_replace", "pattern": pattern, "replacement": replacement, "all": False}


def _suffix_rules(step: str, table: dict[str, str], measure: str, extra=()) -> list[tuple[str, dict]]:
    """One step of Whoosh's stemmer: `^(.+?)(suffix|...)$`, then the measure on that stem, else nothing.

    Whoosh takes the shortest stem (so the longest suffix) and never falls back to a shorter suffix when
    the measure fails: a suffix's alternative is blocked where a longer suffix of the table ends the word with
    something before it, so at most one alternative can match a word. Replacements that keep the start of
    their suffix share a filter (one for those adding an "e"); any other gets a filter of its own. A fired rule
    leaves \x02 at the end, which no other rule of the step matches, and the step's last filter removes it.
    `extra` rules run after the table's, only when none of those fired.
    """
    plain, with_e, rules = [], [], []
    for suffix, repl in sorted(table.items(), key=lambda kv: (-len(kv[0]), kv[0])):
        blocks = "".join(f"(?<!.{longer[: -len(suffix)]})" for longer in sorted(table)
                         if len(longer) > len(suffix) and longer.endswith(suffix))
        if suffix.startswith(repl):
            plain.append(f"{blocks}{repl}(?={suffix[len(repl):]}$)")
        elif repl.endswith("e") and suffix.startswith(repl[:-1]):
            with_e.append(f"{blocks}{repl[:-1]}(?={suffix[len(repl) - 1:]}$)")
        else:
            rules.append(_rule(f"nf_{step}_{suffix}", f"{NOT_MARKED}({measure}.*?{blocks}){suffix}$", f"$1{repl}\u0002"))
    for tag, alts, tail in (("", plain, ""), ("e", with_e, "e")):
        if alts:
            rules.append(_rule(f"nf_{step}{tag}", f"{NOT_MARKED}({measure}.*?(?:{'|'.join(alts)})).*$",
                               f"$1{tail}\u0002"))
    rules += extra
    if len(rules) > 1:
        rules.append(_rule(f"nf_{step}_done", "\\x02$", ""))
    else:  # one filter fires at most once: no marker needed
        name, rule = rules[0]
        rules[0] = (name, {**rule, "replacement": rule["replacement"].replace("\u0002", "")})
    return rules


def stem_filters() -> list[tuple[str, dict]]:
    """Whoosh's Porter stemmer as ordered pattern_replace filters (name, definition)."""
    rules = [
        _rule("nf_mark_short", "^(..)$", "\u0001$1"),
        _rule("nf_y_first", f"{NOT_MARKED}y", "Y"),
        # step 1a
        _rule("nf_1a_sses", f"{NOT_MARKED}(.*ss)es$", "$1"),
        _rule("nf_1a_ies", f"{NOT_MARKED}(.*i)es$", "$1"),
        _rule("nf_1a_s", f"{NOT_MARKED}(.*[^s])s$", "$1"),
        # step 1b: eed (measure on what precedes it); else ed/ing after a stem with a vowel, where the stem
        # "at"/"iz" and a short consonant-vowel-consonant stem get an e (Whoosh's other 1b rules never match)
        _rule("nf_1b_eed", f"{NOT_MARKED}({M_GT0}.*ee)d$", "$1"),
        _rule("nf_1b_e", f"{NOT_MARKED}(at|iz|{CVC_WHOLE})(?:(?<!e)ed|ing)$", "$1e"),
        _rule("nf_1b", f"{NOT_MARKED}({HAS_VOWEL}.*?)(?:(?<!e)ed|ing)$", "$1"),
        # step 1c
        _rule("nf_1c", f"{NOT_MARKED}({HAS_VOWEL}.*)y$", "$1i"),
    ]
    rules += _suffix_rules("2", _step2list, M_GT0)
    rules += _suffix_rules("3", _step3list, M_GT0)
    # step 4, and when no suffix of it ends the word (whatever the measure), (s|t)ion, the s or t staying: it
    # may be the consonant that closes the measure
    ion = _rule("nf_4_ion", f"{NOT_MARKED}({M_GT1_HEAD}(?:[st]|{_C}.*?[st]))ion$", "$1")
    rules += _suffix_rules("4", {s: "" for s in STEP4_SUFFIXES}, M_GT1, extra=[ion])
    rules += [
        # step 5: a final e after a stem of measure > 1, or of measure 1 that is not consonant-vowel-consonant
        _rule("nf_5", f"{NOT_MARKED}((?:{M_GT1}.*|(?!{CVC_WHOLE}e$){M_EQ1_WHOLE}))e$", "$1"),
        _rule("nf_5_ll", f"{NOT_MARKED}(?={M_GT1})(.*l)l$", "$1"),
        _rule("nf_y_back", "^Y", "y"),
        _rule("nf_unmark", "^\u0001", ""),
    ]
    return rules


def drop_pattern() -> str:
    """A whole token (as the tokenizer would cut it) that Whoosh's stop filter removes."""
    words = "|".join(sorted(STOP_WORDS, key=lambda w: (-len(w), w)))
    return f"(?i)(?<!{WORD})(?<!{WORD}\\.)(?:{words}|{WORD})(?!{WORD})(?!\\.{WORD})"


def analysis_settings() -> dict:
    """The `analysis` block of the index settings."""
    stems = stem_filters()
    return {
        "char_filter": {"nf_drop_stopped": {"type": "pattern_replace", "pattern": drop_pattern(), "replacement": ""}},
        "tokenizer": {"nf_words": {"type": "pattern", "pattern": TOKEN, "group": 0}},
        "filter": dict(stems),
        "analyzer": {
            ANALYZER: {
                "type": "custom",
                "char_filter": ["nf_drop_stopped"],
                "tokenizer": "nf_words",
                "filter": ["lowercase"] + [name for name, _ in stems],
            }
        },
    }
