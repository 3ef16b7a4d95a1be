"""Inline SVG charts, drawn in Python (no JS, no network): line, signed bars, horizontal
bars, stacked horizontal bars and a heat map. Every text is escaped; the result is a
markupsafe.Markup the templates insert as is. Hovering a point or a bar shows its value
(an SVG <title>).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence

from markupsafe import Markup, escape

UP = "#d93025"      # red: up / inflow (the Chinese convention)
DOWN = "#1e8e3e"    # green: down / outflow
PRIMARY = "#3b6fb6"
GRID = "#e6e8eb"
AXIS = "#80868b"
TEXT = "#3c4043"

Fmt = Callable[[float], str]


def _n(x: float) -> str:
    """A coordinate with one decimal, no trailing zeros."""
    s = f"{x:.1f}"
    return s[:-2] if s.endswith(".0") else s


def _svg(width: int, height: int, body: list[str], label: str) -> Markup:
    return Markup(
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">'
        + "".join(body) + "</svg>")


def _text(x: float, y: float, text: str, *, anchor: str = "start", size: int = 11,
          color: str = TEXT, weight: str | None = None, extra: str = "", halo: bool = False) -> str:
    w = f' font-weight="{weight}"' if weight else ""
    if halo:  # a white outline keeps the text readable over lines and bars
        w += ' stroke="#ffffff" stroke-width="3" paint-order="stroke" stroke-linejoin="round"'

    return (f'<text x="{_n(x)}" y="{_n(y)}" text-anchor="{anchor}" font-size="{size}" '
            f'fill="{color}"{w}{extra}>{escape(text)}</text>')


def text_width(text: str, size: int = 11) -> float:
    """Rough rendered width: CJK and full-width characters are one em, others ~0.6 em."""
    return sum(size if ord(ch) > 0x2E80 else size * 0.6 for ch in text)


def fit(text: str, max_px: float, size: int = 11) -> str:
    """`text` cut with '…' so that it fits in max_px."""
    if text_width(text, size) <= max_px:
        return text
    while text and text_width(text + "…", size) > max_px:
        text = text[:-1]
    return text + "…"


def _empty(width: int, height: int, label: str, message: str = "暂无数据") -> Markup:
    return _svg(width, height, [
        f'<rect x="0.5" y="0.5" width="{width - 1}" height="{height - 1}" fill="#fafafa" stroke="{GRID}"/>',
        _text(width / 2, height / 2, message, anchor="middle", color=AXIS, size=13),
    ], label)


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """Round tick values covering [lo, hi], about n of them."""
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:
        pad = abs(hi) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    raw = (hi - lo) / max(n, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = mag
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            step = m * mag
            break
    start = math.floor(lo / step + 1e-9) * step
    end = math.ceil(hi / step - 1e-9) * step
    count = int(round((end - start) / step))
    return [start + i * step for i in range(count + 1)]


def _x_labels(dates: Sequence[dt.date], xs: Sequence[float], y: float, max_labels: int = 7) -> list[str]:
    n = len(dates)
    if n == 0:
        return []
    k = max(1, math.ceil(n / max_labels))
    idx = list(range(n - 1, -1, -k))[::-1]  # always label the last session
    out = []
    for i in idx:
        d = dates[i]
        out.append(_text(xs[i], y, d.strftime("%m-%d"), anchor="middle", size=10, color=AXIS))
    return out


def _frame(ticks: list[float], y_of: Callable[[float], float], left: int, right: float,
           axis_fmt: Fmt) -> list[str]:
    out = []
    for t in ticks:
        y = y_of(t)
        out.append(f'<line x1="{left}" x2="{_n(right)}" y1="{_n(y)}" y2="{_n(y)}" '
                   f'stroke="{GRID}" stroke-width="1"/>')
        out.append(_text(left - 6, y + 3.5, axis_fmt(t), anchor="end", size=10, color=AXIS))
    return out


def line_chart(dates: Sequence[dt.date], values: Sequence[float | None], *, label: str,
               axis_fmt: Fmt, value_fmt: Fmt, color: str = PRIMARY, width: int = 560,
               height: int = 220, zero_based: bool = False, area: bool = True) -> Markup:
    """A line over sessions (equally spaced); None leaves a gap."""
    pts = [(i, v) for i, v in enumerate(values) if v is not None and not math.isnan(v)]
    if not pts:
        return _empty(width, height, label)
    left, right, top, bottom = 74, width - 16, 14, height - 24
    vals = [v for _, v in pts]
    lo, hi = min(vals), max(vals)
    if zero_based:
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    ticks = nice_ticks(lo, hi, 4)
    t0, t1 = ticks[0], ticks[-1]
    n = len(values)
    xs = [left + (right - left) * (i / (n - 1) if n > 1 else 0.5) for i in range(n)]

    def y_of(v: float) -> float:
        return bottom - (v - t0) / (t1 - t0) * (bottom - top)

    body = _frame(ticks, y_of, left, right, axis_fmt)
    # the line, split at gaps
    segments: list[list[tuple[int, float]]] = []
    prev = None
    for i, v in pts:
        if prev is None or i != prev + 1:
            segments.append([])
        segments[-1].append((i, v))
        prev = i
    for seg in segments:
        d = " ".join(f"{'M' if k == 0 else 'L'}{_n(xs[i])},{_n(y_of(v))}" for k, (i, v) in enumerate(seg))
        if area and len(seg) > 1:
            base = y_of(max(t0, min(0.0, t1)) if t0 <= 0 <= t1 else t0)
            body.append(f'<path d="{d} L{_n(xs[seg[-1][0]])},{_n(base)} L{_n(xs[seg[0][0]])},{_n(base)} Z" '
                        f'fill="{color}" fill-opacity="0.08" stroke="none"/>')
        body.append(f'<path d="{d}" fill="none" stroke="{color}" stroke-width="2" '
                    f'stroke-linejoin="round" stroke-linecap="round"/>')
    for i, v in pts:
        body.append(f'<circle cx="{_n(xs[i])}" cy="{_n(y_of(v))}" r="5" fill="{color}" fill-opacity="0">'
                    f'<title>{escape(dates[i].isoformat())}：{escape(value_fmt(v))}</title></circle>')
    i, v = pts[-1]
    body.append(f'<circle cx="{_n(xs[i])}" cy="{_n(y_of(v))}" r="3.5" fill="{color}"/>')
    body.append(_text(min(xs[i], right - 4), max(y_of(v) - 9, top + 10), value_fmt(v), anchor="end",
                      size=11, color=color, weight="600", halo=True))
    body.append(f'<line x1="{left}" x2="{_n(right)}" y1="{_n(bottom)}" y2="{_n(bottom)}" stroke="{AXIS}"/>')
    body += _x_labels(dates, xs, height - 8)
    return _svg(width, height, body, label)


def bar_chart(dates: Sequence[dt.date], values: Sequence[float | None], *, label: str,
              axis_fmt: Fmt, value_fmt: Fmt, width: int = 560, height: int = 220,
              pos_color: str = UP, neg_color: str = DOWN) -> Markup:
    """Signed bars over sessions: positive red, negative green, from a zero line."""
    if not any(v is not None for v in values):
        return _empty(width, height, label)
    left, right, top, bottom = 74, width - 16, 14, height - 24
    vals = [v or 0.0 for v in values]
    ticks = nice_ticks(min(min(vals), 0.0), max(max(vals), 0.0), 4)
    t0, t1 = ticks[0], ticks[-1]
    n = len(values)
    slot = (right - left) / n
    bw = max(1.0, slot * 0.7)
    xs = [left + slot * (i + 0.5) for i in range(n)]

    def y_of(v: float) -> float:
        return bottom - (v - t0) / (t1 - t0) * (bottom - top)

    body = _frame(ticks, y_of, left, right, axis_fmt)
    y0 = y_of(0.0)
    for i, v in enumerate(values):
        if v is None:
            continue
        y = y_of(v)
        top_y, h = (y, y0 - y) if v >= 0 else (y0, y - y0)
        body.append(f'<rect x="{_n(xs[i] - bw / 2)}" y="{_n(top_y)}" width="{_n(bw)}" '
                    f'height="{_n(max(h, 0.5))}" fill="{pos_color if v >= 0 else neg_color}">'
                    f'<title>{escape(dates[i].isoformat())}：{escape(value_fmt(v))}</title></rect>')
    body.append(f'<line x1="{left}" x2="{_n(right)}" y1="{_n(y0)}" y2="{_n(y0)}" stroke="{AXIS}"/>')
    last = values[-1]
    if last is not None:
        body.append(_text(right, top + 4, f"{dates[-1].strftime('%m-%d')}：{value_fmt(last)}",
                          anchor="end", size=11, color=pos_color if last >= 0 else neg_color,
                          weight="600", halo=True))
    body += _x_labels(dates, xs, height - 8)
    return _svg(width, height, body, label)


def hbar_chart(items: Sequence[tuple[str, float | None, str]], *, label: str,
               color: str | Sequence[str] = PRIMARY, width: int = 560, label_width: int = 110,
               bar_height: int = 18, gap: int = 6) -> Markup:
    """Horizontal bars: (label, value, shown text) per row, largest scale = longest bar.
    Negative values draw green to the left of a zero line."""
    if not items:
        return _empty(width, 80, label)
    vals = [v or 0.0 for _, v, _ in items]
    lo, hi = min(min(vals), 0.0), max(max(vals), 0.0)
    span = (hi - lo) or 1.0
    text_w = 96
    x0 = label_width + 8
    plot = width - x0 - text_w
    zero = x0 + (0 - lo) / span * plot
    height = len(items) * (bar_height + gap) + gap
    body = []
    for k, (name, v, shown) in enumerate(items):
        y = gap + k * (bar_height + gap)
        c = color[k % len(color)] if not isinstance(color, str) else color
        v = v or 0.0
        w = abs(v) / span * plot
        x = zero if v >= 0 else zero - w
        fill = c if v >= 0 else DOWN
        body.append(_text(label_width, y + bar_height * 0.72, fit(name, label_width - 4, 12),
                          anchor="end", size=12))
        body.append(f'<rect x="{_n(x)}" y="{y}" width="{_n(max(w, 0.5))}" height="{bar_height}" '
                    f'rx="2" fill="{fill}"><title>{escape(name)}：{escape(shown)}</title></rect>')
        tx = (x + w + 6) if v >= 0 else (zero + 6)
        body.append(_text(tx, y + bar_height * 0.72, shown, size=11, color=TEXT))
    if lo < 0:
        body.append(f'<line x1="{_n(zero)}" x2="{_n(zero)}" y1="0" y2="{height}" stroke="{AXIS}"/>')
    return _svg(width, height, body, label)


def stacked_hbar(labels: Sequence[str], series: Sequence[tuple[str, str, Sequence[float]]],
                 *, label: str, totals: Sequence[str] | None = None, width: int = 560,
                 label_width: int = 130, bar_height: int = 16, gap: int = 5,
                 value_fmt: Fmt = lambda v: f"{v:g}") -> Markup:
    """Horizontal stacked bars: series = (name, colour, values per label); a legend on top;
    value_fmt writes a part's value in its hover title."""
    if not labels:
        return _empty(width, 80, label)
    legend_h = 22
    text_w = 70
    x0 = label_width + 8
    plot = width - x0 - text_w
    sums = [sum((s[2][k] or 0) for s in series) for k in range(len(labels))]
    top = max(sums) or 1.0
    height = legend_h + len(labels) * (bar_height + gap) + gap
    body = []
    lx = x0
    for name, colour, _ in series:
        body.append(f'<rect x="{_n(lx)}" y="5" width="12" height="12" fill="{colour}"/>')
        body.append(_text(lx + 16, 15, name, size=11))
        lx += 16 + 12 * len(name) + 18
    for k, name in enumerate(labels):
        y = legend_h + gap + k * (bar_height + gap)
        body.append(_text(label_width, y + bar_height * 0.75, fit(name, label_width - 4, 11),
                          anchor="end", size=11))
        x = x0
        for sname, colour, vals in series:
            v = vals[k] or 0
            w = v / top * plot
            if w > 0:
                body.append(f'<rect x="{_n(x)}" y="{y}" width="{_n(w)}" height="{bar_height}" '
                            f'fill="{colour}"><title>{escape(name)} {escape(sname)}：{escape(value_fmt(v))}</title></rect>')
            x += w
        shown = totals[k] if totals else f"{sums[k]:g}"
        body.append(_text(x + 6, y + bar_height * 0.75, shown, size=11))
    return _svg(width, height, body, label)


