"""The table: one row per figure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

PASS, FAIL, INFO, ERROR = "PASS", "FAIL", "info", "ERROR"


@dataclass(frozen=True)
class Row:
    figure: str
    measured: str
    target: str
    result: str  # PASS, FAIL, info or ERROR


def verdict(ok: bool) -> str:
    return PASS if ok else FAIL


def render(rows: Sequence[Row]) -> str:
    header = Row("figure", "measured", "target", "result")
    widths = [max(len(getattr(r, name)) for r in (header, *rows)) for name in ("figure", "measured", "target")]

    def line(row: Row) -> str:
        result = row.result if row.result not in (FAIL, ERROR) else f"{row.result}  <<<"
        cells = (row.figure.ljust(widths[0]), row.measured.ljust(widths[1]), row.target.ljust(widths[2]), result)
        return "  ".join(cells).rstrip()

    rule = "-" * (sum(widths) + 2 * 3 + len("result  <<<"))
    return "\n".join([line(header), rule, *(line(r) for r in rows), rule])


def summary(rows: Sequence[Row]) -> str:
    judged = [r for r in rows if r.result in (PASS, FAIL, ERROR)]
    missed = [r for r in judged if r.result == FAIL]
    broken = [r for r in judged if r.result == ERROR]
    if not missed and not broken:
        return f"All {len(judged)} targets met."
    parts = []
    if missed:
        parts.append(f"{len(missed)} of {len(judged)} targets MISSED: " + "; ".join(r.figure for r in missed))
    if broken:
        parts.append(f"{len(broken)} figure(s) could not be measured: " + "; ".join(r.figure for r in broken))
    return "*** " + " *** ".join(parts) + " ***"
