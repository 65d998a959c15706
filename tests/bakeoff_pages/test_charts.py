"""The report's chart geometry: the cheapest-at-each-quality frontier and axes that read well."""
from decimal import Decimal

import pytest

from bakeoff_jobs.charts import Point, cost_quality_chart, frontier, latency_chart


def point(key, cost, quality):
    return Point(key=key, name=key, cost=Decimal(cost), quality=quality)


def test_frontier_keeps_each_model_nobody_beats_on_both_cost_and_quality():
    models = [point("big", "1.0", 0.90), point("small", "0.5", 0.80), point("worse", "0.6", 0.70),
              point("top", "2.0", 0.95), point("cheap-bad", "0.5", 0.60)]
    assert [p.key for p in frontier(models)] == ["small", "big", "top"]


def test_a_dearer_model_that_is_no_better_is_off_the_frontier():
    assert [p.key for p in frontier([point("a", "0.1", 0.9), point("b", "0.2", 0.9)])] == ["a"]


def test_chart_marks_the_frontier_and_labels_tiny_costs_distinctly():
    chart = cost_quality_chart([
        {"key": "claude", "name": "Claude", "cost_per_task_usd": "0.000017", "pass_rate": 1.0},
        {"key": "llama", "name": "Llama", "cost_per_task_usd": "0.000001", "pass_rate": 0.5},
        {"key": "dud", "name": "Dud", "cost_per_task_usd": "0.000010", "pass_rate": 0.4},
    ])
    assert {d["key"]: d["frontier"] for d in chart["dots"]} == {"claude": True, "llama": True, "dud": False}
    labels = [t["label"] for t in chart["x_ticks"]]
    assert len(set(labels)) == len(labels) == 5
    assert chart["frontier_names"] == ["Llama", "Claude"]
    assert chart["frontier_path"].startswith("M")


def test_no_chart_without_any_priced_model():
    assert cost_quality_chart([{"key": "a", "name": "A", "cost_per_task_usd": None, "pass_rate": None}]) is None
    assert latency_chart({"a": []}, {"a": "A"}) is None


def test_latency_boxes_carry_the_percentiles():
    chart = latency_chart({"a": [100, 200, 300, 400, 500]}, {"a": "Model A"})
    [box] = chart["boxes"]
    assert (box["name"], box["min"], box["p50"], box["max"], box["count"]) == ("Model A", 100, 300, 500, 5)
    assert box["x_min"] < box["x_p25"] < box["x_p50"] < box["x_p75"] < box["x_p95"] <= box["x_max"]


def _text_boxes(chart):
    """(x0, x1, name) of every text the cost chart draws, from its anchor and estimated width."""
    from bakeoff_jobs.charts import text_width

    boxes = [(t["x"] - text_width(t["label"]) / 2, t["x"] + text_width(t["label"]) / 2, t["label"])
             for t in chart["x_ticks"]]
    for d in chart["dots"]:
        w = text_width(d["label"])
        x0 = d["label_x"] if d["anchor"] == "start" else d["label_x"] - w
        boxes.append((x0, x0 + w, d["label"]))
        boxes.append((d["x"] - 7, d["x"] + 7, "dot " + d["name"]))
    return boxes


MODELS = [
    {"key": "a", "name": "Claude Opus 4.5 (global profile)", "cost_per_task_usd": "0.024000", "pass_rate": 1.0},
    {"key": "b", "name": "Llama 3.1 8B Instruct", "cost_per_task_usd": "0.000008", "pass_rate": 0.0},
    {"key": "c", "name": "Claude Haiku 4.5", "cost_per_task_usd": "0.002000", "pass_rate": 1.0},
    {"key": "d", "name": "Mistral Large (24.07) with a long name", "cost_per_task_usd": "0.012000", "pass_rate": 0.5},
    {"key": "e", "name": "Llama 4 Maverick 17B Instruct", "cost_per_task_usd": "0.000003", "pass_rate": 0.917},
    {"key": "f", "name": "Llama 3.3 70B Instruct", "cost_per_task_usd": "0.000005", "pass_rate": 0.917},
    {"key": "g", "name": "Claude Sonnet 4.5", "cost_per_task_usd": "0.000050", "pass_rate": 1.0},
]


