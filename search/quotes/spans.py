"""Step 1: quote marks and the character spans they enclose (text only, no parse)."""
from __future__ import annotations

import re

from search.quotes.lexicon import TITLE_SMALL_WORDS

# Quote marks. Straight marks are ambiguous and toggle; curly and doubled ones have a direction.
_MARK = re.compile(r"''|``|‘‘|’’|‘’|[\"“”„«»]")
_OPENERS = frozenset({"“", "„", "«", "``", "‘‘", "‘’"})
_CLOSERS = frozenset({"”", "»", "''", "’’"})
# "... — Jane Roe (@jroe) May 6, 2021" closing a paragraph: an embedded post and its author
_EMBEDDED_POST = re.compile(
    r"(?m)^[^\n]*?(?P<tail>(?:\s*(?:pic\.twitter\.com/\S+|https?://\S+))*\s*[—–-]+\s*"
    r"(?P<author>[^\n()—–]{2,60}?)\s*\(@\w+\)\s*[A-Z][a-z]+\.? \d{1,2}, \d{4})\s*$"
)


def find_direct_spans(text: str) -> list[tuple[int, int, int]]:
    """(start, end, group) of text in quote marks, marks included; one span per paragraph piece."""
    spans: list[tuple[int, int, int]] = []
    group = 0
    open_at: int | None = None  # start of the quote being read, if any
    carried = False  # the previous paragraph ended inside a quote
    paragraphs = [(m.start(), m.end()) for m in re.finditer(r"[^\n]+", text)]
    for pi, (ps, pe) in enumerate(paragraphs):
        para = text[ps:pe]
        first = True
        open_at = None
        for m in _MARK.finditer(para):
            mk = m.group()
            at = ps + m.start()
            if open_at is None:
                if mk in ("”", "’’") and _opens_here(para, m.start()) and para[m.end():m.end() + 1].strip():
                    mk = "“"  # a closing mark typed where an opening one belongs (”This ...”)
                if mk in _CLOSERS or (mk == '"' and first and carried and not _opens_here(para, m.start())):
                    # A closing mark with no opening in this paragraph ends a quote carried over from the
                    # previous paragraph (its writer forgot the opening mark).
                    if carried and first:
                        lead = ps + len(para) - len(para.lstrip())
                        spans.append((lead, ps + m.end(), group))
                    first = False
                    continue
                open_at = at
            else:
                if mk in _OPENERS and mk != "‘’":
                    # An opening mark inside a quote: the previous one was never closed.
                    spans.append((open_at, rstrip(text, open_at, at), group))
                    group += 1
                    open_at = at
                else:
                    spans.append((open_at, ps + m.end(), group))
                    group += 1
                    open_at = None
            first = False
        carried = False
        if open_at is not None:
            # Unclosed at paragraph end: the quote ends here; if the next paragraph opens with a mark
            # it continues the same quotation (one group), which keeps a stray mark from eating the article.
            spans.append((open_at, rstrip(text, open_at, pe), group))
            nxt = paragraphs[pi + 1] if pi + 1 < len(paragraphs) else None
            if nxt is None or not _MARK.match(text[nxt[0]:nxt[1]].lstrip()):
                group += 1
                carried = nxt is not None
            open_at = None
    return [s for s in spans if s[1] - s[0] > 2]


def find_embedded_posts(text: str) -> list[tuple[int, int, int, int]]:
    """(body start, body end, author start, author end) of embedded social-media posts
    ('text pic.twitter.com/x — Jane Roe (@jroe) May 6, 2021' closing a paragraph)."""
    out = []
    for m in _EMBEDDED_POST.finditer(text):
        body_end = rstrip(text, m.start(), m.start("tail"))
        if body_end - m.start() >= 10:
            out.append((m.start(), body_end, m.start("author"), m.end("author")))
    return out


def _opens_here(para: str, i: int) -> bool:
    """Whether a straight mark at i looks like an opening mark (after a space or at the start)."""
    return i == 0 or para[i - 1] in " \t([{—–-/"


def rstrip(text: str, start: int, end: int) -> int:
    """End offset with trailing whitespace removed."""
    while end > start and text[end - 1].isspace():
        end -= 1
    return end


def looks_like_title(inner: str) -> bool:
    """'"The Boy Who Sailed Home"': every word capitalised (small words aside) and no sentence inside."""
    words = re.findall(r"[A-Za-z][\w'’-]*", inner)
    return 0 < len(words) <= 8 and all(w[0].isupper() or w.lower() in TITLE_SMALL_WORDS for w in words) \
        and words[0][0].isupper() and not re.search(r"[.!?]\s", inner)


_NICKNAME = re.compile(r"[A-Z][\w.'’-]*(?: [A-Z][\w.'’-]*)?")


def looks_like_nickname(text: str, start: int, end: int) -> bool:
    """'Marcia "Cia" Price': one or two capitalised words in quotation marks between two parts of a name."""
    inner = text[start + 1 : end - 1]
    before = text[max(0, start - 30) : start]
    after = text[end : end + 30]
    return bool(_NICKNAME.fullmatch(inner) and re.search(r"[A-Z][\w.'’-]* $", before)
                and re.match(r" [A-Z][\w'’-]+", after))
