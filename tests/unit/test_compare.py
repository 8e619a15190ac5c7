"""The table diff: a pure function of two polars frames and the options."""

from __future__ import annotations

import datetime as dt
import decimal
import math
import pickle

import polars as pl
import pytest

from artifact_manager.errors import ArtifactConfigError, ArtifactError
from artifact_manager.regression import BaselineMismatchError, CompareOptions, compare_tables
from artifact_manager.regression.diff import MAX_LISTED, MAX_ROWS

NAN, INF = math.nan, math.inf


def diff_lines(expected, actual, **options) -> list[str]:
    return compare_tables(expected, actual, CompareOptions(**options)).lines()


def test_equal_frames_have_an_empty_diff():
    df = pl.DataFrame({"a": [1, 2], "b": ["x", None], "c": [0.5, NAN]})
    diff = compare_tables(df, df.clone())
    assert diff.equal
    assert diff.lines() == []


@pytest.mark.parametrize(
    ("expected", "actual", "equal"),
    [
        ([1.0, None], [1.0, None], True),
        ([NAN], [NAN], True),
        ([INF, -INF], [INF, -INF], True),
        ([INF], [-INF], False),
        ([INF], [1e308], False),
        ([NAN], [1.0], False),
        ([None], [NAN], False),
        ([1.0], [None], False),
        ([1.0], [1.0 + 1e-12], True),
        ([1.0], [1.0 + 1e-6], False),
        ([0.0], [1e-300], False),
    ],
    ids=[
        "nulls",
        "nan",
        "same-infinities",
        "opposite-infinities",
        "inf-vs-finite",
        "nan-vs-number",
        "null-vs-nan",
        "number-vs-null",
        "within-default-rtol",
        "beyond-default-rtol",
        "zero-needs-atol",
    ],
)
def test_float_values_match_by_tolerance_nan_null_and_infinity_rules(expected, actual, equal):
    diff = compare_tables(pl.DataFrame({"x": expected}), pl.DataFrame({"x": actual}))
    assert diff.equal is equal


def test_tolerances_per_column_and_integers_exact_unless_named():
    expected = pl.DataFrame({"x": [1.0, 2.0], "y": [1.0, 2.0], "n": [100, 200]})
    actual = pl.DataFrame({"x": [1.01, 2.0], "y": [1.01, 2.0], "n": [101, 200]})
    assert not compare_tables(expected, actual, CompareOptions(rtol=0.02)).equal  # n is exact
    assert compare_tables(expected, actual, CompareOptions(rtol=0.02, atol={"n": 1})).equal
    diff = compare_tables(expected, actual, CompareOptions(rtol={"x": 0.02}, atol={"n": 1}))
    assert [(c.name, c.off) for c in diff.columns if c.off] == [("y", 1)]


def test_the_message_gives_errors_per_numeric_column_and_the_first_differing_rows():
    expected = pl.DataFrame({"id": range(100), "score": [i / 4 for i in range(100)]})
    actual = expected.with_columns(
        score=pl.when(pl.col("id") % 5 == 0).then(pl.col("score") + 0.5).otherwise("score")
    )
    lines = diff_lines(expected, actual)
    assert lines[:3] == [
        "values: 20 of 100 compared rows differ, in 1 column(s):",
        "  column  dtype    off  max abs err  max rel err",
        "  score   Float64  20   0.5          inf",
    ]
    assert lines[3] == f"first differing rows ({MAX_ROWS} of 20):"
    assert lines[4:7] == [
        "  row  id | score",
        "          | expected   actual",
        "  0    0  | 0.0        0.5",
    ]
    assert len(lines) == 6 + MAX_ROWS


def test_schema_differences_come_first():
    expected = pl.DataFrame({"a": [1], "b": ["x"], "c": [0.5]})
    actual = pl.DataFrame({"b": ["x"], "a": pl.Series([1], dtype=pl.Int32), "d": [True]})
    assert diff_lines(expected, actual)[:5] == [
        "schema:",
        "  missing columns (in the baseline, not in actual): c (Float64)",
        "  extra columns (in actual, not in the baseline): d (Boolean)",
        "  dtype changed: a: Int64 -> Int32",
        "  column order: expected a, b; actual b, a",
    ]


