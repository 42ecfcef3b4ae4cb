"""The one output format of `make bench`: ``BENCH <name> <value> <unit> budget <op> <number> PASS|FAIL``."""

from __future__ import annotations

import operator
from dataclasses import dataclass

_OPS = {">=": operator.ge, "<=": operator.le}


@dataclass(frozen=True)
class Bench:
    name: str
    value: float
    unit: str
    op: str
    budget: float

    @property
    def passed(self) -> bool:
        return bool(_OPS[self.op](self.value, self.budget))

    def line(self) -> str:
        verdict = "PASS" if self.passed else "FAIL"
        return f"BENCH {self.name} {self.value:.3f} {self.unit} budget {self.op} {self.budget:g} {verdict}"


def info(name: str, value: float, unit: str) -> str:
    """An absolute number printed beside a ratio (no budget: machines differ)."""
    return f"INFO {name} {value:,.0f} {unit}"
