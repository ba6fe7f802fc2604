"""A stacked bar chart of conversations per month, laid out on the server as inline SVG.

No script and no style attributes (the CSP forbids both): positions are presentation attributes, colours are
classes from site.css. The table beside the chart carries the same numbers for screen readers.
"""

from dataclasses import dataclass

from staff.stats import MODES

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 40, 8, 12, 36


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
        labels.append({"x": round(x + bar_width / 2, 1), "y": HEIGHT - BOTTOM + 16, "text": f"{row.month:%m/%y}"})
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
