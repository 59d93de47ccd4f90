"""Charts drawn on the server as inline SVG: CI bars on a shared axis, a CI band over time, count bars."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

BELOW = "#b3261e"
ABOVE = "#1b6e35"
INK = "#1f1f1f"
MUTED = "#5f6368"


@dataclass(frozen=True)
class Span:
    """An estimate with its interval, as a chart draws it."""

    estimate: float
    low: float
    high: float


def side_of_zero(span: Span | None) -> str:
    """Where an interval lies against zero, in words (so colour is never the only signal)."""
    if span is None:
        return "not measured"
    if span.low > 0:
        return "above 0"
    if span.high < 0:
        return "below 0"
    return "spans 0"


def shared_domain(spans: Sequence[Span | None]) -> tuple[float, float]:
    """One axis for many intervals: their extent and zero, padded a little."""
    values = [0.0] + [v for s in spans if s is not None for v in (s.low, s.high)]
    low, high = min(values), max(values)
    pad = (high - low) * 0.05 or 1.0
    return low - pad, high + pad


def _x(value: float, domain: tuple[float, float], left: float, width: float) -> float:
    """A value's position on an axis of the given extent."""
    low, high = domain
    return left + (value - low) / (high - low) * width


def ci_bar(span: Span | None, domain: tuple[float, float], name: str, width: int = 180) -> Markup:
    """An interval as a bar on a shared axis, red below zero and green above, the estimate a tick."""
    height = 20
    zero = _x(0.0, domain, 0, width)
    parts = [f'<line x1="{zero:.1f}" y1="0" x2="{zero:.1f}" y2="{height}" stroke="{MUTED}"/>']
    if span is None:
        label = f"{name}: not measured"
    else:
        low, high = _x(span.low, domain, 0, width), _x(span.high, domain, 0, width)
        if low < zero:
            parts.append(_rect(low, min(high, zero), BELOW))
        if high > zero:
            parts.append(_rect(max(low, zero), high, ABOVE))
        mid = _x(span.estimate, domain, 0, width)
        parts.append(f'<rect x="{mid - 1.5:.1f}" y="2" width="3" height="16" fill="{INK}"/>')
        label = f"{name} {span.estimate:.3g}, 95% CI {span.low:.3g} to {span.high:.3g}: {side_of_zero(span)}"
    return Markup(
        f'<svg class="ci" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(label)}">{"".join(parts)}</svg>'
    )


def _rect(x1: float, x2: float, colour: str) -> str:
    """A bar segment between two positions."""
    return f'<rect x="{x1:.1f}" y="6" width="{max(x2 - x1, 1.0):.1f}" height="8" fill="{colour}"/>'


def band_over_time(
    labels: Sequence[str], spans: Sequence[Span], title: str, x_label: str = "", y_label: str = ""
) -> Markup:
    """An estimate over time with its CI as a band, a dashed line at zero and the axes named; a table beside.

    The band is the interval, the solid line with dots the estimate: told apart by shape, not colour.
    """
    width, height, left, top, plot_w, plot_h = 640, 240, 64, 12, 560, 170
    if not spans:
        return Markup("")
    domain = shared_domain(spans)

    def y(value: float) -> float:
        return top + plot_h - (value - domain[0]) / (domain[1] - domain[0]) * plot_h

    step = plot_w / max(len(spans) - 1, 1)
    xs = [left + i * step for i in range(len(spans))] if len(spans) > 1 else [left + plot_w / 2]
    pairs = list(zip(xs, spans, strict=True))
    upper = " ".join(f"{x:.1f},{y(s.high):.1f}" for x, s in pairs)
    lower = " ".join(f"{x:.1f},{y(s.low):.1f}" for x, s in reversed(pairs))
    line = " ".join(f"{x:.1f},{y(s.estimate):.1f}" for x, s in pairs)
    marks = "".join(
        f'<line x1="{x:.1f}" y1="{y(s.low):.1f}" x2="{x:.1f}" y2="{y(s.high):.1f}" stroke="#3a6ea5"/>'
        f'<circle cx="{x:.1f}" cy="{y(s.estimate):.1f}" r="3" fill="{INK}"/>'
        for x, s in pairs
    )
    ticks = "".join(
        f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end" font-size="11" fill="{INK}">'
        f"{v:.3g}</text>"
        for v in (domain[0], 0.0, domain[1])
    )
    ends = [(xs[0], labels[0], "middle" if len(spans) == 1 else "start")]
    if len(spans) > 1:
        ends.append((xs[-1], labels[-1], "end"))
    names = "".join(
        f'<text x="{x:.1f}" y="{top + plot_h + 18}" font-size="11" text-anchor="{anchor}" fill="{INK}">'
        f"{escape(text)}</text>"
        for x, text, anchor in ends
    )
    middle = top + plot_h / 2
    names += (
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 8}" font-size="12" text-anchor="middle" '
        f'fill="{INK}">{escape(x_label)}</text>'
        f'<text x="14" y="{middle:.1f}" font-size="12" text-anchor="middle" fill="{INK}" '
        f'transform="rotate(-90 14 {middle:.1f})">{escape(y_label)}</text>'
        if x_label or y_label
        else ""
    )
    return Markup(
        f'<svg class="band" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}: the table below lists every point">'
        f'<polygon points="{upper} {lower}" fill="#9ecae1" fill-opacity="0.6"/>'
        f'<line x1="{left}" y1="{y(0.0):.1f}" x2="{left + plot_w}" y2="{y(0.0):.1f}" stroke="{MUTED}" '
        f'stroke-dasharray="4 3"/>'
        f'<polyline points="{line}" fill="none" stroke="{INK}" stroke-width="2"/>{marks}{ticks}{names}</svg>'
    )


def count_bars(rows: Sequence[tuple[str, int]], title: str) -> Markup:
    """Counts as horizontal bars, each labelled with its name and number."""
    width, row_h, label_w = 520, 24, 150
    most = max((count for _, count in rows), default=0) or 1
    body = "".join(
        f'<text x="0" y="{i * row_h + 16}" font-size="12" fill="{INK}">{escape(name)}</text>'
        f'<rect x="{label_w}" y="{i * row_h + 5}" width="{max(count / most * 300, 1):.1f}" height="14" '
        f'fill="#3a6ea5"/><text x="{label_w + count / most * 300 + 6:.1f}" y="{i * row_h + 16}" '
        f'font-size="12" fill="{INK}">{count}</text>'
        for i, (name, count) in enumerate(rows)
    )
    height = max(len(rows), 1) * row_h
    return Markup(
        f'<svg class="bars" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}: the table below lists every count">{body}</svg>'
    )