def _diverging(v: float | None) -> str:
    """-1 blue .. 0 white .. +1 red."""
    if v is None or math.isnan(v):
        return "#f1f3f4"
    v = max(-1.0, min(1.0, v))
    if v >= 0:
        r, g, b = 255, int(255 - 170 * v), int(255 - 185 * v)
    else:
        r, g, b = int(255 + 200 * v), int(255 + 120 * v), 255
    return f"#{r:02x}{g:02x}{b:02x}"


def heatmap(labels: Sequence[str], matrix: Sequence[Sequence[float | None]], *, label: str,
            cell: int = 46, label_width: int = 120, fmt: Fmt = lambda v: f"{v:.2f}") -> Markup:
    """A square matrix (e.g. Spearman correlations, -1..1), values printed in the cells."""
    n = len(labels)
    if n == 0:
        return _empty(480, 80, label)
    header = 86
    width = label_width + n * cell + 80  # room for the last column's slanted label
    height = header + n * cell + 10
    body = []
    for j, name in enumerate(labels):
        x = label_width + j * cell + cell / 2
        body.append(_text(x, header - 6, fit(name, 110, 11), anchor="start", size=11,
                          extra=f' transform="rotate(-40 {_n(x)} {header - 6})"'))
    for i, row_name in enumerate(labels):
        y = header + i * cell
        body.append(_text(label_width - 6, y + cell / 2 + 4, fit(row_name, label_width - 10, 11),
                          anchor="end", size=11))
        for j in range(n):
            v = matrix[i][j]
            x = label_width + j * cell
            tip = f"{row_name} × {labels[j]}：{fmt(v) if v is not None else '—'}"
            body.append(f'<rect x="{x}" y="{y}" width="{cell - 2}" height="{cell - 2}" '
                        f'fill="{_diverging(v)}"><title>{escape(tip)}</title></rect>')
            if v is not None and not math.isnan(v):
                col = "#ffffff" if abs(v) >= 0.6 else TEXT
                body.append(_text(x + (cell - 2) / 2, y + cell / 2 + 3, fmt(v), anchor="middle",
                                  size=10, color=col))
    return _svg(width, height, body, label)


