"""Geometry for the report's server-rendered SVG charts: cost versus quality with the
cheapest-at-each-quality frontier, and latency distribution per model. Plain numbers in, plain
dicts out; the templates draw them (with a data table beside each chart)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from .stats import percentile

WIDTH, HEIGHT = 640, 360
LEFT, RIGHT, TOP, BOTTOM = 64, 24, 20, 52


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


def cost_quality_chart(models: list[dict]) -> dict | None:
    """From the report's model entries: axes, ticks, one dot per model and the frontier path."""
    points = [
        Point(key=m["key"], name=m["name"], cost=Decimal(m["cost_per_task_usd"]), quality=m["pass_rate"])
        for m in models
        if m.get("cost_per_task_usd") is not None and m.get("pass_rate") is not None
    ]
    if not points:
        return None
    max_cost = _nice_max(float(max(p.cost for p in points)) * 1.1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(cost: Decimal) -> float:
        return round(LEFT + float(cost) / max_cost * plot_w, 1)

    def y(quality: float) -> float:
        return round(TOP + (1 - quality) * plot_h, 1)

    on_frontier = {p.key for p in frontier(points)}
    dots = [
        {"key": p.key, "name": p.name, "x": x(p.cost), "y": y(p.quality), "frontier": p.key in on_frontier,
         "cost": p.cost, "quality_pct": round(p.quality * 100, 1),
         "label_x": x(p.cost) + 8, "label_y": y(p.quality) - 8, "anchor": "start"}
        for p in points
    ]
    for dot in dots:  # keep labels inside the plot on the right edge
        if dot["x"] > LEFT + plot_w * 0.7:
            dot["label_x"], dot["anchor"] = dot["x"] - 8, "end"
    path_points = sorted((d for d in dots if d["frontier"]), key=lambda d: d["x"])
    path = ""
    for i, dot in enumerate(path_points):
        # a step: the quality you get holds until the next cheapest better model
        path += f"M{dot['x']},{dot['y']}" if i == 0 else f" H{dot['x']} V{dot['y']}"
    return {
        "width": WIDTH, "height": HEIGHT, "left": LEFT, "top": TOP, "right": WIDTH - RIGHT,
        "bottom": HEIGHT - BOTTOM, "plot_w": plot_w, "plot_h": plot_h,
        "x_ticks": [{"x": x(Decimal(str(max_cost * i / 4))), "label": _usd_tick(max_cost * i / 4, max_cost / 4)}
                    for i in range(5)],
        "y_ticks": [{"y": y(q / 100), "label": f"{q}%"} for q in (0, 25, 50, 75, 100)],
        "dots": dots,
        "frontier_path": path,
        "frontier_names": [d["name"] for d in path_points],
    }


def _usd_tick(value: float, step: float) -> str:
    """Enough decimals that neighbouring ticks differ ($0.000005, $0.00001, …)."""
    if value == 0:
        return "$0"
    decimals = max(2, -math.floor(math.log10(step)) + 1)
    return "$" + f"{value:.{decimals}f}".rstrip("0").rstrip(".") if decimals > 2 else f"${value:.2f}"


def latency_chart(latencies: dict[str, list[int]], names: dict[str, str]) -> dict | None:
    """One horizontal box per model: min–max whisker, p25–p75 box, p50 and p95 marks (ms)."""
    rows = [(key, sorted(values)) for key, values in latencies.items() if values]
    if not rows:
        return None
    max_ms = _nice_max(max(values[-1] for _, values in rows) * 1.05)
    row_h, label_w = 44, 190
    width, height = WIDTH, TOP + row_h * len(rows) + 40
    plot_w = width - label_w - RIGHT

    def x(ms: float) -> float:
        return round(label_w + ms / max_ms * plot_w, 1)

    boxes = []
    for i, (key, values) in enumerate(rows):
        stats = {name: percentile(values, q) for name, q in (("p25", 25), ("p50", 50), ("p75", 75), ("p95", 95))}
        mid = TOP + i * row_h + row_h / 2
        boxes.append({
            "name": names.get(key, key), "y": mid, "box_y": mid - 10, "label_y": mid + 5,
            "min": values[0], "max": values[-1], "count": len(values),
            **{k: round(v) for k, v in stats.items()},
            "x_min": x(values[0]), "x_max": x(values[-1]), "x_p25": x(stats["p25"]), "x_p75": x(stats["p75"]),
            "x_p50": x(stats["p50"]), "x_p95": x(stats["p95"]),
            "box_w": round(x(stats["p75"]) - x(stats["p25"]), 1) or 1,
        })
    axis_y = TOP + row_h * len(rows) + 4
    return {
        "width": width, "height": height, "label_w": label_w, "axis_y": axis_y, "right": width - RIGHT,
        "ticks": [{"x": x(max_ms * i / 4), "label": f"{round(max_ms * i / 4):,} ms"} for i in range(5)],
        "boxes": boxes,
    }
