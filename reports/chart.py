"""The timeliness chart of the annual report: a PNG people can read (matplotlib, Agg backend,
no screen needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

from matplotlib import pyplot as plt
from matplotlib.patches import Rectangle

from reports.figures import Timeliness

#: Colour-blind safe (Okabe-Ito blue and vermillion, told apart by lightness too), and never by
#: colour alone: the late share is striped and both shares are labelled in words.
IN_TIME = "#0b5394"
LATE = "#d55e00"
LATE_HATCH = "///"
NOTHING = "#9aa3ad"


def timeliness_chart(measures: list[Timeliness], title: str, target: Path) -> Path:
    """One bar per statutory timescale: the share done in time (solid blue) and late (orange,
    striped), each labelled in words when there is room, with the counts written beside it.
    Returns the file written."""
    labels = [m.measure for m in measures][::-1]
    rows = measures[::-1]
    fig, ax = plt.subplots(figsize=(10, 1.3 + 1.1 * len(rows)), dpi=120)
    try:
        for y, m in enumerate(rows):
            _bar(ax, y, m)
        ax.set_yticks(range(len(rows)), labels=[_wrap(label) for label in labels])
        ax.set_xlim(0, 112)
        ax.set_xticks(range(0, 101, 20), labels=[f"{v}%" for v in range(0, 101, 20)])
        ax.set_xlabel("Share done within the statutory timescale")
        ax.set_title(title, loc="left", fontsize=13, fontweight="bold")
        ax.spines[["top", "right"]].set_visible(False)
        ax.grid(axis="x", color="#dde1e6", linewidth=0.8)
        ax.set_axisbelow(True)
        handles = [
            Rectangle((0, 0), 1, 1, color=IN_TIME),
            Rectangle((0, 0), 1, 1, facecolor=LATE, hatch=LATE_HATCH, edgecolor="white"),
        ]
        ax.legend(
            handles,
            ["in time (solid)", "late (striped)"],
            loc="lower right",
            bbox_to_anchor=(1.0, 1.0),
            ncol=2,
            frameon=False,
        )
        fig.tight_layout()
        target.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(target, format="png")
    finally:
        plt.close(fig)
    return target


def _bar(ax: Any, y: int, m: Timeliness) -> None:
    """One timescale's bar: in time, late, each named when there is room, and the counts."""
    if not m.done:
        ax.barh(y, 100, color="white", edgecolor=NOTHING, hatch="..", height=0.6)
        ax.text(50, y, "none done in the year", va="center", ha="center", color="#444")
        return
    in_time = 100 * m.in_time / m.done
    ax.barh(y, in_time, color=IN_TIME, height=0.6)
    ax.barh(
        y,
        100 - in_time,
        left=in_time,
        color=LATE,
        hatch=LATE_HATCH,
        edgecolor="white",
        linewidth=0,
        height=0.6,
    )
    words = {"va": "center", "ha": "center", "fontweight": "bold"}
    if in_time >= 12:
        ax.text(in_time / 2, y, f"{m.percent:g}% in time", color="white", **words)
    if 100 - in_time >= 12:
        box = {"facecolor": "white", "edgecolor": "none", "pad": 1.5}
        ax.text(in_time + (100 - in_time) / 2, y, f"{m.late} late", bbox=box, **words)
    ax.text(101.5, y, f"{m.in_time} of {m.done}", va="center", ha="left", color="#222")


def _wrap(text: str, width: int = 28) -> str:
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    return "\n".join(lines)
