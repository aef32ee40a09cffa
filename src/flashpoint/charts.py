"""Pictures people would rather see than read, as self-contained SVG (no fonts, scripts or network).

Example:
    >>> svg = hourly_timeline_svg([("2025-03-14T10", "telegram", 5), ("2025-03-14T11", "vk", 2)], title="t")
    >>> svg.startswith("<svg") and "telegram" in svg
    True
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from html import escape

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


def _hour(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H").replace(tzinfo=UTC)


def hourly_timeline_svg(
    counts: Sequence[tuple[str, str, int]],
    *,
    title: str,
    marks: Sequence[tuple[datetime, str]] = (),
    display_offset: timedelta = timedelta(0),
    width: int = 1100,
    height: int = 360,
) -> str:
    """Stacked bars of messages per hour by series, with labelled vertical marks (e.g. the onset).

    ``counts`` holds (UTC hour 'YYYY-MM-DDTHH', series, count); hours are labelled in local time
    shifted by ``display_offset``.
    """
    if not counts:
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="60">'
            '<text x="10" y="30">no data</text></svg>'
        )
    per_hour: dict[datetime, dict[str, int]] = defaultdict(dict)
    for hour_text, series, n in counts:
        bucket = per_hour[_hour(hour_text)]
        bucket[series] = bucket.get(series, 0) + n
    series_names = sorted({s for _, s, _ in counts})
    colour = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(series_names)}
    # The axis covers the data and every mark (a mark just past the last bar must still show).
    mark_hours = [m.astimezone(UTC).replace(minute=0, second=0, microsecond=0) for m, _ in marks]
    start, end = min([*per_hour, *mark_hours]), max([*per_hour, *mark_hours]) + timedelta(hours=1)
    hours = int((end - start).total_seconds() // 3600)
    left, right, top, bottom = 60, 20, 40, 60
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max(sum(v.values()) for v in per_hour.values())
    bar_w = plot_w / hours
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
        f'font-size="11"><rect width="100%" height="100%" fill="white"/>',
        f'<text x="{left}" y="22" font-size="15" font-weight="bold">{escape(title)}</text>',
    ]
    for i in range(5):
        value = peak * i / 4
        y = top + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{value:.0f}</text>')
    for hour, by_series in sorted(per_hour.items()):
        x = left + (hour - start).total_seconds() / 3600 * bar_w
        y = top + plot_h
        for name in series_names:
            n = by_series.get(name, 0)
            if not n:
                continue
            h = plot_h * n / peak
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(bar_w - 1, 1):.1f}" height="{h:.1f}" fill="{colour[name]}">'
                f"<title>{escape(name)} {hour.isoformat()}: {n}</title></rect>"
            )
    for i in range(0, hours + 1, 6):
        moment = start + timedelta(hours=i) + display_offset
        x = left + i * bar_w
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top + plot_h}" y2="{top + plot_h + 4}" stroke="black"/>')
        parts.append(f'<text x="{x:.1f}" y="{top + plot_h + 16}" text-anchor="middle">{moment:%d %b %H:%M}</text>')
    for i, (moment, label) in enumerate(sorted(marks)):
        x = left + (moment - start).total_seconds() / 3600 * bar_w
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + plot_h}" stroke="#c00" stroke-width="2" '
            'stroke-dasharray="5,3"/>'
        )
        # labels step down so that marks an hour apart stay readable; they read right to left
        parts.append(
            f'<text x="{x - 4:.1f}" y="{top + 12 + 14 * i}" fill="#c00" text-anchor="end" '
            f'stroke="white" stroke-width="3" paint-order="stroke">{escape(label)}</text>'
        )
    lx = left
    for name in series_names:
        parts.append(f'<rect x="{lx}" y="{height - 22}" width="12" height="12" fill="{colour[name]}"/>')
        parts.append(f'<text x="{lx + 16}" y="{height - 12}">{escape(name)}</text>')
        lx += 16 + 7 * len(name) + 20
    parts.append("</svg>")
    return "\n".join(parts)


def hourly_bars_png(
    counts: Sequence[tuple[str, int]],
    *,
    title: str,
    marks: Sequence[tuple[str, str]] = (),
    width: int = 900,
    height: int = 320,
) -> bytes:
    """A PNG bar chart of one series per hour ('YYYY-MM-DDTHH' UTC, count), with labelled marks
    (hour, label); labels should be in Latin letters (the bundled font has no Cyrillic).

    >>> png = hourly_bars_png([("2025-03-15T18", 1), ("2025-03-15T20", 5)], title="cluster r1")
    >>> png[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
    True
    """
    import io

    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=13)
    draw.text((10, 8), title, fill="black", font=font)
    if not counts:
        draw.text((10, 40), "no data", fill="black", font=font)
    else:
        hours = sorted({_hour(h) for h, _ in counts} | {_hour(h) for h, _ in marks})
        start, end = hours[0], hours[-1] + timedelta(hours=1)
        span = max(1, int((end - start).total_seconds() // 3600))
        left, right, top, bottom = 50, 20, 36, 40
        plot_w, plot_h = width - left - right, height - top - bottom
        peak = max(n for _, n in counts) or 1
        bar = plot_w / span
        for hour_text, n in counts:
            x = left + (_hour(hour_text) - start).total_seconds() / 3600 * bar
            h = plot_h * n / peak
            draw.rectangle([x, top + plot_h - h, x + max(bar - 1, 1), top + plot_h], fill=PALETTE[0])
        draw.line([left, top + plot_h, width - right, top + plot_h], fill="black")
        draw.text((5, top), str(peak), fill="black", font=font)
        for i in range(0, span + 1, max(1, span // 6)):
            moment = start + timedelta(hours=i)
            draw.text((left + i * bar, top + plot_h + 6), f"{moment:%d %b %H:00}", fill="black", font=font)
        for j, (hour_text, label) in enumerate(marks):
            x = left + (_hour(hour_text) - start).total_seconds() / 3600 * bar
            draw.line([x, top, x, top + plot_h], fill=PALETTE[3], width=2)
            draw.text((x + 3, top + 4 + 14 * j), label, fill=PALETTE[3], font=font)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
