"""The trend plot of index.html: failing tests per layer over the kept runs, as inline SVG (no JS, no plotting library).

One row per layer on a shared scale (small multiples), so a layer at zero never hides behind another; a layer
that did not run in a run (e.g. a `-m static` night) leaves a gap instead of a misleading zero.
"""
from __future__ import annotations

import math
from collections import Counter
from html import escape

from phoenix_verify.nightly.history import FAILING, Run

# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
COLOURS = {"host": "#0072B2", "lxc": "#E69F00", "gateway": "#009E73", "vllm": "#CC79A7", "firewall": "#D55E00", "static": "#56B4E9"}
_OTHER_COLOURS = ("#000000", "#F0E442", "#999999")
WIDTH, LEFT, RIGHT, TOP, ROW, PANEL, PAD, BOTTOM = 980, 130, 150, 34, 52, 36, 10, 44
MAX_X_LABELS, LABEL_WIDTH = 8, 80


def colour(layer: str, index: int) -> str:
    return COLOURS.get(layer) or _OTHER_COLOURS[index % len(_OTHER_COLOURS)]


def _stamp_label(stamp: str) -> str:
    """20261126T224900Z -> 11-26 22:49 (the year is in the runs table)."""
    return f"{stamp[4:6]}-{stamp[6:8]} {stamp[9:11]}:{stamp[11:13]}"


def _x_positions(n: int) -> list[float]:
    span = WIDTH - LEFT - RIGHT - 2 * PAD
    if n == 1:
        return [LEFT + PAD + span / 2]
    return [LEFT + PAD + i * span / (n - 1) for i in range(n)]


def _label_indices(n: int) -> list[int]:
    """Runs that get a date under the axis: counted back from the newest, spaced so that labels never overlap."""
    per_run = (WIDTH - LEFT - RIGHT - 2 * PAD) / max(n - 1, 1)
    step = max(math.ceil(n / MAX_X_LABELS), math.ceil(LABEL_WIDTH / per_run))
    return sorted(range(n - 1, -1, -step))


def _y(value: int, top: float, ymax: int) -> float:
    return round(top + PANEL - value / ymax * PANEL, 1)


def _row(layer: str, index: int, runs: list[Run], failing: list[int], xs: list[float], ymax: int) -> list[str]:
    """One layer's panel: label, scale, the line (broken where the layer did not run), a dot with a tooltip per run."""
    top, right, col = TOP + index * ROW, WIDTH - RIGHT, colour(layer, index)
    zero, full = _y(0, top, ymax), _y(ymax, top, ymax)
    out = [
        f'<rect x="{LEFT}" y="{top}" width="{right - LEFT}" height="{PANEL}" fill="#f6f7f9"/>',
        f'<line x1="{LEFT}" y1="{zero}" x2="{right}" y2="{zero}" stroke="#bbb"/>',
        f'<line x1="{LEFT}" y1="{full}" x2="{right}" y2="{full}" stroke="#ddd" stroke-dasharray="3 3"/>',
        f'<text x="{LEFT - 40}" y="{top + PANEL / 2 + 4}" text-anchor="end" font-weight="bold" fill="{col}">{escape(layer)}</text>',
        f'<text x="{LEFT - 6}" y="{zero + 3}" text-anchor="end" fill="#555">0</text>',
        f'<text x="{LEFT - 6}" y="{full + 8}" text-anchor="end" fill="#555">{ymax}</text>',
    ]
    totals = [sum(run.counts.get(layer, {}).values()) for run in runs]
    segments, dots, pen_down = [], [], False
    for run, x, value, total in zip(runs, xs, failing, totals):
        if total:
            cx, cy = round(x, 1), _y(value, top, ymax)
            segments.append(f"{'L' if pen_down else 'M'}{cx} {cy}")
            dots.append(f'<circle cx="{cx}" cy="{cy}" r="3" fill="{col}"><title>{escape(run.stamp)} {escape(layer)}: '
                        f"{value} failing of {total}</title></circle>")
        pen_down = bool(total)
    if segments:
        out.append(f'<path class="trend" data-layer="{escape(layer)}" d="{" ".join(segments)}" fill="none" stroke="{col}" stroke-width="2"/>')
    note = f"{failing[-1]} failing of {totals[-1]}" if totals[-1] else "not run in the newest run"
    return [*out, *dots, f'<text x="{right + 10}" y="{top + PANEL / 2 + 4}" fill="#333">{escape(note)}</text>']


def render(runs: list[Run], layers: list[str]) -> str:
    """The SVG element for a non-empty history (oldest run left); one <path class="trend"> per layer that ran at least once."""
    failing = [[sum(run.counts.get(layer, Counter())[o] for o in FAILING) for run in runs] for layer in layers]
    ymax = max([1, *(v for row in failing for v in row)])
    xs = _x_positions(len(runs))
    axis = TOP + ROW * len(layers) - (ROW - PANEL)
    height = axis + BOTTOM
    out = [
        (f'<svg xmlns="http://www.w3.org/2000/svg" class="trend" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
         'role="img" aria-labelledby="trend-title" font-family="sans-serif" font-size="11">'),
        '<title id="trend-title">Failing tests (failed + error) per layer over the kept nightly runs</title>',
        f'<text x="{LEFT}" y="16" font-size="13" font-weight="bold">Failing tests per layer, per run (shared scale 0-{ymax})</text>',
        f'<text transform="translate(14 {TOP + (axis - TOP) / 2}) rotate(-90)" text-anchor="middle">failing tests</text>',
    ]
    for index, layer in enumerate(layers):
        out += _row(layer, index, runs, failing[index], xs, ymax)
    for i in _label_indices(len(runs)):
        x = round(xs[i], 1)
        out += [
            f'<line x1="{x}" y1="{axis}" x2="{x}" y2="{axis + 4}" stroke="#555"/>',
            f'<text x="{x}" y="{axis + 16}" text-anchor="middle" fill="#555">{escape(_stamp_label(runs[i].stamp))}</text>',
        ]
    out += [f'<text x="{(LEFT + WIDTH - RIGHT) / 2}" y="{axis + 34}" text-anchor="middle">nightly run (UTC), oldest to newest</text>', "</svg>"]
    return "\n".join(out)
