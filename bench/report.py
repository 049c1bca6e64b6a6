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
    result: str  # PASS, FAIL (either maybe followed by "(noisy)"), info or ERROR


def verdict(ok: bool, noisy: bool = False) -> str:
    """PASS or FAIL; "(noisy)" when the figure did not settle, so the verdict is not to be trusted."""
    return (PASS if ok else FAIL) + (" (noisy)" if noisy else "")


def render(rows: Sequence[Row]) -> str:
    header = Row("figure", "measured", "target", "result")
    widths = [max(len(getattr(r, name)) for r in (header, *rows)) for name in ("figure", "measured", "target")]

    def line(row: Row) -> str:
        result = f"{row.result}  <<<" if row.result.startswith((FAIL, ERROR)) else row.result
        cells = (row.figure.ljust(widths[0]), row.measured.ljust(widths[1]), row.target.ljust(widths[2]), result)
        return "  ".join(cells).rstrip()

    rule = "-" * (sum(widths) + 2 * 3 + len("result  <<<"))
    return "\n".join([line(header), rule, *(line(r) for r in rows), rule])


def summary(rows: Sequence[Row]) -> str:
    judged = [r for r in rows if r.result.startswith((PASS, FAIL, ERROR))]
    missed = [r for r in judged if r.result.startswith(FAIL)]
    broken = [r for r in judged if r.result.startswith(ERROR)]
    noisy = [r for r in judged if r.result.endswith("(noisy)")]
    caveat = f" ({len(noisy)} verdict(s) marked noisy: rerun on a quieter machine)" if noisy else ""
    if not missed and not broken:
        return f"All {len(judged)} targets met{caveat}."
    parts = []
    if missed:
        parts.append(f"{len(missed)} of {len(judged)} targets MISSED: " + "; ".join(r.figure for r in missed))
    if broken:
        parts.append(f"{len(broken)} figure(s) could not be measured: " + "; ".join(r.figure for r in broken))
    return "*** " + " *** ".join(parts) + " ***" + caveat