@pytest.mark.parametrize("width", [640, 360])
def test_every_label_tick_and_dot_stays_inside_the_cost_charts_viewbox(width):
    chart = cost_quality_chart(MODELS, width=width)
    for x0, x1, name in _text_boxes(chart):
        assert 0 <= x0 and x1 <= width, (name, x0, x1)
    for d in chart["dots"]:
        assert d["label_y"] - 12 >= 0 and d["label_y"] <= chart["height"]
    labels = {(d["label_x"], d["label_y"]) for d in chart["dots"]}
    assert len(labels) == len(chart["dots"])  # two dots at the same place do not share a label spot
    from bakeoff_jobs.charts import text_width

    for d in chart["dots"]:  # no name drawn over a dot
        w = text_width(d["label"])
        x0 = d["label_x"] if d["anchor"] == "start" else d["label_x"] - w
        for other in chart["dots"]:
            assert not (x0 < other["x"] + 7 and other["x"] - 7 < x0 + w
                        and d["label_y"] - 12 < other["y"] + 7 and other["y"] - 7 < d["label_y"] + 3), \
                (d["name"], other["name"])


@pytest.mark.parametrize("width", [640, 360])
def test_latency_axis_labels_fit_at_both_ends(width):
    from bakeoff_jobs.charts import text_width

    chart = latency_chart({"a": [120, 900, 1800], "b": [40, 60, 2950]},
                          {"a": "Claude Sonnet 4.5 through its us. inference profile", "b": "Llama"}, width=width)
    first, last = chart["ticks"][0], chart["ticks"][-1]
    assert first["x"] - text_width(first["label"]) / 2 >= 0
    assert last["x"] + text_width(last["label"]) / 2 <= width
    for box in chart["boxes"]:
        assert chart["left"] + text_width(box["label"]) <= width
        assert 0 <= box["x_min"] <= box["x_max"] <= width


def test_cost_ticks_are_round_steps_in_dollars_per_1000_tasks():
    chart = cost_quality_chart([{"key": "a", "name": "A", "cost_per_task_usd": "0.000220", "pass_rate": 1.0}])
    assert [t["label"] for t in chart["x_ticks"]] == ["$0", "$0.10", "$0.20", "$0.30"]
    chart = cost_quality_chart([{"key": "a", "name": "A", "cost_per_task_usd": "0.000017", "pass_rate": 1.0}])
    assert [t["label"] for t in chart["x_ticks"]] == ["$0", "$0.005", "$0.01", "$0.015", "$0.02"]
    chart = cost_quality_chart([{"key": "a", "name": "A", "cost_per_task_usd": "1.5", "pass_rate": 1.0}])
    assert [t["label"] for t in chart["x_ticks"]] == ["$0", "$500", "$1,000", "$1,500", "$2,000"]


def test_a_label_pushed_off_its_dot_by_a_crowd_gets_a_leader_line():
    from bakeoff_jobs.charts import text_width

    crowd = [{"key": str(i), "name": f"Model with a long name {i}", "cost_per_task_usd": "0.000010",
              "pass_rate": 0.9} for i in range(6)]  # six models on one spot
    chart = cost_quality_chart(crowd)
    boxes = []
    for d in chart["dots"]:
        w = text_width(d["label"])
        x0 = d["label_x"] if d["anchor"] == "start" else d["label_x"] - w
        boxes.append((x0, x0 + w, d["label_y"]))
    for i, (a0, a1, ay) in enumerate(boxes):
        for b0, b1, by in boxes[i + 1:]:
            assert not (a0 < b1 and b0 < a1 and abs(ay - by) < 14), "two labels drawn over each other"
    leaders = [d for d in chart["dots"] if d["leader"]]
    assert leaders and all(d["leader"]["x1"] == d["x"] for d in leaders)
