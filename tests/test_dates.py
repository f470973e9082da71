"""Published-date inference and resolution of date mentions."""
from __future__ import annotations

import pytest

from search.dates import infer_published, resolve_date, resolve_mentions


@pytest.mark.parametrize("text,expected", [
    ("May 6, 2021", "2021-05-06"),
    ("6 May 2021", "2021-05-06"),
    ("2021-05-06", "2021-05-06"),
    ("Thursday", "2021-05-06"),  # published on a Thursday: that day
    ("Thursday's", "2021-05-06"),
    ("Monday", "2021-05-03"),
    ("last Thursday", "2021-04-29"),
    ("next Monday", "2021-05-10"),
    ("yesterday", "2021-05-05"),
    ("today", "2021-05-06"),
    ("March 3", "2021-03-03"),
    ("two days ago", "2021-05-04"),
    ("2014", None),
    ("late last month", None),
    ("the 1990s", None),
])
def test_resolve_against_published(text, expected):
    assert resolve_date(text, "2021-05-06") == expected


def test_relative_dates_need_a_published_date():
    assert resolve_date("Thursday", None) is None
    assert resolve_date("May 6, 2021", None) == "2021-05-06"


def test_infer_published_from_caption():
    text = "Officials met on Thursday.Leaders pose in Kyiv, Ukraine May 6, 2021.The talks went on. In 2014 ..."
    assert infer_published(text) == "2021-05-06"
    assert infer_published("No dates here at all.") is None
    assert infer_published("The summit is planned for June 1, 2999.") is None


def test_resolve_mentions_dedupes():
    assert resolve_mentions([{"text": "Thursday"}, {"text": "May 6, 2021"}, {"text": "2014"}], "2021-05-06") == ["2021-05-06"]
