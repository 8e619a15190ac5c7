from __future__ import annotations

import errno
import pickle
from pathlib import Path

import pytest

from artifact_manager import (
    ArtifactBuildError,
    ArtifactConfigError,
    ArtifactError,
    ArtifactExistsError,
    ArtifactLockTimeout,
    ArtifactPathError,
    ArtifactUsageError,
    ProductionWriteError,
)

ERRORS = [
    pytest.param(
        ArtifactConfigError("source", "a/b", "contains a path separator", "use a plain name"),
        ValueError,
        ["source", "'a/b'", "use a plain name"],
        id="config",
    ),
    pytest.param(
        ArtifactPathError("../x.tsv", "escapes with '..'", "pass a relative name"),
        ValueError,
        ["'../x.tsv'", "pass a relative name"],
        id="path",
    ),
    pytest.param(
        ArtifactExistsError(Path("data/x.tsv"), "pass force=True to replace it"),
        FileExistsError,
        ["'data/x.tsv'", "force=True"],
        id="exists",
    ),
    pytest.param(
        ProductionWriteError("t.py::test_a", Path("/p/x.tsv"), "open for writing", "use tmp"),
        PermissionError,
        ["t.py::test_a", "'/p/x.tsv'", "open for writing", "use tmp"],
        id="production-write",
    ),
    pytest.param(
        ArtifactLockTimeout(Path("/l/.lock"), 2.5, "pid 42"),
        TimeoutError,
        ["'/l/.lock'", "pid 42", "2.5s"],
        id="lock-timeout",
    ),
    pytest.param(
        ArtifactUsageError("cleanup_old_tests(keep_recent=...)", -1, "is not a count", "pass 0+"),
        ValueError,
        ["keep_recent", "-1", "pass 0+"],
        id="usage",
    ),
    pytest.param(
        ArtifactBuildError("genome.parquet", "<function build>", "write the path it is given"),
        RuntimeError,
        ["'genome.parquet'", "<function build>", "write the path"],
        id="build",
    ),
]


@pytest.mark.parametrize(("error", "builtin", "fragments"), ERRORS)
def test_error_is_an_artifact_error_and_its_builtin(error, builtin, fragments):
    assert isinstance(error, ArtifactError)
    assert isinstance(error, builtin)


@pytest.mark.parametrize(("error", "builtin", "fragments"), ERRORS)
def test_message_names_the_value_and_the_remedy(error, builtin, fragments):
    for fragment in fragments:
        assert fragment in str(error)


@pytest.mark.parametrize(("error", "builtin", "fragments"), ERRORS)
def test_error_survives_a_pickle_round_trip(error, builtin, fragments):
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert repr(copy) == repr(error)


@pytest.mark.parametrize(("error", "builtin", "fragments"), ERRORS)
def test_repr_names_the_class_and_fields(error, builtin, fragments):
    assert repr(error).startswith(type(error).__name__ + "(")


def test_os_errors_carry_errno_and_filename():
    write = ProductionWriteError("t", "/p/x", "delete", "r")
    exists = ArtifactExistsError("/p/x", "r")
    assert (write.errno, write.filename) == (errno.EACCES, "/p/x")
    assert (exists.errno, exists.filename) == (errno.EEXIST, "/p/x")


def test_fields_are_read_only():
    error = ProductionWriteError("t", "/p/x", "delete", "r")
    assert (error.test, error.path, error.operation, error.remedy) == (
        "t",
        Path("/p/x"),
        "delete",
        "r",
    )
    with pytest.raises(AttributeError):
        error.path = Path("/elsewhere")  # type: ignore[misc]


def test_production_write_error_is_caught_by_except_oserror():
    with pytest.raises(OSError, match="protected production path"):
        raise ProductionWriteError("t", "/p/x", "delete", "r")
