"""A stacked bar chart of conversations per month, laid out on the server as inline SVG.

No script and no style attributes (the CSP forbids both): positions are presentation attributes, colours are
classes from staff.css. The table beside the chart carries the same numbers for screen readers.
"""

from dataclasses import dataclass

from staff.stats import MODES

# User units; staff.css sets the text size in the same units, so labels stay legible when a phone shrinks the chart.
WIDTH, HEIGHT = 560, 250
LEFT, RIGHT, TOP, BOTTOM = 40, 8, 16, 50


@dataclass
class Rect:
    x: float
    y: float
    width: float
    height: float
    mode: str
    label: str


def nice_ceiling(value):
    """The smallest of 5, 10, 25, 50, 100, 250, … that is at least value, for the top of the axis."""
    step = 5
    while step < value:
        for factor in (2, 2.5, 2):
            step = int(step * factor)
            if step >= value:
                break
    return step


def bar_chart(rows):
    """rows: Counts with a month, oldest first. Returns what the SVG template draws."""
    top = nice_ceiling(max((row.total for row in rows), default=0))
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_width / max(len(rows), 1)
    bar_width = round(slot * 0.7, 1)
    bars, labels = [], []
    for index, row in enumerate(rows):
        x = round(LEFT + index * slot + (slot - bar_width) / 2, 1)
        base = TOP + plot_height
        for mode in MODES:
            value = getattr(row, mode.value)
            if not value:
                continue
            height = round(value / top * plot_height, 1)
            base = round(base - height, 1)
            bars.append(Rect(x, base, bar_width, height, mode.value, f"{row.label}, {mode.label}: {value}"))
        # The month's number under each bar, and the year under the first month and under each January.
        centre = round(x + bar_width / 2, 1)
        labels.append({"x": centre, "y": HEIGHT - BOTTOM + 20, "text": f"{row.month:%m}"})
        if index == 0 or row.month.month == 1:
            labels.append({"x": centre, "y": HEIGHT - BOTTOM + 40, "text": f"{row.month:%Y}"})
    ticks = [
        {"y": round(TOP + plot_height - value / top * plot_height, 1), "value": value} for value in (0, top // 2, top)
    ]
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "bars": bars,
        "labels": labels,
        "ticks": ticks,
        "tick_x": LEFT - 4,
    }
