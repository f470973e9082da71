"""Server-side SVG charts: a by-month bar histogram whose bars are links."""
from __future__ import annotations

import calendar
import re
from typing import Callable, Iterable

from markupsafe import Markup, escape

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def month_label(month: str) -> str:
    """'2021-05' -> 'May 2021' (unparseable values come back unchanged)."""
    m = _MONTH.match(month or "")
    if not m or not 1 <= int(m.group(2)) <= 12:
        return month or ""
    return f"{calendar.month_abbr[int(m.group(2))]} {m.group(1)}"


def month_range(month: str) -> tuple[str, str] | None:
    """'2021-02' -> ('2021-02-01', '2021-02-28')."""
    m = _MONTH.match(month or "")
    if not m:
        return None
    year, mon = int(m.group(1)), int(m.group(2))
    if not 1 <= mon <= 12:
        return None
    last = calendar.monthrange(year, mon)[1]
    return f"{year:04d}-{mon:02d}-01", f"{year:04d}-{mon:02d}-{last:02d}"


def _continuous(points: Iterable[dict]) -> list[tuple[str, int]]:
    """Months from the first to the last one with data, gaps filled with zero."""
    counts: dict[str, int] = {}
    for p in points or ():
        month = str(p.get("month", ""))
        if _MONTH.match(month):
            try:
                counts[month] = counts.get(month, 0) + int(p.get("count", 0))
            except (TypeError, ValueError):
                continue
    if not counts:
        return []
    first, last = min(counts), max(counts)
    y, m = int(first[:4]), int(first[5:])
    out = []
    # Bounded: a corpus spanning centuries still gives a finite, if wide, chart.
    for _ in range(12 * 300):
        key = f"{y:04d}-{m:02d}"
        out.append((key, counts.get(key, 0)))
        if key >= last:
            break
        m += 1
        if m == 13:
            y, m = y + 1, 1
    return out


def histogram_svg(
    points: Iterable[dict],
    href: Callable[[str], str] | None = None,
    selected: str | None = None,
    noun: str = "articles",
    htmx: bool = False,
    width: int = 640,
    height: int = 96,
) -> Markup:
    """A bar per month; bars link to href(month). Decorative for assistive tech (see caption)."""
    series = _continuous(points)
    if not series:
        return Markup("")
    top = max(c for _, c in series) or 1
    pad_bottom, pad_top = 18, 14
    plot_h = height - pad_bottom - pad_top
    n = len(series)
    # Few months: keep bars slim and left-aligned rather than stretching one bar across the chart.
    step = min(width / n, 36.0)
    bar_w = max(1.0, step * 0.78)
    parts = [
        f'<svg class="histogram" viewBox="0 0 {width} {height}" '
        f'aria-hidden="true" focusable="false" xmlns="http://www.w3.org/2000/svg">',
        f'<line class="axis" x1="0" y1="{height - pad_bottom + 0.5}" x2="{width}" y2="{height - pad_bottom + 0.5}"/>',
        f'<text class="max" x="2" y="10">{top}</text>',
    ]
    for i, (month, count) in enumerate(series):
        x = i * step + (step - bar_w) / 2
        h = plot_h * count / top
        if count and h < 2:
            h = 2
        y = height - pad_bottom - h
        title = f"{month_label(month)}: {count} {noun}"
        cls = "bar selected" if month == selected else "bar"
        rect = (
            f'<rect class="hit" x="{i * step:.2f}" y="0" width="{step:.2f}" height="{height - pad_bottom}"/>'
            f'<rect class="{cls}" x="{x:.2f}" y="{y:.2f}" width="{bar_w:.2f}" height="{h:.2f}"/>'
        )
        if href and count:
            url = escape(href(month))
            # htmx does not boost SVG links by itself; hx-get makes a bar swap results like any link.
            hx = f' hx-get="{url}" hx-push-url="true"' if htmx else ""
            parts.append(
                f'<a href="{url}"{hx} tabindex="-1" class="bar-link">'
                f"<title>{escape(title)}</title>{rect}</a>"
            )
        else:
            parts.append(f"<g><title>{escape(title)}</title>{rect}</g>")
        if month.endswith("-01") or i == 0:
            anchor = "start"
            parts.append(
                f'<text class="tick" x="{i * step + 1:.2f}" y="{height - 4}" text-anchor="{anchor}">{month[:4]}</text>'
            )
            if i:
                parts.append(
                    f'<line class="year" x1="{i * step:.2f}" y1="{pad_top}" x2="{i * step:.2f}" y2="{height - pad_bottom}"/>'
                )
    parts.append("</svg>")
    return Markup("".join(parts))


def histogram_summary(points: Iterable[dict], noun: str = "articles") -> str:
    """A sentence saying what the histogram shows, for screen readers and captions."""
    series = _continuous(points)
    if not series:
        return ""
    peak_month, peak = max(series, key=lambda p: p[1])
    return (
        f"{noun.capitalize()} per month, {month_label(series[0][0])} to {month_label(series[-1][0])}; "
        f"most in {month_label(peak_month)} ({peak})."
    )