def cell_shade(share: float | None, rgb: tuple[int, int, int] = (59, 111, 182)) -> str:
    """Background colour for a table cell with intensity `share` (0..1)."""
    if share is None or share <= 0:
        return "transparent"
    a = 0.08 + 0.6 * min(1.0, share)
    return f"rgba({rgb[0]},{rgb[1]},{rgb[2]},{a:.2f})"


# ---- client analysis -----------------------------------------------------------------------

def _pct_axis(v: float) -> str:
    return f"{v * 100:.0f}%"


def grouped_bar_chart(categories: Sequence[str], series: Sequence[tuple[str, str, Sequence[float | None]]],
                      *, label: str, value_fmt: Fmt, axis_fmt: Fmt = _pct_axis, width: int = 560,
                      height: int = 240) -> Markup:
    """Vertical bars grouped by category, one bar per series (name, colour, values), a
    legend on top; values from 0 (shares, amounts)."""
    if not categories or not series:
        return _empty(width, height, label)
    legend_h = 22
    left, right, top, bottom = 56, width - 12, legend_h + 14, height - 26
    vals = [v or 0.0 for _, _, vs in series for v in vs]
    ticks = nice_ticks(0.0, max(max(vals), 0.0) or 1.0, 4)
    t0, t1 = ticks[0], ticks[-1]

    def y_of(v: float) -> float:
        return bottom - (v - t0) / (t1 - t0) * (bottom - top)

    body = _frame(ticks, y_of, left, right, axis_fmt)
    lx = left
    for name, colour, _ in series:
        body.append(f'<rect x="{_n(lx)}" y="5" width="12" height="12" fill="{colour}"/>')
        body.append(_text(lx + 16, 15, name, size=11))
        lx += 16 + text_width(name, 11) + 18
    slot = (right - left) / len(categories)
    bw = min(28.0, slot * 0.8 / len(series))
    for i, cat in enumerate(categories):
        cx = left + slot * (i + 0.5)
        x = cx - bw * len(series) / 2
        for name, colour, vs in series:
            v = vs[i]
            if v is not None:
                y = y_of(max(v, 0.0))
                tip = f"{cat} {name}：{value_fmt(v)}"
                body.append(f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(bw - 1)}" height="{_n(max(y_of(0) - y, 0.5))}" '
                            f'fill="{colour}"><title>{escape(tip)}</title></rect>')
                body.append(_text(x + (bw - 1) / 2, y - 3, value_fmt(v), anchor="middle", size=9, color=TEXT))
            x += bw
        body.append(_text(cx, height - 9, fit(cat, slot - 4, 11), anchor="middle", size=11))
    body.append(f'<line x1="{left}" x2="{_n(right)}" y1="{_n(y_of(0))}" y2="{_n(y_of(0))}" stroke="{AXIS}"/>')
    return _svg(width, height, body, label)


