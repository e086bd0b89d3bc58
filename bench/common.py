"""What every benchmark reports: a figure, the floor measured in the same run, the ratio, the goal."""

from __future__ import annotations

import statistics
from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    name: str
    value: float  # the measured figure, in `unit`
    unit: str
    floor_name: str  # what the floor is: the least work that does the same job
    floor: float  # measured in the same run, same unit
    goal: str  # the target, in words, e.g. "p99 <= 2 ms" or "ratio <= 1.5"
    met: bool  # whether the goal was met in this run

    @property
    def ratio(self) -> float:
        return self.value / self.floor if self.floor else float("inf")

    def line(self) -> str:
        mark = "ok  " if self.met else "MISS"
        return (
            f"{mark} {self.name}: {self.value:.3f} {self.unit} | floor ({self.floor_name}) "
            f"{self.floor:.3f} {self.unit} | ratio {self.ratio:.2f}x | goal {self.goal}"
        )


def percentile(samples: list[float], p: float) -> float:
    """p in 0..100, nearest-rank on the sorted samples."""
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def median(samples: list[float]) -> float:
    return statistics.median(samples)
