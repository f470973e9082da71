"""Quote extraction and speaker attribution on a parsed spaCy Doc (direct, indirect, floating quotes).

Read the modules in the order the data flows through them:

1. `spans`       quote marks and the character spans they enclose (text only);
2. `view`        one article as attribution sees it (`ArticleView`) and the typed `Quote` record;
3. `cues`        reporting verbs, "according to", colons and dashes: typed `Cue` candidates,
                 indirect-speech spans and partial-quote candidates;
4. `speakers`    from a cue's source token to a canonical speaker (names, pronouns, descriptions),
                 with a typed discourse history;
5. `model`       the trained models and their features: source ranker, partial-quote detector,
                 confidence (weights in search/data, trained by `make train`);
6. `attribution` puts the steps together and returns plain dicts;
`lexicon` holds every word list, with where it came from.
"""
from search.quotes.attribution import extract_quotes
from search.quotes.spans import find_direct_spans
from search.quotes.view import Quote

__all__ = ["Quote", "extract_quotes", "find_direct_spans"]