def concentration_curve(points: Sequence[tuple[float, float]], marks: Sequence[tuple[float, float, str]],
                        *, label: str, x_title: str, y_title: str, width: int = 460, height: int = 300,
                        color: str = PRIMARY) -> Markup:
    """A Lorenz-style concentration curve in the unit square: (x, y) points from (0, 0),
    the diagonal of equal shares dashed, and marked points (x, y, text)."""
    if not points:
        return _empty(width, height, label)
    left, right, top, bottom = 52, width - 16, 12, height - 40
    ticks = [0.0, 0.25, 0.5, 0.75, 1.0]

    def xy(x: float, y: float) -> tuple[float, float]:
        return left + x * (right - left), bottom - y * (bottom - top)

    body = _frame(ticks, lambda v: xy(0, v)[1], left, right, _pct_axis)
    for t in ticks:
        x = xy(t, 0)[0]
        body.append(_text(x, bottom + 14, _pct_axis(t), anchor="middle", size=10, color=AXIS))
    body.append(_text((left + right) / 2, height - 6, x_title, anchor="middle", size=11, color=AXIS))
    body.append(_text(12, (top + bottom) / 2, y_title, anchor="middle", size=11, color=AXIS,
                      extra=f' transform="rotate(-90 12 {_n((top + bottom) / 2)})"'))
    (x0, y0), (x1, y1) = xy(0, 0), xy(1, 1)
    body.append(f'<line x1="{_n(x0)}" y1="{_n(y0)}" x2="{_n(x1)}" y2="{_n(y1)}" stroke="{AXIS}" '
                f'stroke-dasharray="4 3"/>')
    pts = [(0.0, 0.0)] + [(x, y) for x, y in points if x is not None and y is not None]
    d = " ".join(f"{'M' if k == 0 else 'L'}{_n(xy(x, y)[0])},{_n(xy(x, y)[1])}" for k, (x, y) in enumerate(pts))
    corner = xy(1, 0)
    body.append(f'<path d="{d} L{_n(corner[0])},{_n(corner[1])} Z" fill="{color}" fill-opacity="0.08" stroke="none"/>')
    body.append(f'<path d="{d}" fill="none" stroke="{color}" stroke-width="2" stroke-linejoin="round"/>')
    for x, y, text in marks:
        if x is None or y is None:
            continue
        px, py = xy(x, y)
        body.append(f'<circle cx="{_n(px)}" cy="{_n(py)}" r="4" fill="{UP}"><title>{escape(text)}</title></circle>')
        body.append(_text(px + 8, py + 12, text, size=11, color=UP, halo=True))
    return _svg(width, height, body, label)