def test_dtype_and_column_order_checks_can_be_turned_off():
    expected = pl.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    actual = pl.DataFrame({"b": ["x", "y"], "a": [1.0, 2.0]})
    assert not compare_tables(expected, actual).equal
    options = CompareOptions(check_dtypes=False, check_column_order=False)
    assert compare_tables(expected, actual, options).equal


def test_row_counts_and_the_rows_only_one_side_has():
    expected = pl.DataFrame({"a": [1, 2, 3, 4]})
    lines = diff_lines(expected, expected.head(2))
    assert lines == [
        "rows: expected 4, actual 2 (2 fewer)",
        "rows only in the baseline (2):",
        "  row  a",
        "  2    3",
        "  3    4",
    ]
    assert diff_lines(expected.head(1), expected)[0] == "rows: expected 1, actual 4 (3 more)"


def test_row_order_sort_by_and_the_hint_when_only_the_order_differs():
    expected = pl.DataFrame({"k": [1, 2, 3], "v": ["a", "b", "c"]})
    shuffled = expected[[2, 0, 1]]
    lines = diff_lines(expected, shuffled)
    assert lines[-1].startswith("the rows are the same in another order: pass check_row_order")
    assert compare_tables(expected, shuffled, CompareOptions(check_row_order=False)).equal
    assert compare_tables(expected, shuffled, CompareOptions(sort_by="k")).equal
    changed = shuffled.with_columns(v=pl.col("v").str.to_uppercase())
    lines = diff_lines(expected, changed, sort_by=["k"])
    assert lines[-1] == "(rows compared after sorting by k)"
    assert "  row  k | v" in lines


def test_categoricals_compare_by_label_and_nested_values_recursively():
    expected = pl.DataFrame(
        {
            "c": pl.Series(["x", "y", None], dtype=pl.Categorical),
            "l": [[1.0, NAN], [], None],
            "s": [{"p": 1, "q": NAN}, {"p": 2, "q": 0.5}, None],
        }
    )
    actual = pl.DataFrame(
        {
            "c": pl.Series(["y", "x", None], dtype=pl.Categorical).reverse().reverse(),
            "l": [[1.0, NAN], [], None],
            "s": [{"p": 1, "q": NAN}, {"p": 2, "q": 0.5}, None],
        }
    )
    diff = compare_tables(expected, actual)
    assert [(c.name, c.off) for c in diff.columns] == [("c", 2), ("l", 0), ("s", 0)]
    assert compare_tables(expected, expected.clone()).equal


def test_wide_and_long_tables_give_a_bounded_message():
    wide = pl.DataFrame({f"col{i}": range(1000) for i in range(200)})
    other = wide.with_columns(pl.all() + 1).rename({"col0": "renamed"})
    lines = diff_lines(wide, other)
    assert len(lines) < 60
    assert max(len(line) for line in lines) < 1000
    assert f"  ... and {199 - MAX_LISTED} more column(s)" in lines
    assert "first differing rows (10 of 1000; 6 of 199 differing columns shown):" in lines


def test_long_cell_values_are_cut():
    expected = pl.DataFrame({"s": ["x" * 500]})
    lines = diff_lines(expected, pl.DataFrame({"s": ["y" * 500]}))
    assert all(len(line) < 120 for line in lines)
    assert any("..." in line for line in lines)


@pytest.mark.parametrize(
    ("options", "field", "problem"),
    [
        ({"rtol": -1.0}, "rtol", "must be a finite number >= 0"),
        ({"atol": "1"}, "atol", "must be a finite number >= 0"),
        ({"atol": {"a": NAN}}, "atol", "must be a finite number >= 0"),
        ({"rtol": INF}, "rtol", "must be a finite number >= 0"),
        ({"rtol": {"nope": 1.0}}, "rtol", "names column(s) 'nope' not in the table"),
        ({"sort_by": ["a", "nope"]}, "sort_by", "names column(s) 'nope' not in the table"),
        ({"sort_by": []}, "sort_by", "names no column of the table"),
    ],
    ids=["negative", "string", "nan", "infinite", "unknown-column", "unknown-key", "empty-keys"],
)
def test_bad_options_raise_a_value_error_naming_them(options, field, problem):
    df = pl.DataFrame({"a": [1.0]})
    with pytest.raises(ArtifactConfigError) as caught:
        compare_tables(df, df, CompareOptions(**options))
    assert caught.value.field == field
    assert problem in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_tolerance_keys_may_name_a_column_only_the_baseline_has():
    expected = pl.DataFrame({"a": [1.0], "gone": [2.0]})
    diff = compare_tables(expected, pl.DataFrame({"a": [1.0]}), CompareOptions(rtol={"gone": 1}))
    assert diff.schema == ("missing columns (in the baseline, not in actual): gone (Float64)",)


