"""Dates: infer an article's published date from its text and resolve mentioned dates to ISO."""
from __future__ import annotations

import re
import warnings
from datetime import date, datetime, timedelta
from functools import lru_cache

MONTHS = {
    m: i
    for i, names in enumerate(
        [
            ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",),
            ("june", "jun"), ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"),
            ("october", "oct"), ("november", "nov"), ("december", "dec"),
        ],
        start=1,
    )
    for m in names
}
WEEKDAYS = {d: i for i, d in enumerate(["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"])}
_MONTH_RE = r"(Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
# "May 6, 2021" / "May 6 2021"
MDY = re.compile(_MONTH_RE + r"\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b", re.I)
# "6 May 2021"
DMY = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTH_RE + r",?\s+(\d{4})\b", re.I)
ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
MONTH_DAY = re.compile(r"^" + _MONTH_RE + r"\s+(\d{1,2})(?:st|nd|rd|th)?$", re.I)
DAY_MONTH = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTH_RE + r"$", re.I)


def _safe_date(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def explicit_dates(text: str) -> list[tuple[int, date]]:
    """Every full calendar date written out in text, with its character offset."""
    found = []
    for m in MDY.finditer(text):
        d = _safe_date(int(m.group(3)), _month(m.group(1)), int(m.group(2)))
        if d:
            found.append((m.start(), d))
    for m in DMY.finditer(text):
        d = _safe_date(int(m.group(3)), _month(m.group(2)), int(m.group(1)))
        if d:
            found.append((m.start(), d))
    for m in ISO.finditer(text):
        d = _safe_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        if d:
            found.append((m.start(), d))
    return sorted(found)


def _month(name: str) -> int:
    key = name.lower().rstrip(".")
    if key in MONTHS:
        return MONTHS[key]
    return MONTHS[key[:3]]


def infer_published(text: str, today: date | None = None) -> str | None:
    """A published date for an article without metadata: the latest full date written in it, not in the future."""
    today = today or date.today()
    candidates = [d for _, d in explicit_dates(text) if date(1900, 1, 1) <= d <= today]
    if not candidates:
        return None
    return max(candidates).isoformat()


def resolve_date(text: str, published: str | None) -> str | None:
    """One DATE mention -> ISO date (YYYY-MM-DD), resolved against published for relative mentions; None if vague."""
    base = None
    if published:
        try:
            base = datetime.fromisoformat(str(published)[:10]).date()
        except ValueError:
            base = None
    return _resolve(" ".join(text.split()), base)


@lru_cache(maxsize=20000)
def _resolve(text: str, base: date | None) -> str | None:
    low = text.lower().strip(" .,;:'’")
    low = re.sub(r"['’]s$", "", low)
    found = explicit_dates(text)
    if found:
        return found[0][1].isoformat()
    if base is None:
        return None
    if low in ("today", "this morning", "tonight", "this afternoon", "this evening"):
        return base.isoformat()
    if low in ("yesterday", "last night"):
        return (base - timedelta(days=1)).isoformat()
    if low == "tomorrow":
        return (base + timedelta(days=1)).isoformat()
    words = low.split()
    if len(words) in (1, 2) and words[-1] in WEEKDAYS and (len(words) == 1 or words[0] in ("last", "on", "this", "next")):
        target = WEEKDAYS[words[-1]]
        if len(words) == 2 and words[0] == "next":
            delta = (target - base.weekday()) % 7 or 7
            return (base + timedelta(days=delta)).isoformat()
        # News convention: a bare weekday is the most recent such day, the publication day included.
        delta = (base.weekday() - target) % 7
        if len(words) == 2 and words[0] == "last" and delta == 0:
            delta = 7
        return (base - timedelta(days=delta)).isoformat()
    m = MONTH_DAY.match(text.strip()) or DAY_MONTH.match(text.strip())
    if m:
        if m.re is MONTH_DAY:
            month, day = _month(m.group(1)), int(m.group(2))
        else:
            month, day = _month(m.group(2)), int(m.group(1))
        d = _safe_date(base.year, month, day)
        if d is None:
            return None
        # "March 3" in an article from January is more likely last year's than next year's past half a year.
        if (d - base).days > 183:
            d = _safe_date(base.year - 1, month, day)
        return d.isoformat() if d else None
    return _dateparser(text, base)


def _dateparser(text: str, base: date) -> str | None:
    """Fallback for other relative forms ("two days ago"); only day-precise answers are kept."""
    if not re.search(r"\bdays? ago\b", text, re.I) or len(text) > 40:
        return None
    try:
        import dateparser
    except ImportError:  # pragma: no cover - dateparser is a dependency
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            dt = dateparser.parse(
                text,
                languages=["en"],
                settings={
                    "RELATIVE_BASE": datetime(base.year, base.month, base.day),
                    "PREFER_DATES_FROM": "past",
                    "REQUIRE_PARTS": ["day", "month", "year"],
                },
            )
        except Exception:
            return None
    return dt.date().isoformat() if dt else None


def resolve_mentions(mentions: list[dict], published: str | None) -> list[str]:
    """Distinct ISO dates for a list of DATE mentions ({text, ...}), in order of first mention."""
    out = []
    for m in mentions:
        iso = resolve_date(m.get("text", ""), published)
        if iso and iso not in out:
            out.append(iso)
    return out
