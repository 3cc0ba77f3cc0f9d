"""Small inline SVG charts: the report must open anywhere, with no network and no JS."""

from __future__ import annotations

from html import escape

WIDTH, HEIGHT, PAD = 520, 180, 36


def _scale(value: float, low: float, high: float, size: float) -> float:
    return size * (value - low) / (high - low) if high > low else size / 2


def line_chart(
    title: str,
    points: list[tuple[str, float]],
    *,
    threshold: float | None = None,
    y_range: tuple[float, float] | None = None,
) -> str:
    """A line over days, with an optional dashed threshold."""
    if not points:
        return f'<figure><figcaption>{escape(title)}</figcaption><p class="muted">no data yet</p></figure>'
    values = [value for _, value in points] + ([threshold] if threshold is not None else [])
    low, high = y_range or (min(values), max(values))
    inner_w, inner_h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD

    def xy(index: int, value: float) -> tuple[float, float]:
        x = PAD + (inner_w * index / (len(points) - 1) if len(points) > 1 else inner_w / 2)
        return x, HEIGHT - PAD - _scale(value, low, high, inner_h)

    coords = [xy(i, value) for i, (_, value) in enumerate(points)]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    parts = [
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}">',
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" class="axis"/>',
        f'<text x="4" y="{PAD}" class="tick">{high:.3g}</text>',
        f'<text x="4" y="{HEIGHT - PAD}" class="tick">{low:.3g}</text>',
    ]
    if threshold is not None:
        y = HEIGHT - PAD - _scale(threshold, low, high, inner_h)
        parts.append(
            f'<line x1="{PAD}" y1="{y:.1f}" x2="{WIDTH - PAD}" y2="{y:.1f}" class="threshold"/>'
        )
    parts.append(f'<polyline points="{path}" class="series"/>')
    for (x, y), (label, value) in zip(coords, points, strict=True):
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3"><title>{escape(label)}: {value:.4g}</title></circle>'
        )
    parts.append(f'<text x="{PAD}" y="{HEIGHT - 8}" class="tick">{escape(points[0][0])}</text>')
    parts.append(
        f'<text x="{WIDTH - PAD}" y="{HEIGHT - 8}" class="tick" text-anchor="end">'
        f"{escape(points[-1][0])}</text>"
    )
    parts.append("</svg>")
    return f"<figure><figcaption>{escape(title)}</figcaption>{''.join(parts)}</figure>"


def bar_chart(title: str, bars: list[tuple[str, float, float | None]]) -> str:
    """Horizontal bars, each with an optional threshold tick; bars over it are marked."""
    if not bars:
        return f'<figure><figcaption>{escape(title)}</figcaption><p class="muted">no data yet</p></figure>'
    high = max(max(value, threshold or 0) for _, value, threshold in bars) or 1.0
    row, label_w = 28, 150
    height = row * len(bars) + 10
    parts = [f'<svg viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}">']
    for i, (label, value, threshold) in enumerate(bars):
        y = 5 + i * row
        width = _scale(value, 0, high, WIDTH - label_w - 60)
        over = threshold is not None and value > threshold
        parts.append(f'<text x="0" y="{y + 15}" class="tick">{escape(label)}</text>')
        parts.append(
            f'<rect x="{label_w}" y="{y}" width="{max(width, 1):.1f}" height="18" '
            f'class="{"bar over" if over else "bar"}"/>'
        )
        parts.append(
            f'<text x="{label_w + width + 4:.1f}" y="{y + 14}" class="tick">{value:.3g}</text>'
        )
        if threshold is not None:
            x = label_w + _scale(threshold, 0, high, WIDTH - label_w - 60)
            parts.append(
                f'<line x1="{x:.1f}" y1="{y - 2}" x2="{x:.1f}" y2="{y + 20}" class="threshold"/>'
            )
    parts.append("</svg>")
    return f"<figure><figcaption>{escape(title)}</figcaption>{''.join(parts)}</figure>"


def curve_chart(
    title: str,
    series: list[tuple[str, list[list[float]]]],
    *,
    x_label: str,
    y_label: str,
    diagonal: bool = False,
) -> str:
    """Curves on the unit square (ROC, precision-recall, calibration), one colour per series."""
    if not any(points for _, points in series):
        return (
            f'<figure><figcaption>{escape(title)}</figcaption><p class="muted">no data</p></figure>'
        )
    size = HEIGHT + 40
    inner = size - 2 * PAD

    def xy(x: float, y: float) -> str:
        return f"{PAD + inner * x:.1f},{size - PAD - inner * y:.1f}"

    parts = [
        f'<svg viewBox="0 0 {size + 120} {size}" role="img" aria-label="{escape(title)}">',
        f'<rect x="{PAD}" y="{PAD}" width="{inner}" height="{inner}" class="frame"/>',
        f'<text x="{PAD}" y="{size - 8}" class="tick">0</text>',
        f'<text x="{PAD + inner}" y="{size - 8}" class="tick" text-anchor="end">1 {escape(x_label)}</text>',
        f'<text x="4" y="{PAD + 4}" class="tick">1</text>',
        f'<text x="4" y="{PAD - 10}" class="tick">{escape(y_label)}</text>',
    ]
    if diagonal:
        parts.append(
            f'<polyline points="{xy(0, 0)} {xy(1, 1)}" class="threshold"><title>ideal</title></polyline>'
        )
    for index, (name, points) in enumerate(series):
        path = " ".join(xy(x, y) for x, y in points)
        parts.append(f'<polyline points="{path}" class="series s{index}"/>')
        parts.append(
            f'<text x="{PAD + inner + 8}" y="{PAD + 14 + 16 * index}" class="tick legend s{index}">'
            f"{escape(name)}</text>"
        )
    parts.append("</svg>")
    return f"<figure><figcaption>{escape(title)}</figcaption>{''.join(parts)}</figure>"
