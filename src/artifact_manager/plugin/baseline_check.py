"""The object the ``table_regression`` fixture gives a test (imported when a test asks for
it: :mod:`.baselines` registers the fixture and owns the session's baseline state).

Not named after the fixture: importing a submodule binds it on its package, and
``artifact_manager.plugin.table_regression`` is the fixture the entry point exports.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pytest

from artifact_manager.plugin.baselines import BASELINES_KEY, display

__all__ = ["TableRegression"]


class TableRegression:
    """Compares polars frames with this test's parquet baselines (``table_regression``)."""

    def __init__(self, request: pytest.FixtureRequest) -> None:
        node = request.node
        assert isinstance(node, pytest.Item)
        self._request = request
        self._nodeid = node.nodeid
        self._test_file = Path(node.path)
        from artifact_manager.naming import nodeid_to_test_name

        self._test_name = nodeid_to_test_name(node.nodeid)
        self._session = request.config.stash[BASELINES_KEY]
        self._base = Path(request.config.invocation_params.dir)
        self._seen: set[Path] = set()

    def baseline_path(self, name: str | None = None) -> Path:
        """Where this test's baseline (for the check called ``name``) lives."""
        from artifact_manager.regression import store

        return store.baseline_path(self._test_file, self._test_name, name)

    def check(
        self,
        df: Any,
        name: str | None = None,
        *,
        rtol: float | dict[str, float] = 1e-9,
        atol: float | dict[str, float] = 0.0,
        check_dtypes: bool = True,
        check_column_order: bool = True,
        check_row_order: bool = True,
        sort_by: str | list[str] | None = None,
    ) -> None:
        """Compare ``df`` (a polars DataFrame or LazyFrame) with its baseline.

        Fails with a readable diff when they differ, or when there is no baseline; with
        ``--update-baselines`` writes the baseline instead. ``rtol``/``atol`` apply to float
        columns (a dict gives them per column, and then to integer columns too); ``sort_by``
        sorts both tables by these columns first; ``check_row_order=False`` sorts by all.
        """
        __tracebackhide__ = True
        from artifact_manager.errors import ArtifactError
        from artifact_manager.regression import store
        from artifact_manager.regression.compare import (
            CompareOptions,
            _polars_errors,
            compare_tables,
        )
        from artifact_manager.storage.tables import as_dataframe

        frame = as_dataframe(df)
        if frame is None:
            raise TypeError(
                f"table_regression.check() takes a polars DataFrame or LazyFrame, not {df!r}"
            )
        options = CompareOptions(
            rtol=rtol,
            atol=atol,
            check_dtypes=check_dtypes,
            check_column_order=check_column_order,
            check_row_order=check_row_order,
            sort_by=sort_by,
        )
        path = self.baseline_path(name)
        if path in self._seen:
            raise ValueError(
                f"table_regression.check() already checked {self._shown(path)} in this test; "
                "give each check its own name=, e.g. check(df, 'scores')"
            )
        self._seen.add(path)
        self._session.checked.add(str(path))
        update = self._session.settings.update
        in_the_way = store.in_the_way(path)
        if in_the_way is not None:  # a dir at the path, a file as __baselines__, ...
            options.validate(frame.columns, frame.schema)
            if update != "none":
                return self._write(frame, path, "unreadable")  # raises, naming it
            raise store.BaselineMismatchError(
                str(path),
                f"baseline {self._shown(path)} cannot be read: {in_the_way}",
                "move that aside, then run with --update-baselines to write the baseline: "
                f"{self._command()}",
            )
        if not path.is_file():
            options.validate(frame.columns, frame.schema)  # else compare_tables validates
            if update != "none":
                return self._write(frame, path, "missing")
            actual = self._write_actual(frame, path)
            raise store.BaselineMismatchError(
                str(path),
                f"no baseline {self._shown(path)}\n{actual}",
                f"run with --update-baselines to create it: {self._command()}",
            )
        try:
            expected = store.read_baseline(path)
        except _polars_errors() as error:  # not parquet, truncated, a polars panic: say so
            options.validate(frame.columns, frame.schema)
            if update != "none":
                return self._write(frame, path, "unreadable")
            raise store.BaselineMismatchError(
                str(path),
                f"baseline {self._shown(path)} cannot be read: {error}",
                f"run with --update-baselines to rewrite it: {self._command()}",
            ) from None
        try:
            diff = compare_tables(expected, frame, options)
        except ArtifactError:
            raise  # bad options: an error whatever the mode
        except _polars_errors() as error:  # polars failed on this pair of tables
            if update != "none":
                return self._write(frame, path, "differed")
            actual = self._write_actual(frame, path)
            raise store.BaselineMismatchError(
                str(path),
                f"table could not be compared with its baseline {self._shown(path)} "
                f"({type(error).__name__}: {error})\n{actual}",
                f"if the change is intended, update the baseline: {self._command()}",
            ) from error
        if update == "all" or (update == "failed" and not diff.equal):
            return self._write(frame, path, "rewritten" if diff.equal else "differed")
        if diff.equal:
            return None
        actual = self._write_actual(frame, path)
        problem = "\n".join(
            [
                f"table differs from its baseline {self._shown(path)}",
                f"{actual}",
                *diff.lines(),
            ]
        )
        raise store.BaselineMismatchError(
            str(path),
            problem,
            f"if the change is intended, update the baseline: {self._command()}",
        )

    def _write(self, frame: Any, path: Path, why: str) -> None:
        from artifact_manager.regression import store

        store.write_baseline(frame, path)
        self._session.written[str(path)] = why

    def _write_actual(self, frame: Any, path: Path) -> str:
        """Write the actual table into the test's artifact dir; a line saying where."""
        name = f"{path.stem}.actual.parquet"
        try:
            manager = self._request.getfixturevalue("artifact_manager")
            written = manager.write_table(frame, name)
        except Exception as error:  # the diff matters more than this copy
            return f"(the actual table could not be written to the artifact dir: {error})"
        return f"actual table: {self._shown(written)} (kept with --keep-artifacts=failed)"

    def _shown(self, path: Path) -> str:
        return display(path, self._base)

    def _command(self) -> str:
        return f"pytest --update-baselines {shlex.quote(self._nodeid)}"