def test_empty_frames():
    empty = pl.DataFrame(schema={"a": pl.Int64, "b": pl.String})
    assert compare_tables(empty, empty.clone()).equal
    lines = diff_lines(empty, pl.DataFrame({"a": [1], "b": ["x"]}))
    assert lines[0] == "rows: expected 0, actual 1 (1 more)"


def test_the_mismatch_error_is_an_assertion_error_and_survives_pickling():
    error = BaselineMismatchError("/b.parquet", "table differs", "update it")
    assert isinstance(error, AssertionError)
    assert isinstance(error, ArtifactError)
    assert str(error) == "table differs\nupdate it"
    assert repr(error) == (
        "BaselineMismatchError(path='/b.parquet', problem='table differs', remedy='update it')"
    )
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.path, copy.problem, copy.remedy) == (error.path, error.problem, error.remedy)


@pytest.mark.parametrize("side", ["actual", "baseline"])
def test_a_sort_key_only_one_table_has_is_reported_and_only_used_keys_are_named(side):
    with_key = pl.DataFrame({"k": [2, 1], "j": [1, 1], "v": [1, 3]})
    without = pl.DataFrame({"j": [1, 1], "v": [2, 1]})
    expected, actual = (without, with_key) if side == "actual" else (with_key, without)
    lines = diff_lines(expected, actual, sort_by=["k", "j"])
    where = "extra" if side == "actual" else "missing"
    assert lines[1].startswith(f"  {where} columns (")
    assert lines[1].endswith(": k (Int64)")
    assert lines[-1] == "(rows compared after sorting by j)"
    assert "  row  j | v" in lines
    assert not any(line.startswith("(rows") for line in diff_lines(expected, actual, sort_by="k"))


@pytest.mark.parametrize(
    ("expected", "actual"),
    [
        (pl.Series([10**9], dtype=pl.Int32), pl.Series([10**9 + 1], dtype=pl.Int64)),
        (pl.Series([2**60], dtype=pl.Int64), pl.Series([2**60 + 1000], dtype=pl.UInt64)),
        (pl.Series([2**60], dtype=pl.Int64), pl.Series([2**60 + 1], dtype=pl.UInt64)),
        (pl.Series([100], dtype=pl.UInt8), pl.Series([-100], dtype=pl.Int8)),
    ],
    ids=["int32-int64", "int64-uint64", "int64-uint64-by-one", "uint8-int8"],
)
def test_integers_of_other_dtypes_match_exactly_without_a_named_tolerance(expected, actual):
    options = CompareOptions(check_dtypes=False)
    diff = compare_tables(expected.to_frame("n"), actual.to_frame("n"), options)
    assert [(c.off, c.max_abs) for c in diff.columns] == [(1, abs(actual[0] - expected[0]))]
    same = compare_tables(expected.to_frame("n"), expected.cast(actual.dtype).to_frame("n"))
    assert not same.equal  # a dtype change, with check_dtypes=True
    assert compare_tables(
        expected.to_frame("n"), expected.cast(actual.dtype).to_frame("n"), options
    ).equal


