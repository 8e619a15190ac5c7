"""The result of comparing two tables, and its text: bounded whatever the table's size.

:class:`TableDiff` holds what differs; :meth:`TableDiff.lines` says it, in this order:
schema, row counts, per-column value differences (with the largest absolute and relative
error of numeric columns), the first differing rows expected beside actual, the rows only
one side has, and notes. At most :data:`MAX_ROWS` rows, :data:`MAX_DIFF_COLUMNS` columns side
by side, :data:`MAX_LISTED` names or columns per list, cells cut at :data:`MAX_CELL`
characters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

__all__ = [
    "MAX_CELL",
    "MAX_DIFF_COLUMNS",
    "MAX_LISTED",
    "MAX_ROWS",
    "ColumnDiff",
    "TableDiff",
    "listed",
    "sample_lines",
    "unmatched_lines",
]

#: Bounds of the message, so a wide or long table still gives a readable one.
MAX_ROWS = 10
MAX_DIFF_COLUMNS = 6
MAX_LISTED = 20
MAX_CELL = 32


@dataclass(frozen=True)
class ColumnDiff:
    """One column's differences: how many values are off; errors for numeric columns."""

    name: str
    dtype: str
    off: int
    max_abs: float | None = None
    max_rel: float | None = None


@dataclass(frozen=True)
class TableDiff:
    """The differences between an expected and an actual table (empty when they match)."""

    schema: tuple[str, ...] = ()
    expected_rows: int = 0
    actual_rows: int = 0
    compared_rows: int = 0
    columns: tuple[ColumnDiff, ...] = ()
    rows_off: int = 0
    sample: tuple[str, ...] = ()
    unmatched: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def equal(self) -> bool:
        return (
            not self.schema
            and self.expected_rows == self.actual_rows
            and not any(c.off for c in self.columns)
        )

    def lines(self) -> list[str]:
        """The readable diff, bounded in size."""
        lines: list[str] = []
        if self.schema:
            lines.append("schema:")
            lines.extend(f"  {line}" for line in self.schema)
        if self.expected_rows != self.actual_rows:
            delta = self.actual_rows - self.expected_rows
            more = f"{abs(delta)} {'more' if delta > 0 else 'fewer'}"
            lines.append(f"rows: expected {self.expected_rows}, actual {self.actual_rows} ({more})")
        off = [c for c in self.columns if c.off]
        if off:
            lines.append(
                f"values: {self.rows_off} of {self.compared_rows} compared rows differ, "
                f"in {len(off)} column(s):"
            )
            lines.extend(_column_table(off))
        lines.extend(self.sample)
        lines.extend(self.unmatched)
        lines.extend(self.notes)
        return lines


def listed(names: Sequence[str]) -> str:
    shown = ", ".join(names[:MAX_LISTED])
    return shown + (f", ... ({len(names) - MAX_LISTED} more)" if len(names) > MAX_LISTED else "")


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"


def _column_table(off: list[ColumnDiff]) -> list[str]:
    rows = [["column", "dtype", "off", "max abs err", "max rel err"]]
    rows += [[c.name, c.dtype, str(c.off), _number(c.max_abs), _number(c.max_rel)]
             for c in off[:MAX_LISTED]]  # fmt: skip
    lines = [f"  {line}" for line in _aligned(rows)]
    if len(off) > MAX_LISTED:
        lines.append(f"  ... and {len(off) - MAX_LISTED} more column(s)")
    return lines


def _aligned(rows: list[list[str]], separators: Mapping[int, str] | None = None) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    separators = separators or {}
    out = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            cells.append(separators.get(i, "  ") if i else "")
            cells.append(cell.ljust(widths[i]))
        out.append("".join(cells).rstrip())
    return out


def _cell(value: object) -> str:
    if value is None:
        text = "null"
    elif isinstance(value, bool):
        text = str(value).lower()
    elif isinstance(value, (float, str)):
        text = repr(value)
    else:
        text = str(value)
    text = text.replace("\n", "\\n")
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 3] + "..."


def sample_lines(
    expected: pl.DataFrame,
    actual: pl.DataFrame,
    row_mask: pl.Series | None,
    columns: Sequence[ColumnDiff],
    keys: Sequence[str],
) -> list[str]:
    """The first differing rows: key columns, then each differing column expected | actual."""
    if row_mask is None or not row_mask.any():
        return []
    positions = row_mask.arg_true()
    total = positions.len()
    rows: list[int] = positions.head(MAX_ROWS).to_list()
    off = [c.name for c in columns if c.off]
    shown = off[:MAX_DIFF_COLUMNS]
    keys = [k for k in keys if k not in shown][:3]
    exp_rows = expected.select(keys + shown)[rows].to_dicts()
    act_rows = actual.select(shown)[rows].to_dicts()
    header, subheader = ["row", *keys], ["", *("" for _ in keys)]
    for name in shown:
        header += [name, ""]
        subheader += ["expected", "actual"]
    table = [header, subheader]
    for index, exp, act in zip(rows, exp_rows, act_rows, strict=True):
        line = [str(index), *(_cell(exp[k]) for k in keys)]
        for name in shown:
            line += [_cell(exp[name]), _cell(act[name])]
        table.append(line)
    first = 1 + len(keys)
    separators = {first + 2 * j: " | " for j in range(len(shown))}
    separators.update({first + 2 * j + 1: "   " for j in range(len(shown))})
    what = "first differing rows" if total > len(rows) else "differing rows"
    title = f"{what} ({len(rows)} of {total}"
    if len(off) > len(shown):
        title += f"; {len(shown)} of {len(off)} differing columns shown"
    lines = [title + "):"]
    lines.extend(f"  {line}" for line in _aligned(table, separators))
    return lines


def unmatched_lines(expected: pl.DataFrame, actual: pl.DataFrame, n: int) -> list[str]:
    """Rows only one side has (beyond the first ``n`` compared ones), the first few shown."""
    if expected.height == actual.height:
        return []
    side, frame = ("the baseline", expected) if expected.height > n else ("actual", actual)
    extra = frame.slice(n)
    cols = frame.columns[: MAX_DIFF_COLUMNS + 2]
    rows = extra.head(MAX_ROWS // 2).select(cols).to_dicts()
    table = [["row", *cols]]
    table += [[str(n + i), *(_cell(r[c]) for c in cols)] for i, r in enumerate(rows)]
    more = f"; first {len(rows)} shown" if extra.height > len(rows) else ""
    lines = [f"rows only in {side} ({extra.height}{more}):"]
    lines.extend(f"  {line}" for line in _aligned(table))
    return lines
