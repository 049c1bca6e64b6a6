"""The table: one row per figure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

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


#: The figures section of docs/performance.md lies between these lines; `make bench` rewrites what is between them.
DOCS_BEGIN = "<!-- figures: written by make bench from one run; do not edit by hand -->"
DOCS_END = "<!-- end of figures -->"


def markdown(rows: Sequence[Row], facts: str, day: str, verdict_line: str) -> str:
    """The run as the docs show it: when, on what, every figure with its target and verdict."""
    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    lines = [f"## One run ({day}; {facts.removeprefix('machine: ')})", "", verdict_line, "",
             "| Figure | Measured | Target | Result |", "|---|---|---|---|"]
    lines += [f"| {cell(r.figure)} | {cell(r.measured)} | {cell(r.target)} | {cell(r.result)} |" for r in rows]
    return "\n".join(lines)


def write_docs(path: Path, section: str) -> bool:
    """Put ``section`` between the markers of ``path``; False (nothing written) when the markers are missing."""
    text = path.read_text(encoding="utf-8")
    start, end = text.find(DOCS_BEGIN), text.find(DOCS_END)
    if start < 0 or end < start:
        return False
    path.write_text(text[: start + len(DOCS_BEGIN)] + "\n" + section + "\n" + text[end:], encoding="utf-8")
    return True