def share_heatmap(columns: Sequence[str], overall: tuple[str, Sequence[float | None], str] | None,
                  groups: Sequence[tuple[str, str, Sequence[tuple[str, Sequence[float | None],
                                                               Sequence[float | None], str]]]],
                  *, label: str, fmt: Fmt, cell_w: int = 66, cell_h: int = 24, label_width: int = 118,
                  count_width: int = 64, scale: float = 0.5) -> Markup:
    """Shares in a grid: a header of `columns`; an `overall` row (label, values, count text);
    then per group a header (its name, a text on the right) and its rows (label, values,
    deviations from the overall row, count text). A cell prints its value and is shaded by
    its deviation: red above the overall share, blue below, full at +-`scale`."""
    if not groups:
        return _empty(480, 80, label)
    width = label_width + len(columns) * cell_w + count_width
    y = 26
    body = []
    for j, name in enumerate(columns):
        body.append(_text(label_width + j * cell_w + cell_w / 2, 17, fit(name, cell_w - 4, 12), anchor="middle",
                          size=12, weight="600"))
    body.append(_text(width - 4, 17, "客户数", anchor="end", size=11, color=AXIS))

    def row(name: str, values, deviations, count: str, bold: bool = False) -> None:
        nonlocal y
        body.append(_text(label_width - 8, y + cell_h / 2 + 4, fit(name, label_width - 12, 12), anchor="end",
                          size=12, weight="600" if bold else None))
        for j, v in enumerate(values):
            x = label_width + j * cell_w
            dev = deviations[j] if deviations is not None else None
            fill = "#eef0f3" if deviations is None else _diverging(None if dev is None else dev / scale)
            strong = dev is not None and abs(dev / scale) >= 0.6
            tip = f"{name} × {columns[j]}：{fmt(v) if v is not None else '—'}"
            if dev is not None:
                tip += f"（较全体 {'+' if dev >= 0 else ''}{dev * 100:.1f} 个百分点）"
            body.append(f'<rect class="cell" x="{x}" y="{_n(y)}" width="{cell_w - 2}" height="{cell_h - 2}" '
                        f'fill="{fill}"><title>{escape(tip)}</title></rect>')
            body.append(_text(x + (cell_w - 2) / 2, y + cell_h / 2 + 3, fmt(v) if v is not None else "—",
                              anchor="middle", size=11, color="#ffffff" if strong else TEXT))
        body.append(_text(width - 4, y + cell_h / 2 + 4, count, anchor="end", size=11, color=AXIS))
        y += cell_h

    if overall:
        row(overall[0], overall[1], None, overall[2], bold=True)
    for name, side, rows in groups:
        y += 6
        body.append(f'<line x1="0" x2="{width}" y1="{_n(y)}" y2="{_n(y)}" stroke="{GRID}"/>')
        body.append(_text(4, y + 17, name, size=12, weight="600", color="#1f3a5f"))
        body.append(_text(width - 4, y + 17, side, anchor="end", size=11, color=AXIS))
        y += cell_h
        for r in rows:
            row(*r)
    return _svg(width, int(y + 6), body, label)
