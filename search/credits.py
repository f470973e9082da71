"""The parts of an article's text that are not its story: bylines, credit lines, captions and teasers.

News pages carry lines that name people who are not in the story: the reporter ("By Jane Roe", "Jane Roe,
The Daily Wire", "With files from Jane Roe", "Jane Roe contributed to this report"), the photographer
("(Jane Roe/Daily Wire)", "Jane Roe / The Daily Wire"), the video reporter ("Jane Roe has the latest"),
the columnist's closing bio ("Jane Roe is a writer based in ..."), photo captions around a credit, and
headlines of other articles linked in the text ("READ MORE: ..."). The names in them go to the article's
authors (credits) or nowhere (captions, teasers), not to the People facet. Works on plain text and
character offsets, so it needs no model and runs the same for every pipeline.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

# "READ MORE:", "WATCH BELOW:", "RELATED:": an upper-case label opening a line introduces a link to
# another article (or a video); two letters or more, so "Q:" of an interview is not one.
_TEASER = re.compile(r"^[ \t\-–—•*]*(?:[A-Z]{2,}[A-Z'’]*)(?:[ \t]+[A-Z]{2,}[A-Z'’]*){0,3}[ \t]*:")
# "Also on HuffPost:" style lead-ins that end the line.
_LEAD_IN = re.compile(r"^[^.!?\n]{1,40}:\s*$")
_CREDIT_BEFORE = re.compile(
    r"(?:\b(?:photo|photograph|photos|picture|image|video|illustration|graphic|credit|courtesy)s?\b\s*"
    r"(?:by|of|:|/)?\s*"
    r"|\b(?:reporting|writing|editing|additional reporting|compiled|produced|edited|written|reported)\s+by\s+(?:[\w.’'-]+\s*,\s*)*"
    r"|\bfiles\s+from\s+(?:[\w.’'-]+(?:\s+[\w.’'-]+)*\s*(?:,|and)\s*)*"
    r"|^\s*[–—-]*\s*by\s+)$",
    re.IGNORECASE,
)
# "AGENCY/Jane Roe", "AGENCY Photo/Jane Roe": a wire agency's photo credit, the agency in capitals.
_AGENCY_SLASH = re.compile(r"\b[A-Z]{2,}(?:\s+(?:[Pp]hoto|PHOTO|[Ii]mages?|IMAGES?))?\s*/\s*$")
# "..., Jane Roe writes." closing an op-ed's summary line: its author.
_WRITES = re.compile(r"^\s+writes\s*[.)]", re.IGNORECASE)
# What follows a photographer's or agency credit: "/The Daily Wire", " / Reuters", "/AP".
_SLASH_AFTER = re.compile(r"^\s*/\s*\(?[A-Z]")
_CONTRIBUTED = re.compile(r"^\s+(?:also\s+)?contributed\b", re.IGNORECASE)
# "Jane Roe has the latest", "Jane Roe reports." (video and radio pieces end so).
_REPORTS = re.compile(r"^\s+(?:has|had)\s+(?:the\s+)?(?:latest|more|details|story|report|update)\b"
                      r"|^\s+reports?\s*(?:[.(]|$|\bfrom\b)", re.IGNORECASE)
_AS_REPORTS = re.compile(r"\bas\s+$", re.IGNORECASE)
# A closing line such as "Sam Doe is a reporter who covers farming." ends the piece: the columnist's bio.
_BIO_AFTER = re.compile(r"^\s+is\s+(?:a|an|the)\b", re.IGNORECASE)
# What stands before a sentence's first word: nothing, the end of a sentence, or a link.
_SENTENCE_START = re.compile(r"(?:^\s*|[.!?)”\"]\s+|\S+/\s+)$")


@dataclass(frozen=True)
class Paragraph:
    """A line of the text (paragraphs are separated by line breaks) and what it is."""

    start: int
    end: int
    kind: str  # "body", "teaser" (headline of another article), "caption", "byline"


def paragraphs(text: str) -> list[Paragraph]:
    """Non-empty lines of text with their offsets, each classified (see Paragraph.kind)."""
    out = []
    for m in re.finditer(r"[^\n]+", text):
        line = m.group()
        if not line.strip():
            continue
        kind = "body"
        if _TEASER.match(line) or _LEAD_IN.match(line):
            kind = "teaser"
        out.append(Paragraph(m.start(), m.end(), kind))
    return out


def _paragraph_at(paras: list[Paragraph], pos: int) -> int | None:
    lo, hi = 0, len(paras) - 1
    while lo <= hi:
        mid = (lo + hi) // 2
        p = paras[mid]
        if pos < p.start:
            hi = mid - 1
        elif pos >= p.end:
            lo = mid + 1
        else:
            return mid
    return None


def _only_name_then_outlet(rest: str) -> bool:
    """', The Daily Wire' or ', staff reporter' to the end of a line: what follows a byline name."""
    rest = rest.strip()
    if not rest:
        return True
    if not rest.startswith(","):
        return False
    tail = rest[1:].strip()
    return 0 < len(tail.split()) <= 6 and not re.search(r"[.!?\"“”]$", tail) and not re.search(
        r"\b(?:said|says|told|is|was|were|are|has|had|will)\b", tail)


def classify(text: str, persons: list[tuple[int, int, str]]) -> tuple[list[Paragraph], set[str]]:
    """Paragraph kinds (captions and bylines marked) and the person values that are credits.

    persons: (start, end, value) of every person mention the NER found.
    """
    paras = paragraphs(text)
    credits: set[str] = set()
    kinds = [p.kind for p in paras]
    last_body = max((i for i, p in enumerate(paras) if p.kind == "body"), default=-1)
    for start, end, value in persons:
        i = _paragraph_at(paras, start)
        if i is None:
            continue
        p = paras[i]
        before = text[p.start:start]
        after = text[end:p.end]
        if _AGENCY_SLASH.search(before):
            credits.add(value)
            if kinds[i] == "body":
                kinds[i] = "caption"
            continue
        if _WRITES.match(after):
            credits.add(value)
            continue
        if _CREDIT_BEFORE.search(before) or _CONTRIBUTED.match(after):
            credits.add(value)
            if re.search(r"\b(?:photo|photograph|picture|image|illustration|graphic|courtesy)", before, re.I):
                kinds[i] = "caption" if kinds[i] == "body" else kinds[i]
            elif not before.strip() or re.match(r"^\s*[–—-]*\s*by\s+$", before, re.I):
                kinds[i] = "byline" if kinds[i] == "body" else kinds[i]
            continue
        if _SLASH_AFTER.match(after):
            # "Jane Roe / The Daily Wire": a photo credit; the line it stands in is a caption
            credits.add(value)
            if kinds[i] == "body":
                kinds[i] = "caption"
            continue
        if not before.strip() and _only_name_then_outlet(after):
            credits.add(value)  # a line that is only "Jane Roe, The Daily Wire" (or the name alone)
            if kinds[i] == "body":
                kinds[i] = "byline"
            continue
        if not after.strip() and re.search(r"[.!?)\]”\"]\s+$", before):
            credits.add(value)  # "... on Tuesday. Jane Roe" closing a caption: its photographer
            if kinds[i] == "body":
                kinds[i] = "caption"
            continue
        if _REPORTS.match(after) or (_AS_REPORTS.search(before) and re.match(r"^\s+reports?\b", after)):
            credits.add(value)  # the reporter of a video or audio piece embedded in the page
            continue
        if i >= last_body - 2 and _BIO_AFTER.match(after) and last_body > 0 and _SENTENCE_START.search(before) \
                and all(_paragraph_at(paras, s) is not None and _paragraph_at(paras, s) >= last_body - 2
                        for s, _, v in persons if v == value):
            credits.add(value)  # the columnist's closing bio, naming no one the story is about
            continue
    return [Paragraph(p.start, p.end, k) for p, k in zip(paras, kinds)], credits


def kind_at(paras: list[Paragraph], pos: int) -> str:
    """The kind of paragraph a character offset lies in ('body' outside every paragraph)."""
    i = _paragraph_at(paras, pos)
    return paras[i].kind if i is not None else "body"
