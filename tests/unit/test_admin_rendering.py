"""The dashboard's pure parts: escaping, the SVG chart, and checking a manual mapping before it is stored."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from admin.chart import nice_ceiling, weekly_chart
from admin.html import Html, duration, esc, layout, table, tag
from admin.operations import InvalidInput, parse_mapping
from shared.db.stats import FeedbackFigures

EVIL = "<script>alert('x')</script>"
SVG = "{http://www.w3.org/2000/svg}"


def test_every_value_is_escaped_unless_it_is_markup_we_built() -> None:
    cell = tag("td", EVIL, title=EVIL + '"')
    assert "<script>" not in cell and "&lt;script&gt;" in cell and "&quot;" in cell
    assert esc(Html("<b>ok</b>")) == "<b>ok</b>" and esc(None) == ""
    rendered = table(["name"], [[EVIL]], empty="none")
    assert EVIL not in rendered and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in rendered
    assert table(["name"], [], empty="Nobody <here>") == '<p class="empty">Nobody &lt;here&gt;</p>'
    page = layout(EVIL, tag("p", EVIL), path="/", csrf="tok", notice=EVIL)
    assert "<script" not in page and page.startswith("<!doctype html>")
    assert 'name="csrf_token" value="tok"' in page  # the sign-out form


def test_durations_read_like_people_talk() -> None:
    assert [duration(s) for s in (None, 59, 1800, 7200, 3 * 86400)] == ["—", "1 min", "30 min", "2.0 h", "3.0 days"]


def test_axis_tops_are_round_numbers() -> None:
    assert [nice_ceiling(v) for v in (0, 0.3, 1, 3, 7.2, 26, 101)] == [1, 0.5, 1, 5, 10, 50, 200]


def figures(label: str, median_h: float | None, owed: int = 2) -> FeedbackFigures:
    return FeedbackFigures(
        label, label, owed, 0 if median_h is None else owed, None if median_h is None else median_h * 3600
    )


def test_the_chart_draws_one_bar_per_week_with_feedback_scaled_to_the_axis() -> None:
    weeks = [figures("2026-03-02", 5.0), figures("2026-03-09", None), figures("2026-03-16", 10.0)]
    svg = ET.fromstring(weekly_chart(weeks))
    bars = svg.findall(f"{SVG}rect")
    assert len(bars) == 2
    heights = [float(b.attrib["height"]) for b in bars]
    assert heights[1] == pytest.approx(2 * heights[0])  # 10 h is twice 5 h; the axis tops at 10 h
    tips = [b.find(f"{SVG}title").text for b in bars]  # type: ignore[union-attr]
    assert tips == [
        "Week of 2026-03-02: median 5.0 h over 2 of 2 feedback owed",
        "Week of 2026-03-16: median 10.0 h over 2 of 2 feedback owed",
    ]
    empty_week = svg.find(f"{SVG}circle/{SVG}title")
    assert empty_week is not None and empty_week.text == "Week of 2026-03-09: no feedback received (2 owed)"
    labels = [t.text for t in svg.findall(f"{SVG}text")]
    assert "10 h" in labels and "03-09" in labels
    assert svg.attrib["role"] == "img" and not re.search(
        r"\bstyle=", weekly_chart(weeks)
    )  # the CSP allows no inline style


def test_an_empty_window_still_draws_an_axis() -> None:
    svg = ET.fromstring(weekly_chart([]))
    assert svg.findall(f"{SVG}rect") == [] and len(svg.findall(f"{SVG}line")) == 3


def test_a_manual_mapping_is_checked_before_it_is_stored() -> None:
    mapping = parse_mapping(" ashby-user-1 ", " u0123abcd ", " Europe/Berlin ")
    assert (mapping.ashby_user_id, mapping.slack_user_id, mapping.tz) == ("ashby-user-1", "U0123ABCD", "Europe/Berlin")
    assert parse_mapping("a", "W0123", "").tz is None
    for ashby, slack, tz in (
        ("", "U0123", None),
        ("a", "not-an-id", None),
        ("a", "C0123", None),
        ("a", "U01", "Mars/Base"),
    ):
        with pytest.raises(InvalidInput) as refused:
            parse_mapping(ashby, slack, tz)
        assert "not-an-id" not in str(refused.value) and "Mars" not in str(refused.value)
