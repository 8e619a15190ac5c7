"""Compare two polars frames and say how they differ, in a message people can read.

:func:`compare_tables` is a pure function of the expected (baseline) frame, the actual frame
and :class:`CompareOptions`. It returns a :class:`TableDiff` whose lines describe, bounded in
size whatever the table's width or length:

schema, row counts, values, the first differing rows, rows only one side has (see
:mod:`artifact_manager.regression.diff`).

Values: float columns (and any column named in a per-column tolerance) match when
``|actual - expected| <= atol + rtol * |expected|`` (both finite), or when both are null, both
NaN, or equal infinities. Every other column matches exactly, nulls equal to nulls: integers
and decimals by value, whatever their dtypes (``check_dtypes=False``), and also when a
tolerance dict gives them 0 and 0. The difference of two integers or decimals is computed
exactly, then rounded to a float for the tolerance and the error columns.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from artifact_manager.errors import ArtifactConfigError
from artifact_manager.regression.diff import (
    ColumnDiff,
    TableDiff,
    listed,
    sample_lines,
    unmatched_lines,
)

if TYPE_CHECKING:
    import polars as pl

__all__ = ["CompareOptions", "compare_tables"]


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

    def validate(
        self, columns: Sequence[str], dtypes: Mapping[str, pl.DataType] | None = None
    ) -> None:
        """Raise ``ArtifactConfigError`` (a ``ValueError``) for options that cannot apply to a
        table with ``columns`` (of ``dtypes``, where given)."""
        known = set(columns)
        dtypes = dtypes or {}
        for label, value in (("rtol", self.rtol), ("atol", self.atol)):
            values = value.values() if isinstance(value, Mapping) else [value]
            for tol in values:
                if (
                    not isinstance(tol, (int, float))
                    or isinstance(tol, bool)
                    or not 0 <= tol < math.inf
                ):
                    raise ArtifactConfigError(
                        label,
                        value,
                        "must be a finite number >= 0 (or a dict of them)",
                        "pass e.g. 1e-6",
                    )
            if isinstance(value, Mapping):
                unknown = sorted(set(value) - known)
                if unknown:
                    raise ArtifactConfigError(
                        label,
                        dict(value),
                        f"names column(s) {', '.join(map(repr, unknown))} not in the table",
                        f"use the table's columns: {listed(columns)}",
                    )
                temporal = [c for c in value if c in dtypes and dtypes[c].is_temporal()]
                if temporal:
                    column = temporal[0]
                    raise ArtifactConfigError(
                        label,
                        dict(value),
                        f"names column {column!r} of dtype {dtypes[column]} (tolerances apply "
                        "to numbers only)",
                        f"compare it as a number, e.g. pl.col({column!r}).dt.epoch('us') for "
                        "a datetime, .dt.total_microseconds() for a duration, with the "
                        "tolerance in that unit; or leave it out of the dict to compare it "
                        "exactly",
                    )
        unknown_keys = [c for c in self.sort_columns if c not in known]
        if unknown_keys or (self.sort_by is not None and not self.sort_columns):
            raise ArtifactConfigError(
                "sort_by",
                self.sort_by,
                "names no column of the table"
                if not unknown_keys
                else f"names column(s) {', '.join(map(repr, unknown_keys))} not in the table",
                f"use the table's columns: {listed(columns)}",
            )


def compare_tables(
    expected: pl.DataFrame, actual: pl.DataFrame, options: CompareOptions | None = None
) -> TableDiff:
    """How ``actual`` differs from ``expected`` (see the module docs)."""
    options = options or CompareOptions()
    options.validate(
        expected.columns + [c for c in actual.columns if c not in expected.schema],
        {**expected.schema, **actual.schema},
    )
    fast = _same_schema(expected, actual, options) and not _needs_sort(options)
    if fast and _identical(expected, actual):  # the common case, decided fast
        return TableDiff(expected_rows=expected.height, actual_rows=actual.height)
    common = [c for c in expected.columns if c in set(actual.columns)]
    schema = _schema_lines(expected, actual, common, options)
    expected, actual = _ordered(expected, common, options), _ordered(actual, common, options)
    n = min(expected.height, actual.height)
    if not common:
        return TableDiff(schema=tuple(schema), expected_rows=expected.height,
                         actual_rows=actual.height, compared_rows=n)  # fmt: skip
    columns, row_mask = _column_diffs(expected.head(n), actual.head(n), common, options)
    keys = _used_keys(common, options)
    context = keys or common[:1]  # shown beside the row number
    sample = sample_lines(expected.head(n), actual.head(n), row_mask, columns, context)
    notes = _notes(keys, options)
    if (
        not schema
        and row_mask is not None
        and _only_order_differs(expected, actual, row_mask, options)
    ):
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
        unmatched=tuple(unmatched_lines(expected, actual, n)),
        notes=tuple(notes),
    )


# -- schema and order ----------------------------------------------------------------------


def _identical(expected: pl.DataFrame, actual: pl.DataFrame) -> bool:
    """Same values, column by column (measured cheaper than ``DataFrame.equals``)."""
    if expected.height != actual.height:
        return False
    return all(_identical_columns(expected[c], actual[c]) for c in expected.columns)


def _identical_columns(e: pl.Series, a: pl.Series) -> bool:
    return e.equals(a, null_equal=True) or _same_local_categoricals(e, a)


def _same_local_categoricals(e: pl.Series, a: pl.Series) -> bool:
    """Categoricals from different sources (polars 1.x: a local mapping each, which
    ``equals`` calls different) with the same labels in the same code order: same codes."""
    import polars as pl

    if not isinstance(e.dtype, pl.Categorical) or not isinstance(a.dtype, pl.Categorical):
        return False
    e_cat: Any = e.cat  # is_local and get_categories: polars 1.x only
    a_cat: Any = a.cat
    if not hasattr(e_cat, "is_local"):  # one shared mapping (polars 2): equals decided
        return False
    try:
        if not (e_cat.is_local() and a_cat.is_local()):
            return False
        if not e_cat.get_categories().equals(a_cat.get_categories()):
            return False
    except _polars_errors():
        return False
    return e.to_physical().equals(a.to_physical(), null_equal=True)


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
        names = listed([f"{c} ({exp_schema[c]})" for c in missing])
        lines.append(f"missing columns (in the baseline, not in actual): {names}")
    if extra:
        names = listed([f"{c} ({act_schema[c]})" for c in extra])
        lines.append(f"extra columns (in actual, not in the baseline): {names}")
    if options.check_dtypes:
        changed = [f"{c}: {exp_schema[c]} -> {act_schema[c]}" for c in common
                   if exp_schema[c] != act_schema[c]]  # fmt: skip
        if changed:
            lines.append(f"dtype changed: {listed(changed)}")
    actual_order = [c for c in actual.columns if c in exp_schema]
    if options.check_column_order and actual_order != common:
        lines.append(f"column order: expected {listed(common)}; actual {listed(actual_order)}")
    return lines


def _polars_errors() -> tuple[type[BaseException], ...]:
    """What polars raises for an operation a dtype does not support: an exception, or (for
    some dtypes in older releases) a Rust panic, which is not an ``Exception``."""
    import polars as pl

    return (Exception, pl.exceptions.PanicException)


def _sort_keys(frame: pl.DataFrame, column: str) -> list[pl.Expr]:
    import polars as pl

    dtype = frame.schema[column]
    if _categorical(dtype):
        return [pl.col(column).cast(pl.String)]  # by label: category codes differ by file
    if dtype.is_nested():
        # Equal values hash alike, which is all that pairing rows up needs (polars 1.0
        # cannot sort by lists or structs, and hashes an empty list like a null).
        return [pl.col(column).is_null(), pl.col(column).hash(seed=0)]
    return [pl.col(column)]


_INTERNAL = "__artifact_manager_sort_"


def _used_keys(common: list[str], options: CompareOptions) -> list[str]:
    """The ``sort_by`` keys both tables have: a key one side lacks is in the schema lines,
    and neither side is sorted by it."""
    return [c for c in options.sort_columns if c in common]


def _ordered(frame: pl.DataFrame, common: list[str], options: CompareOptions) -> pl.DataFrame:
    """``frame`` with the common columns first (in the baseline's order), sorted as asked."""
    import polars as pl

    keys = _used_keys(common, options)
    if not options.check_row_order:
        keys = keys + [c for c in common if c not in keys]
    frame = frame.select(common + [c for c in frame.columns if c not in set(common)])
    keys = [c for c in keys if frame.schema[c] != pl.Null]  # all null: nothing to sort by
    if not keys:
        return frame
    try:
        return frame.sort([k for c in keys for k in _sort_keys(frame, c)], maintain_order=True)
    except _polars_errors():
        pass
    # This polars cannot hash some nested column (1.0: lists of strings): its values' text
    # orders it instead, computed in Python, so only on this path.
    texts = {
        c: pl.Series(f"{_INTERNAL}{i}", [repr(v) for v in frame[c].to_list()])
        for i, c in enumerate(keys)
        if frame.schema[c].is_nested()
    }
    by: list[pl.Expr] = []
    for column in keys:
        by.extend([pl.col(texts[column].name)] if column in texts else _sort_keys(frame, column))
    helpers = frame.with_columns(list(texts.values()))
    return helpers.sort(by, maintain_order=True).drop([t.name for t in texts.values()])


# -- values --------------------------------------------------------------------------------


def _exact_numbers(e_dtype: pl.DataType, a_dtype: pl.DataType) -> bool:
    """Integers or decimals on both sides: compared by value, the difference exact."""
    return all(d.is_integer() or d.is_decimal() for d in (e_dtype, a_dtype))


def _uses_tolerance(e_dtype: pl.DataType, a_dtype: pl.DataType) -> bool:
    """Numbers with a float on one side at least: compared as floats, by tolerance."""
    if not (e_dtype.is_numeric() and a_dtype.is_numeric()):
        return False
    return e_dtype.is_float() or a_dtype.is_float()


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
    masks: dict[int, pl.Expr] = {}
    quick: list[pl.Expr] = []
    exact: dict[int, tuple[float, float]] = {}
    one_by_one: list[int] = []
    for i, column in enumerate(common):
        e_dtype, a_dtype = expected.schema[column], actual.schema[column]
        e, a = pl.col(f"e{i}"), pl.col(f"a{i}")
        if e_dtype == a_dtype and _identical_columns(pairs[f"e{i}"], pairs[f"a{i}"]):
            continue  # cheap, and the common case: nothing off here
        if _exact_numbers(e_dtype, a_dtype):
            named = options.named_tolerance(column)
            exact[i] = options.tolerance(column) if named else (0.0, 0.0)
        elif _uses_tolerance(e_dtype, a_dtype):
            rtol, atol = options.tolerance(column)
            masks[i] = _numeric_off(e, a, rtol, atol).alias(f"off{i}")
            quick.append(_surely_close(e, a, rtol, atol).not_().sum().alias(f"q{i}"))
        elif e_dtype == a_dtype and not e_dtype.is_nested() and not _categorical(e_dtype):
            masks[i] = (~e.eq_missing(a)).alias(f"off{i}")
        else:
            one_by_one.append(i)  # categorical, nested or differing dtypes
    # A passing check is the common case: identical columns are skipped above, and a cheap
    # first look clears float columns whose values are all finite and close; only the
    # others get the full null/NaN/infinity rules.
    cleared = pairs.select(quick).row(0, named=True) if quick else {}
    kept = [m for i, m in masks.items() if cleared.get(f"q{i}", 1)]
    offs = pairs.select(kept) if kept else pl.DataFrame()
    err: dict[str, Any] = {}
    for i, (rtol, atol) in exact.items():
        off, errors = _exact_off(pairs[f"e{i}"], pairs[f"a{i}"], rtol, atol)
        offs = offs.with_columns(off.alias(f"off{i}")) if offs.width else off.to_frame(f"off{i}")
        err[f"abs{i}"], err[f"rel{i}"] = errors
    for i in one_by_one:
        off = _fallback_off(pairs[f"e{i}"], pairs[f"a{i}"]).alias(f"off{i}")
        offs = offs.with_columns(off) if offs.width else off.to_frame()
    counts = offs.sum().row(0, named=True) if offs.height else {}
    numeric_off = [
        i
        for i, c in enumerate(common)
        if counts.get(f"off{i}") and i not in exact and expected.schema[c].is_numeric()
        and actual.schema[c].is_numeric()
    ]  # fmt: skip
    stats = [x for i in numeric_off for x in _errors(pl.col(f"e{i}"), pl.col(f"a{i}"), i)]
    err.update(pairs.select(stats).row(0, named=True) if stats else {})
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


def _surely_close(e: pl.Expr, a: pl.Expr, rtol: float, atol: float) -> pl.Expr:
    """True where both values are finite and within tolerance (False or null elsewhere)."""
    import polars as pl

    e, a = e.cast(pl.Float64), a.cast(pl.Float64)
    # Both finite: a finite value is never within an infinite ``rtol * |expected|``.
    close = (a - e).abs() <= atol + rtol * e.abs()
    return (close & e.is_finite() & a.is_finite()).fill_null(False)


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


def _exact_off(
    e: pl.Series, a: pl.Series, rtol: float, atol: float
) -> tuple[pl.Series, tuple[float | None, float | None]]:
    """Off mask of two integer or decimal columns, and their largest absolute and relative
    error (None when not known exactly enough).

    Both sides become decimals of one scale, so values compare exactly whatever the dtypes
    (Int32 against Int64, Int64 against UInt64, Decimal against Int64) and ``actual -
    expected`` is exact; only then is it rounded to a float, for the tolerance and the
    errors. Values no decimal holds (128-bit integers past 38 digits) compare as they are,
    or (dtypes differing) as text; without a tolerance, still exactly.
    """
    import polars as pl

    scale = max(d.scale or 0 if isinstance(d, pl.Decimal) else 0 for d in (e.dtype, a.dtype))
    try:
        common = pl.Decimal(38, scale)
        e_value, a_value = e.cast(common), a.cast(common)  # strict: raises when one won't fit
        diff = (a_value - e_value).abs().cast(pl.Float64)
    except _polars_errors():
        if rtol or atol:  # as floats
            frame = pl.DataFrame([e.alias("e"), a.alias("a")])
            off = frame.select(_numeric_off(pl.col("e"), pl.col("a"), rtol, atol)).to_series()
        else:
            off = ~e.eq_missing(a) if e.dtype == a.dtype else _fallback_off(e, a)
        return off, (None, None)
    if rtol or atol:
        limit = atol + rtol * e_value.cast(pl.Float64).abs()
        off = ~((diff <= limit).fill_null(False) | (e.is_null() & a.is_null()))
    else:
        off = ~e_value.eq_missing(a_value)
    if not off.any():
        return off, (None, None)
    frame = pl.DataFrame([diff.alias("diff"), e_value.cast(pl.Float64).abs().alias("e")])
    rel = pl.when(pl.col("diff") == 0).then(0.0).otherwise(pl.col("diff") / pl.col("e"))
    row = frame.select(pl.col("diff").max().alias("abs"), rel.max().alias("rel")).row(0)
    return off, (row[0], row[1])


_NANOSECONDS = {"ns": 1, "us": 1_000, "ms": 1_000_000}


def _time_off(e: pl.Series, a: pl.Series) -> pl.Series | None:
    """Off mask of two datetime or two duration columns whose dtypes differ (time unit, time
    zone): by instant, or by length; None for other dtype pairs."""
    import polars as pl

    kinds = (pl.Datetime, pl.Duration)
    if not any(isinstance(e.dtype, k) and isinstance(a.dtype, k) for k in kinds):
        return None
    e_unit = _NANOSECONDS.get(getattr(e.dtype, "time_unit", None) or "us")
    a_unit = _NANOSECONDS.get(getattr(a.dtype, "time_unit", None) or "us")
    if e_unit is None or a_unit is None:
        return None
    # The finer side in the coarser unit, by integer division (no overflow); a value that
    # is no whole number of that unit matches nothing. The physical values of datetimes are
    # instants (UTC) whatever the time zone.
    coarse, fine = (e, a) if e_unit >= a_unit else (a, e)
    factor = max(e_unit, a_unit) // min(e_unit, a_unit)
    c, f = coarse.to_physical(), fine.to_physical()
    whole = (f % factor == 0).fill_null(True)
    off: pl.Series = ~(c.eq_missing(f // factor) & whole)
    return off


def _fallback_off(e: pl.Series, a: pl.Series) -> pl.Series:
    """Off mask for categorical or nested columns, or columns whose dtypes differ: polars
    equality where it applies (categoricals by label; datetimes and durations by value
    across time units), else (or for rows it calls different) a comparison of the Python
    values."""
    import polars as pl

    try:
        if e.dtype != a.dtype:
            by_time = _time_off(e, a)
            if by_time is not None:
                return by_time
            e, a = e.cast(pl.String), a.cast(pl.String)
        try:
            off = ~e.eq_missing(a)  # categoricals: polars compares labels, or refuses
        except _polars_errors():
            if not _categorical(e.dtype):
                raise
            off = ~e.cast(pl.String).eq_missing(a.cast(pl.String))
    except _polars_errors():
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


def _only_order_differs(
    expected: pl.DataFrame, actual: pl.DataFrame, row_mask: pl.Series, options: CompareOptions
) -> bool:
    """Whether ``actual`` holds the rows of ``expected`` in another order: whether the rows
    that differ in place are the same rows on both sides, by row hashes (a hint only)."""
    import polars as pl

    if not options.check_row_order or options.sort_columns or expected.height != actual.height:
        return False
    if dict(expected.schema) != dict(actual.schema):
        return False  # check_dtypes=False: rows equal as text may hash alike (true and 1)
    expected, actual = expected.filter(row_mask), actual.filter(row_mask)

    def hashes(frame: pl.DataFrame) -> pl.Series:
        labels = [
            pl.col(c).cast(pl.String)
            for c, dtype in frame.schema.items()
            if isinstance(dtype, (pl.Categorical, pl.Enum))
        ]
        hashed: pl.Series = frame.with_columns(labels).hash_rows(seed=0)
        ordered: pl.Series = hashed.sort()
        return ordered

    try:
        return hashes(expected).equals(hashes(actual))
    except _polars_errors():  # a dtype polars cannot hash: no hint
        return False


def _notes(keys: list[str], options: CompareOptions) -> list[str]:
    if keys:
        return [f"(rows compared after sorting by {listed(keys)})"]
    if not options.check_row_order:
        return ["(rows compared after sorting by every common column)"]
    return []
