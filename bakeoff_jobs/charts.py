"""Geometry for the report's server-rendered SVG charts: cost versus quality with the
cheapest-at-each-quality frontier, and latency distribution per model. Plain numbers in, plain
dicts out; the templates draw them (with a data table beside each chart)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from .stats import percentile

WIDTH, HEIGHT = 640, 360
PHONE_WIDTH, PHONE_HEIGHT = 360, 320  # drawn apart for a phone's column, not shrunk to it
LEFT, RIGHT, TOP, BOTTOM = 64, 24, 24, 52
FONT_PX = 12  # .chart text in cloudroute.css
CHAR_PX = FONT_PX * 0.62  # a generous average glyph width, so estimated text is never narrower than drawn
EDGE = 4  # room kept between any text and the edge of the viewBox


def text_width(text: str) -> float:
    """Estimated width of ``text`` at the charts' font size, in viewBox units."""
    return len(text) * CHAR_PX


def _fit(text: str, room: float) -> str:
    """``text`` cut with an ellipsis to fit ``room`` units (the full name stays in the title)."""
    if text_width(text) <= room:
        return text
    keep = max(int(room / CHAR_PX) - 1, 1)
    return text[:keep].rstrip() + "…"


@dataclass(frozen=True)
class Point:
    key: str
    name: str
    cost: Decimal  # USD per task
    quality: float  # pass rate 0..1


def frontier(points: list[Point]) -> list[Point]:
    """The models nobody beats on both cost and quality: walking from cheapest up, each one kept
    passes more cases than every cheaper model (ties on cost: the better pass rate)."""
    best_so_far = -1.0
    kept = []
    for point in sorted(points, key=lambda p: (p.cost, -p.quality, p.key)):
        if point.quality > best_so_far:
            kept.append(point)
            best_so_far = point.quality
    return kept


