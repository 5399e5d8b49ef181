"""Time to feedback over weeks as an SVG bar chart, drawn on the server (no JavaScript, no styles: attributes).

Pure: figures in, markup out. Each bar carries its numbers in a `<title>` (a hover tooltip), and the page
shows the same numbers in a table for whoever would rather read.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from admin.html import Html, duration, tag
from shared.db.stats import FeedbackFigures

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 24, 40


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 x 10^n at or above `value` (axis tops people can read)."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    return next(step * power for step in (1.0, 2.0, 2.5, 5.0, 10.0) if step * power >= value)


def weekly_chart(weeks: Sequence[FeedbackFigures], *, title: str = "Median time to feedback per week (hours)") -> Html:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    hours = [None if w.median_s is None else w.median_s / 3600 for w in weeks]
    top = nice_ceiling(max((h for h in hours if h is not None), default=0.0))
    parts: list[object] = [tag("title", title, id="ttf-title")]
    for fraction in (0, 0.5, 1):
        y = TOP + plot_h * (1 - fraction)
        parts.append(tag("line", x1=LEFT, x2=WIDTH - RIGHT, y1=f"{y:.1f}", y2=f"{y:.1f}", stroke="#d5d9e0"))
        parts.append(
            tag("text", f"{top * fraction:g} h", x=LEFT - 6, y=f"{y + 4:.1f}", text_anchor="end", font_size=11)
        )
    slot = plot_w / max(len(weeks), 1)
    label_every = max(1, math.ceil(len(weeks) / 12))
    for index, (week, value) in enumerate(zip(weeks, hours, strict=True)):
        x = LEFT + index * slot
        if value is None:
            tip = f"Week of {week.label}: no feedback received ({week.owed} owed)"
            parts.append(
                tag("circle", tag("title", tip), cx=f"{x + slot / 2:.1f}", cy=TOP + plot_h, r=2, fill="#9aa3b2")
            )
        else:
            bar_h = plot_h * value / top
            tip = (
                f"Week of {week.label}: median {duration(week.median_s)} "
                f"over {week.received} of {week.owed} feedback owed"
            )
            parts.append(
                tag(
                    "rect",
                    tag("title", tip),
                    x=f"{x + slot * 0.15:.1f}",
                    y=f"{TOP + plot_h - bar_h:.1f}",
                    width=f"{slot * 0.7:.1f}",
                    height=f"{bar_h:.1f}",
                    fill="#4c6ef5",
                )
            )
        if index % label_every == 0:
            parts.append(
                tag(
                    "text",
                    week.label[5:],
                    x=f"{x + slot / 2:.1f}",
                    y=HEIGHT - BOTTOM + 16,
                    text_anchor="middle",
                    font_size=11,
                )
            )
    parts.append(
        tag("text", "week starting (UTC)", x=LEFT + plot_w / 2, y=HEIGHT - 6, text_anchor="middle", font_size=11)
    )
    return tag(
        "svg",
        *parts,
        xmlns="http://www.w3.org/2000/svg",
        viewBox=f"0 0 {WIDTH} {HEIGHT}",
        width=WIDTH,
        height=HEIGHT,
        role="img",
        aria_labelledby="ttf-title",
        font_family="system-ui, sans-serif",
        class_="chart",
    )