def test_zero_tolerances_compare_integers_and_decimals_exactly_and_errors_are_exact():
    big = pl.DataFrame({"n": [2**62, 7]})
    off_by_one = pl.DataFrame({"n": [2**62 + 1, 7]})
    for options in ({}, {"rtol": {"n": 0.0}, "atol": {"n": 0.0}}):
        diff = compare_tables(big, off_by_one, CompareOptions(**options))
        assert [(c.off, c.max_abs) for c in diff.columns] == [(1, 1.0)]
    assert "  n       Int64  1    1            2.1684e-19" in diff_lines(big, off_by_one)
    assert not compare_tables(big, off_by_one, CompareOptions(rtol=0.0, atol={"n": 0.5})).equal
    assert compare_tables(big, off_by_one, CompareOptions(rtol=0.0, atol={"n": 1.0})).equal

    def money(text: str) -> pl.DataFrame:
        return pl.DataFrame({"x": pl.Series([decimal.Decimal(text)], dtype=pl.Decimal(38, 2))})

    options = CompareOptions(rtol={"x": 0.0}, atol={"x": 0.0})
    diff = compare_tables(
        money("12345678901234567890.01"), money("12345678901234567890.02"), options
    )
    assert [(c.off, c.max_abs) for c in diff.columns] == [(1, 0.01)]
    assert compare_tables(money("1.50"), money("1.50"), options).equal
    with_int = pl.DataFrame({"x": [12345678901234567890]}, schema={"x": pl.UInt64})
    relaxed = CompareOptions(check_dtypes=False)
    assert compare_tables(money("12345678901234567890.00"), with_int, relaxed).equal
    assert not compare_tables(money("12345678901234567890.01"), with_int, relaxed).equal


@pytest.mark.parametrize(
    "column",
    [
        pl.Series("t", [dt.timedelta(seconds=1)]),
        pl.Series("t", [dt.datetime(2020, 1, 1)]),
        pl.Series("t", [dt.date(2020, 1, 1)]),
        pl.Series("t", [dt.time(1, 2, 3)]),
    ],
    ids=["duration", "datetime", "date", "time"],
)
def test_a_tolerance_naming_a_temporal_column_is_an_error_naming_it(column):
    frame = column.to_frame()
    for options in ({"atol": {"t": 1000.0}}, {"rtol": {"t": 1e-3}}):
        with pytest.raises(ArtifactConfigError) as caught:
            compare_tables(frame, frame.clone(), CompareOptions(**options))
        assert f"names column 't' of dtype {column.dtype}" in str(caught.value)
        assert "compare it as a number" in str(caught.value)
    with pytest.raises(ArtifactConfigError, match="names column 't' of dtype"):
        CompareOptions(atol={"t": 1.0}).validate(frame.columns, frame.schema)


def test_other_dtypes_with_check_dtypes_off_match_by_value_and_get_no_order_hint():
    relaxed = CompareOptions(check_dtypes=False)
    flags = compare_tables(pl.DataFrame({"x": [True]}), pl.DataFrame({"x": [1]}), relaxed)
    assert not flags.equal
    assert not any("another order" in line for line in flags.lines())
    times = pl.DataFrame({"t": [dt.datetime(2020, 1, 1), dt.datetime(2020, 1, 1, 0, 0, 0, 5)]})
    assert compare_tables(times, times.cast({"t": pl.Datetime("ns")}), relaxed).equal
    shifted = times.cast({"t": pl.Datetime("ns")}).with_columns(
        pl.col("t") + pl.duration(nanoseconds=1)
    )
    assert [c.off for c in compare_tables(times, shifted, relaxed).columns] == [2]
    coarse = compare_tables(times.cast({"t": pl.Datetime("ms")}), times, relaxed)
    assert [c.off for c in coarse.columns] == [1]  # 5 us is no whole number of ms
    lengths = pl.DataFrame({"d": [dt.timedelta(seconds=1), None]})
    assert compare_tables(lengths.cast({"d": pl.Duration("ms")}), lengths, relaxed).equal


def test_a_value_beyond_what_the_relative_tolerance_can_hold_is_off():
    expected = pl.DataFrame({"x": [1e308, 1.0]})
    assert not compare_tables(
        expected, pl.DataFrame({"x": [INF, 1.0]}), CompareOptions(rtol=2.0)
    ).equal
    assert compare_tables(
        expected, pl.DataFrame({"x": [-1e308, 1.0]}), CompareOptions(rtol=2.0)
    ).equal