def _nice_max(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 × 10^n at or above value: a round end for an axis."""
    if value <= 0:
        return 1.0
    base = 10 ** math.floor(math.log10(value))
    return next(m * base for m in (1, 2, 2.5, 5, 10) if m * base >= value)


def cost_quality_chart(models: list[dict], width: int = WIDTH) -> dict | None:
    """From the report's model entries: axes, ticks, one dot per model and the frontier path, for a
    drawing ``width`` units wide (every label, tick and dot inside the viewBox). The cost axis is
    per 1,000 tasks."""
    points = [
        Point(key=m["key"], name=m["name"], cost=Decimal(m["cost_per_task_usd"]), quality=m["pass_rate"])
        for m in models
        if m.get("cost_per_task_usd") is not None and m.get("pass_rate") is not None
    ]
    if not points:
        return None
    phone = width < WIDTH
    height = PHONE_HEIGHT if phone else HEIGHT
    steps = 2 if phone else 4
    tick_step = _nice_max(float(max(p.cost for p in points)) * 1000 * 1.1 / steps)  # per 1,000 tasks
    steps = max(1, math.ceil(float(max(p.cost for p in points)) * 1000 * 1.1 / tick_step - 1e-9))
    max_cost = tick_step * steps
    tick_values = [tick_step * i for i in range(steps + 1)]
    tick_labels = [_usd_tick(v, tick_step) for v in tick_values]
    left = LEFT if not phone else 58
    right_margin = max(RIGHT, text_width(tick_labels[-1]) / 2 + EDGE)
    plot_w, plot_h = width - left - right_margin, height - TOP - BOTTOM

    def x(cost_per_1000: float) -> float:
        return round(left + cost_per_1000 / max_cost * plot_w, 1)

    def y(quality: float) -> float:
        return round(TOP + (1 - quality) * plot_h, 1)

    on_frontier = {p.key for p in frontier(points)}
    dots = [
        {"key": p.key, "name": p.name, "x": x(float(p.cost) * 1000), "y": y(p.quality),
         "frontier": p.key in on_frontier, "cost": p.cost, "quality_pct": round(p.quality * 100, 1)}
        for p in points
    ]
    _place_labels(dots, left=left, right=width - EDGE, top=EDGE, bottom=height - BOTTOM)
    path_points = sorted((d for d in dots if d["frontier"]), key=lambda d: d["x"])
    path = ""
    for i, dot in enumerate(path_points):
        # a step: the quality you get holds until the next cheapest better model
        path += f"M{dot['x']},{dot['y']}" if i == 0 else f" H{dot['x']} V{dot['y']}"
    return {
        "width": width, "height": height, "left": left, "top": TOP, "right": width - right_margin,
        "bottom": height - BOTTOM, "plot_w": plot_w, "plot_h": plot_h, "phone": phone,
        "x_ticks": [{"x": x(v), "label": label} for v, label in zip(tick_values, tick_labels)],
        "y_ticks": [{"y": y(q / 100), "label": f"{q}%"} for q in (0, 25, 50, 75, 100)],
        "x_title": "Cost per 1,000 tasks (USD) →",
        "dots": dots,
        "frontier_path": path,
        "frontier_names": [d["name"] for d in path_points],
    }


def _place_labels(dots: list[dict], *, left: float, right: float, top: float, bottom: float) -> None:
    """A name beside each dot, right or left of it, above or below it (never on the dot's own line,
    where the frontier runs): the nearest spot that fits whole and covers no dot and no label placed before,
    moving one line further out at a time, then the name cut shorter; a label moved off its dot
    gets a leader line back to it. Failing every spot, the name is cut to the roomier side."""
    step = FONT_PX + 2
    # (x0, x1, y0, y1) of what a label must not cover: every dot, then each label once placed
    taken: list[tuple[float, float, float, float]] = [(d["x"] - 8, d["x"] + 8, d["y"] - 8, d["y"] + 8) for d in dots]

    def spot(dot: dict, anchor: str, baseline: float, label: str) -> tuple[float, float, float, float]:
        label_x = dot["x"] + 10 if anchor == "start" else dot["x"] - 10
        width = text_width(label)
        x0, x1 = (label_x, label_x + width) if anchor == "start" else (label_x - width, label_x)
        return label_x, x0, x1, baseline

    def free(x0: float, x1: float, baseline: float) -> bool:
        y0, y1 = baseline - FONT_PX, baseline + 3
        return not any(a < x1 and x0 < b and c < y1 and y0 < d for a, b, c, d in taken)

    def inside(x0: float, x1: float, baseline: float) -> bool:
        return x0 >= left and x1 <= right and baseline - FONT_PX >= top and baseline <= bottom - 2

    for dot in sorted(dots, key=lambda d: (d["y"], d["x"])):
        above, below = dot["y"] - 10, dot["y"] + 6 + FONT_PX
        baselines = [(b, k) for k in range(int(bottom // step)) for b in (above - k * step, below + k * step)]
        choice = None
        names = list(dict.fromkeys([dot["name"], *(_fit(dot["name"], room) for room in (150, 100, 60))]))
        for name in names:  # the whole name anywhere near first, then shorter and shorter
            for baseline, away in baselines:
                for anchor in ("start", "end"):
                    label_x, x0, x1, base = spot(dot, anchor, baseline, name)
                    if inside(x0, x1, base) and free(x0, x1, base):
                        choice = (name, anchor, label_x, x0, x1, base, away)
                        break
                if choice:
                    break
            if choice:
                break
        if choice is None:
            room_right, room_left = right - (dot["x"] + 10), dot["x"] - 10 - left
            anchor = "start" if room_right >= room_left else "end"
            label = _fit(dot["name"], max(room_right, room_left))
            baseline = above if above - FONT_PX >= top else below
            label_x, x0, x1, baseline = spot(dot, anchor, baseline, label)
            choice = (label, anchor, label_x, x0, x1, min(baseline, bottom - 2), 0)
        label, anchor, label_x, x0, x1, baseline, away = choice
        taken.append((x0, x1, baseline - FONT_PX, baseline + 3))
        dot.update(label=label, label_x=round(label_x, 1), label_y=round(baseline, 1), anchor=anchor,
                   leader=None)
        if away:  # from the dot's edge towards the label's near end
            target_y = baseline - FONT_PX / 2
            dot["leader"] = {"x1": dot["x"], "y1": round(dot["y"] + (7 if target_y > dot["y"] else -7), 1),
                             "x2": round(label_x - (2 if anchor == "start" else -2), 1),
                             "y2": round(target_y, 1)}


def _usd_tick(value: float, step: float) -> str:
    """Enough decimals that neighbouring ticks differ, at least cents: $0.0005, $0.001; $0.025,
    $0.05, $0.075, $0.10; $2.50; $1,000."""
    if value == 0:
        return "$0"
    if step >= 10:
        return f"${value:,.0f}"
    decimals = max(2, -math.floor(math.log10(step)) + 1)
    text = f"{value:,.{decimals}f}"
    while decimals > 2 and text.endswith("0"):
        text, decimals = text[:-1], decimals - 1
    return "$" + text


def latency_chart(latencies: dict[str, list[int]], names: dict[str, str], width: int = WIDTH) -> dict | None:
    """One horizontal box per model, its name above it: min–max whisker, p25–p75 box, p50 and
    p95 marks (ms), drawn ``width`` units wide with every label inside the viewBox."""
    rows = [(key, sorted(values)) for key, values in latencies.items() if values]
    if not rows:
        return None
    max_ms = _nice_max(max(values[-1] for _, values in rows) * 1.05)
    steps = 2 if width < WIDTH else 4
    tick_values = [max_ms * i / steps for i in range(steps + 1)]
    tick_labels = [f"{round(v):,} ms" for v in tick_values]
    row_h = 54
    left = max(16, text_width(tick_labels[0]) / 2 + EDGE)
    right_margin = max(RIGHT, text_width(tick_labels[-1]) / 2 + EDGE)
    height = TOP + row_h * len(rows) + 36
    plot_w = width - left - right_margin

    def x(ms: float) -> float:
        return round(left + ms / max_ms * plot_w, 1)

    boxes = []
    for i, (key, values) in enumerate(rows):
        stats = {name: percentile(values, q) for name, q in (("p25", 25), ("p50", 50), ("p75", 75), ("p95", 95))}
        row_top = TOP + i * row_h
        mid = row_top + 34
        name = names.get(key, key)
        boxes.append({
            "name": name, "label": _fit(name, width - left - EDGE), "y": mid, "box_y": mid - 10,
            "label_y": row_top + 2, "min": values[0], "max": values[-1], "count": len(values),
            **{k: round(v) for k, v in stats.items()},
            "x_min": x(values[0]), "x_max": x(values[-1]), "x_p25": x(stats["p25"]), "x_p75": x(stats["p75"]),
            "x_p50": x(stats["p50"]), "x_p95": x(stats["p95"]),
            "box_w": round(x(stats["p75"]) - x(stats["p25"]), 1) or 1,
        })
    axis_y = TOP + row_h * len(rows) + 4
    return {
        "width": width, "height": height, "left": left, "axis_y": axis_y, "right": width - right_margin,
        "ticks": [{"x": x(v), "label": label} for v, label in zip(tick_values, tick_labels)],
        "boxes": boxes,
    }
