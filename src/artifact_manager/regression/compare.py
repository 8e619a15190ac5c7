"""Compare two polars frames and say how they differ, in a message people can read.

:func:`compare_tables` is a pure function of the expected (baseline) frame, the actual frame
and :class:`CompareOptions`. It returns a :class:`TableDiff` whose :meth:`TableDiff.lines`
describe, in this order and bounded in size whatever the table's width or length:

1. schema: missing and extra columns, dtype changes, column order;
2. rows: the two row counts;
3. values: per differing column how many values are off, and for numeric columns the
   maximum absolute and relative error;
4. the first differing rows, expected beside actual;
5. rows that only one side has.

Values: float columns (and any column named in a per-column tolerance) match when
``|actual - expected| <= atol + rtol * |expected|`` (both finite), or when both are null, both
NaN, or equal infinities. Every other column matches exactly, nulls equal to nulls.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from artifact_manager.errors import ArtifactConfigError

if TYPE_CHECKING:
    import polars as pl

__all__ = ["ColumnDiff", "CompareOptions", "TableDiff", "compare_tables"]

#: Bounds of the message, so a wide or long table still gives a readable one.
MAX_ROWS = 10
MAX_DIFF_COLUMNS = 6
MAX_LISTED = 20
MAX_CELL = 32


@dataclass(frozen=True)
class CompareOptions:
    """How two tables are compared (the keywords of ``table_regression.check``)."""

    rtol: float | Mapping[str, float] = 1e-9
    atol: float | Mapping[str, float] = 0.0
    check_dtypes: bool = True
    check_column_order: bool = True
    check_row_order: bool = True
    sort_by: str | Sequence[str] | None = None

    @property
    def sort_columns(self) -> list[str]:
        if self.sort_by is None:
            return []
        return [self.sort_by] if isinstance(self.sort_by, str) else list(self.sort_by)

    def tolerance(self, column: str) -> tuple[float, float]:
        """(rtol, atol) for ``column``: its own entry in a dict, else the defaults."""
        rtol = self.rtol.get(column, 1e-9) if isinstance(self.rtol, Mapping) else self.rtol
        atol = self.atol.get(column, 0.0) if isinstance(self.atol, Mapping) else self.atol
        return float(rtol), float(atol)

    def named_tolerance(self, column: str) -> bool:
        """Whether a per-column dict names ``column`` (then even integers get a tolerance)."""
        return any(isinstance(t, Mapping) and column in t for t in (self.rtol, self.atol))

    def validate(self, columns: Sequence[str]) -> None:
        """Raise ``ArtifactConfigError`` (a ``ValueError``) for options that cannot apply to a
        table with ``columns``."""
        known = set(columns)
        for label, value in (("rtol", self.rtol), ("atol", self.atol)):
            values = value.values() if isinstance(value, Mapping) else [value]
            for tol in values:
                if not isinstance(tol, (int, float)) or isinstance(tol, bool) or not tol >= 0:
                    raise ArtifactConfigError(
                        label, value, "must be a number >= 0 (or a dict of them)", "pass e.g. 1e-6"
                    )
            if isinstance(value, Mapping):
                unknown = sorted(set(value) - known)
                if unknown:
                    raise ArtifactConfigError(
                        label,
                        dict(value),
                        f"names column(s) {', '.join(map(repr, unknown))} not in the table",
                        f"use the table's columns: {_names(columns)}",
                    )
        unknown_keys = [c for c in self.sort_columns if c not in known]
        if unknown_keys or (self.sort_by is not None and not self.sort_columns):
            raise ArtifactConfigError(
                "sort_by",
                self.sort_by,
                "names no column of the table"
                if not unknown_keys
                else f"names column(s) {', '.join(map(repr, unknown_keys))} not in the table",
                f"use the table's columns: {_names(columns)}",
            )


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


def compare_tables(
    expected: pl.DataFrame, actual: pl.DataFrame, options: CompareOptions | None = None
) -> TableDiff:
    """How ``actual`` differs from ``expected`` (see the module docs)."""
    options = options or CompareOptions()
    options.validate(expected.columns + [c for c in actual.columns if c not in expected.schema])
    fast = _same_schema(expected, actual, options) and not _needs_sort(options)
    if fast and expected.equals(actual, null_equal=True):  # the common case, decided fast
        return TableDiff(expected_rows=expected.height, actual_rows=actual.height)
    common = [c for c in expected.columns if c in set(actual.columns)]
    schema = _schema_lines(expected, actual, common, options)
    expected, actual = _ordered(expected, common, options), _ordered(actual, common, options)
    n = min(expected.height, actual.height)
    if not common:
        return TableDiff(schema=tuple(schema), expected_rows=expected.height,
                         actual_rows=actual.height, compared_rows=n)  # fmt: skip
    columns, row_mask = _column_diffs(expected.head(n), actual.head(n), common, options)
    sample = _sample(expected.head(n), actual.head(n), row_mask, columns, options)
    notes = _notes(options)
    order_only = not schema and row_mask is not None
    if order_only and _only_order_differs(expected, actual, options):
        notes.append(
            "the rows are the same in another order: pass check_row_order=False, or "
            "sort_by=[key columns], if the order does not matter"
        )
    return TableDiff(
        schema=tuple(schema),
        expected_rows=expected.height,
        actual_rows=actual.height,
        compared_rows=n,
        columns=tuple(columns),
        rows_off=int(row_mask.sum()) if row_mask is not None else 0,
        sample=tuple(sample),
        unmatched=tuple(_unmatched(expected, actual, n)),
        notes=tuple(notes),
    )


# -- schema and order ----------------------------------------------------------------------


def _same_schema(expected: pl.DataFrame, actual: pl.DataFrame, options: CompareOptions) -> bool:
    if options.check_column_order:
        return list(expected.schema.items()) == list(actual.schema.items())
    return dict(expected.schema) == dict(actual.schema)


def _needs_sort(options: CompareOptions) -> bool:
    return bool(options.sort_columns) or not options.check_row_order


def _schema_lines(
    expected: pl.DataFrame, actual: pl.DataFrame, common: list[str], options: CompareOptions
) -> list[str]:
    lines: list[str] = []
    exp_schema, act_schema = expected.schema, actual.schema
    missing = [c for c in expected.columns if c not in act_schema]
    extra = [c for c in actual.columns if c not in exp_schema]
    if missing:
        listed = _names([f"{c} ({exp_schema[c]})" for c in missing])
        lines.append(f"missing columns (in the baseline, not in actual): {listed}")
    if extra:
        listed = _names([f"{c} ({act_schema[c]})" for c in extra])
        lines.append(f"extra columns (in actual, not in the baseline): {listed}")
    if options.check_dtypes:
        changed = [f"{c}: {exp_schema[c]} -> {act_schema[c]}" for c in common
                   if exp_schema[c] != act_schema[c]]  # fmt: skip
        if changed:
            lines.append(f"dtype changed: {_names(changed)}")
    actual_order = [c for c in actual.columns if c in exp_schema]
    if options.check_column_order and actual_order != common:
        lines.append(f"column order: expected {_names(common)}; actual {_names(actual_order)}")
    return lines


def _sort_key(frame: pl.DataFrame, column: str) -> pl.Expr:
    import polars as pl

    if isinstance(frame.schema[column], (pl.Categorical, pl.Enum)):
        return pl.col(column).cast(pl.String)  # by label: category codes differ between files
    return pl.col(column)


def _ordered(frame: pl.DataFrame, common: list[str], options: CompareOptions) -> pl.DataFrame:
    """``frame`` with the common columns first (in the baseline's order), sorted as asked."""
    keys = [c for c in options.sort_columns if c in common]  # a missing key: see the schema
    if not options.check_row_order:
        keys = keys + [c for c in common if c not in keys]
    frame = frame.select(common + [c for c in frame.columns if c not in set(common)])
    if not keys:
        return frame
    try:
        return frame.sort([_sort_key(frame, c) for c in keys], maintain_order=True)
    except Exception:  # polars versions that cannot sort nested columns: sort by the rest
        flat = [c for c in keys if not frame.schema[c].is_nested()]
        if not flat:
            return frame
        return frame.sort([_sort_key(frame, c) for c in flat], maintain_order=True)


# -- values --------------------------------------------------------------------------------


def _uses_tolerance(e_dtype: pl.DataType, a_dtype: pl.DataType, named: bool) -> bool:
    if not (e_dtype.is_numeric() and a_dtype.is_numeric()):
        return False
    return named or e_dtype.is_float() or a_dtype.is_float() or e_dtype != a_dtype


def _column_diffs(
    expected: pl.DataFrame, actual: pl.DataFrame, common: list[str], options: CompareOptions
) -> tuple[list[ColumnDiff], pl.Series | None]:
    """Per column: off count and (numeric columns with values off) errors; and the mask of
    rows with any value off (None when no value is off)."""
    import polars as pl

    pairs = pl.concat(
        [
            expected.select(pl.col(c).alias(f"e{i}") for i, c in enumerate(common)),
            actual.select(pl.col(c).alias(f"a{i}") for i, c in enumerate(common)),
        ],
        how="horizontal",
    )
    masks: list[pl.Expr] = []
    one_by_one: list[int] = []
    for i, column in enumerate(common):
        e_dtype, a_dtype = expected.schema[column], actual.schema[column]
        e, a = pl.col(f"e{i}"), pl.col(f"a{i}")
        if _uses_tolerance(e_dtype, a_dtype, options.named_tolerance(column)):
            rtol, atol = options.tolerance(column)
            masks.append(_numeric_off(e, a, rtol, atol).alias(f"off{i}"))
        elif e_dtype == a_dtype and not e_dtype.is_nested() and not _categorical(e_dtype):
            masks.append((~e.eq_missing(a)).alias(f"off{i}"))
        else:
            one_by_one.append(i)  # categorical, nested or differing dtypes
    offs = pairs.select(masks) if masks else pl.DataFrame()
    for i in one_by_one:
        off = _fallback_off(pairs[f"e{i}"], pairs[f"a{i}"]).alias(f"off{i}")
        offs = offs.with_columns(off) if offs.width else off.to_frame()
    counts = offs.sum().row(0, named=True) if offs.height else {}
    numeric_off = [
        i
        for i, c in enumerate(common)
        if counts.get(f"off{i}") and expected.schema[c].is_numeric()
        and actual.schema[c].is_numeric()
    ]  # fmt: skip
    stats = [x for i in numeric_off for x in _errors(pl.col(f"e{i}"), pl.col(f"a{i}"), i)]
    err = pairs.select(stats).row(0, named=True) if stats else {}
    diffs = [
        ColumnDiff(
            name=column,
            dtype=str(actual.schema[column]),
            off=int(counts.get(f"off{i}") or 0),
            max_abs=_finite_or_none(err.get(f"abs{i}")),
            max_rel=_finite_or_none(err.get(f"rel{i}"), keep_inf=True),
        )
        for i, column in enumerate(common)
    ]
    if not any(d.off for d in diffs):
        return diffs, None
    return diffs, offs.select(pl.any_horizontal(pl.all())).to_series()


def _categorical(dtype: pl.DataType) -> bool:
    import polars as pl

    return isinstance(dtype, (pl.Categorical, pl.Enum))


def _numeric_off(e: pl.Expr, a: pl.Expr, rtol: float, atol: float) -> pl.Expr:
    import polars as pl

    e, a = e.cast(pl.Float64), a.cast(pl.Float64)
    finite = e.is_finite() & a.is_finite()
    close = (
        (finite & ((a - e).abs() <= atol + rtol * e.abs()))
        | (e.is_nan() & a.is_nan())
        | (~finite & (a == e))
    )
    both_null = e.is_null() & a.is_null()
    return ~(close.fill_null(False) | both_null)


def _errors(e: pl.Expr, a: pl.Expr, i: int) -> list[pl.Expr]:
    import polars as pl

    e, a = e.cast(pl.Float64), a.cast(pl.Float64)
    diff = (a - e).abs()
    finite = e.is_finite() & a.is_finite()
    rel = pl.when(diff == 0).then(0.0).otherwise(diff / e.abs())
    return [
        pl.when(finite).then(diff).max().alias(f"abs{i}"),
        pl.when(finite).then(rel).max().alias(f"rel{i}"),
    ]


def _fallback_off(e: pl.Series, a: pl.Series) -> pl.Series:
    """Off mask for categorical or nested columns, or columns whose dtypes differ: polars
    equality where it applies (categoricals by label), else (or for rows it calls different)
    a comparison of the Python values."""
    import polars as pl

    try:
        if e.dtype != a.dtype:
            e, a = e.cast(pl.String), a.cast(pl.String)
        try:
            off = ~e.eq_missing(a)  # categoricals: polars compares labels, or refuses
        except Exception:
            if not _categorical(e.dtype):
                raise
            off = ~e.cast(pl.String).eq_missing(a.cast(pl.String))
    except Exception:
        off = pl.Series([True] * e.len(), dtype=pl.Boolean)
    rows = off.arg_true().to_list()
    if rows and e.dtype.is_nested() and e.dtype == a.dtype:
        e_rows, a_rows = e.gather(rows).to_list(), a.gather(rows).to_list()
        same = [i for i, x, y in zip(rows, e_rows, a_rows, strict=True) if _same(x, y)]
        if same:
            off = off.scatter(same, False)
    return off


def _same(x: Any, y: Any) -> bool:
    """Python values equal, NaN equal to NaN, recursively."""
    if isinstance(x, float) and isinstance(y, float):
        return x == y or (math.isnan(x) and math.isnan(y))
    if isinstance(x, (list, tuple)) and isinstance(y, (list, tuple)):
        return len(x) == len(y) and all(_same(p, q) for p, q in zip(x, y, strict=True))
    if isinstance(x, dict) and isinstance(y, dict):
        return x.keys() == y.keys() and all(_same(x[k], y[k]) for k in x)
    return bool(x == y)


def _finite_or_none(value: object, keep_inf: bool = False) -> float | None:
    if not isinstance(value, (int, float)) or math.isnan(value):
        return None
    if math.isinf(value) and not keep_inf:
        return None
    return float(value)


# -- the message ---------------------------------------------------------------------------


def _names(names: Sequence[str]) -> str:
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


def _sample(
    expected: pl.DataFrame,
    actual: pl.DataFrame,
    row_mask: pl.Series | None,
    columns: list[ColumnDiff],
    options: CompareOptions,
) -> list[str]:
    """The first differing rows: key columns, then each differing column expected | actual."""
    if row_mask is None or not row_mask.any():
        return []
    positions = row_mask.arg_true()
    total = positions.len()
    rows: list[int] = positions.head(MAX_ROWS).to_list()
    off = [c.name for c in columns if c.off]
    shown = off[:MAX_DIFF_COLUMNS]
    keys = [k for k in options.sort_columns if k not in shown][:3]
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


def _unmatched(expected: pl.DataFrame, actual: pl.DataFrame, n: int) -> list[str]:
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


def _only_order_differs(
    expected: pl.DataFrame, actual: pl.DataFrame, options: CompareOptions
) -> bool:
    """Whether ``actual`` holds exactly the rows of ``expected`` in another order (by row
    hashes: cheap enough for a failure path; only a hint in the message)."""
    import polars as pl

    if not options.check_row_order or options.sort_columns or expected.height != actual.height:
        return False

    def hashes(frame: pl.DataFrame) -> pl.Series:
        labels = [
            pl.col(c).cast(pl.String)
            for c, dtype in frame.schema.items()
            if isinstance(dtype, (pl.Categorical, pl.Enum))
        ]
        return frame.with_columns(labels).hash_rows(seed=0).sort()

    try:
        return hashes(expected).equals(hashes(actual))
    except Exception:  # a dtype polars cannot hash: no hint
        return False


def _notes(options: CompareOptions) -> list[str]:
    if options.sort_columns:
        return [f"(rows compared after sorting by {_names(options.sort_columns)})"]
    if not options.check_row_order:
        return ["(rows compared after sorting by every common column)"]
    return []
