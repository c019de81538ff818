"""Server-rendered SVG charts: no script, no CDN, readable without colour (every chart sits
above the same figures as an HTML table). Labels are escaped; the result is safe to embed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from interaction_platform.templatetags import channel_label

# Okabe-Ito: distinguishable with the common colour-vision deficiencies
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#999999"]
#: A channel keeps its colour on every chart, whichever others are shown beside it.
CHANNEL_COLOURS = {
    "web": PALETTE[0],
    "store": PALETTE[1],
    "app": PALETTE[2],
    "call_centre": PALETTE[3],
    "email": PALETTE[4],
    "print": PALETTE[5],
    "direct_mail": PALETTE[6],
}
WIDTH, HEIGHT = 760, 300
LEFT, RIGHT, TOP, BOTTOM = 70, 16, 16, 64


def _label(value: Any) -> str:
    if isinstance(value, date):
        return value.strftime("%d %b")
    return str(value)


def _colour(name: str, position: int) -> str:
    return CHANNEL_COLOURS.get(name, PALETTE[position % len(PALETTE)])


def _series_name(name: str) -> str:
    return channel_label(name)


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 3, 4, 5, 6, 8, 10):
        if value <= step * magnitude:
            return step * magnitude
    return value


def _axis_value(value: float, unit: str) -> str:
    prefix = "€" if unit == "revenue" else ""
    if value >= 1_000_000:
        return f"{prefix}{value / 1_000_000:.3g}M"
    if value >= 1_000:
        return f"{prefix}{value / 1_000:.3g}k"
    return f"{prefix}{value:.3g}"


def bar_chart(
    *, title: str, labels: Sequence[Any], series: Sequence[tuple[str, Sequence[Any]]], unit: str
) -> SafeString:
    """Grouped bars: one group per label, one bar per series, a legend underneath."""
    if not labels or not series:
        return mark_safe("")
    values = [float(Decimal(value or 0)) for _name, points in series for value in points]
    top = _nice_max(max(values, default=0))
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    group_width = plot_width / len(labels)
    bar_width = max(1.0, group_width * 0.8 / len(series))
    parts = [_frame(title, top, unit)]
    label_every = max(1, len(labels) // 24)
    is_crowded = len(labels) > 8
    for index, label in enumerate(labels):
        x0 = LEFT + index * group_width + group_width * 0.1
        for position, (name, points) in enumerate(series):
            value = float(Decimal(points[index] or 0))
            height = plot_height * value / top
            parts.append(
                f'<rect x="{x0 + position * bar_width:.1f}" y="{TOP + plot_height - height:.1f}" '
                f'width="{bar_width:.1f}" height="{height:.1f}" '
                f'fill="{_colour(name, position)}"><title>{escape(_label(label))}, '
                f"{escape(_series_name(name))}: {escape(_value_text(value, unit))}"
                "</title></rect>"
            )
        if index % label_every == 0:
            x, y = LEFT + (index + 0.5) * group_width, HEIGHT - BOTTOM + 16
            # many labels are set at a slant so that they do not run into each other
            slant = f' transform="rotate(-35 {x:.1f} {y - 4})"' if is_crowded else ""
            anchor = "end" if is_crowded else "middle"
            parts.append(
                f'<text x="{x:.1f}" y="{y}" text-anchor="{anchor}" class="tick"{slant}>'
                f"{escape(_label(label))}</text>"
            )
    parts.append(
        _legend([name for name, _points in series], top=HEIGHT + 50 if is_crowded else HEIGHT)
    )
    return _svg(title, parts, height=HEIGHT + 50 if is_crowded else HEIGHT)


def line_chart(
    *, title: str, labels: Sequence[Any], series: Sequence[tuple[str, Sequence[Any]]], unit: str
) -> SafeString:
    """One line per series over ``labels`` (dates), a legend underneath."""
    if not labels or not series:
        return mark_safe("")
    values = [float(Decimal(value or 0)) for _name, points in series for value in points]
    top = _nice_max(max(values, default=0))
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_width / max(1, len(labels) - 1)
    parts = [_frame(title, top, unit)]
    for position, (name, points) in enumerate(series):
        coordinates = " ".join(
            f"{LEFT + index * step:.1f},"
            f"{TOP + plot_height - plot_height * float(Decimal(value or 0)) / top:.1f}"
            for index, value in enumerate(points)
        )
        parts.append(
            f'<polyline points="{coordinates}" fill="none" stroke-width="2" '
            f'stroke="{_colour(name, position)}"><title>{escape(_series_name(name))}'
            "</title></polyline>"
        )
    label_every = max(1, len(labels) // 8)
    for index, label in enumerate(labels):
        if index % label_every == 0:
            parts.append(
                f'<text x="{LEFT + index * step:.1f}" y="{HEIGHT - BOTTOM + 16}" '
                f'text-anchor="middle" class="tick">{escape(_label(label))}</text>'
            )
    parts.append(_legend([name for name, _points in series]))
    return _svg(title, parts)


def _value_text(value: float, unit: str) -> str:
    return f"€{value:,.2f}" if unit == "revenue" else f"{value:g}"


def _frame(title: str, top: float, unit: str) -> str:
    plot_height = HEIGHT - TOP - BOTTOM
    lines = []
    for fraction in (0, 0.25, 0.5, 0.75, 1):
        y = TOP + plot_height * (1 - fraction)
        lines.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">'
            f"{escape(_axis_value(top * fraction, unit))}</text>"
        )
    return "".join(lines)


def _legend(names: list[str], top: int = HEIGHT) -> str:
    parts = []
    x = LEFT
    for position, name in enumerate(names):
        label = escape(_series_name(name))
        parts.append(
            f'<rect x="{x}" y="{top - 26}" width="12" height="12" '
            f'fill="{_colour(name, position)}"/>'
            f'<text x="{x + 17}" y="{top - 16}" class="legend">{label}</text>'
        )
        x += 30 + 7 * len(str(label))
    return "".join(parts)


def _svg(title: str, parts: list[str], height: int = HEIGHT) -> SafeString:
    return mark_safe(  # noqa: S308 — every label above is escaped
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>{''.join(parts)}</svg>"
    )
