"""The errors this package raises.

Every error derives from :class:`ArtifactError` and from the builtin that fits it, so
``except ValueError`` or ``except PermissionError`` keep working in callers that know nothing
of this package. Fields are read-only properties, the message is built in ``__str__`` and
always names the offending value and what to do instead, and every error survives pickling
(pytest-xdist ships reports between processes).
"""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any, Generic, TypeVar, overload

_T = TypeVar("_T")


class _Field(Generic[_T]):
    """A read-only field of an error, stored as ``_<name>`` by its ``__init__``."""

    def __set_name__(self, owner: type, name: str) -> None:
        self._attr = "_" + name

    @overload
    def __get__(self, obj: None, owner: type) -> _Field[_T]: ...
    @overload
    def __get__(self, obj: object, owner: type) -> _T: ...
    def __get__(self, obj: object | None, owner: type) -> _T | _Field[_T]:
        if obj is None:
            return self
        value: _T = getattr(obj, self._attr)
        return value

    def __set__(self, obj: object, value: _T) -> None:
        raise AttributeError(f"{self._attr[1:]} is read-only")


class ArtifactError(Exception):
    """Root of every error raised by ``artifact_manager``."""

    _fields: tuple[str, ...] = ()

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, "_" + name) for name in self._fields)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), self._values())

    def __repr__(self) -> str:
        inner = ", ".join(f"{n}={v!r}" for n, v in zip(self._fields, self._values(), strict=True))
        return f"{type(self).__name__}({inner})"


class ArtifactConfigError(ArtifactError, ValueError):
    """A configuration field has a value that cannot be used."""

    _fields = ("field", "value", "problem", "remedy")
    field: _Field[str] = _Field()
    value: _Field[object] = _Field()
    problem: _Field[str] = _Field()
    remedy: _Field[str] = _Field()

    def __init__(self, field: str, value: object, problem: str, remedy: str) -> None:
        super().__init__(field, value, problem, remedy)
        self._field = field
        self._value = value
        self._problem = problem
        self._remedy = remedy

    def __str__(self) -> str:
        return f"invalid {self._field}={self._value!r}: {self._problem}; {self._remedy}"


class ArtifactPathError(ArtifactError, ValueError):
    """An artifact name, model version or path leads outside the dir it must stay in."""

    _fields = ("value", "problem", "remedy")
    value: _Field[object] = _Field()
    problem: _Field[str] = _Field()
    remedy: _Field[str] = _Field()

    def __init__(self, value: object, problem: str, remedy: str) -> None:
        super().__init__(value, problem, remedy)
        self._value = value
        self._problem = problem
        self._remedy = remedy

    def __str__(self) -> str:
        return f"{self._value!r}: {self._problem}; {self._remedy}"


class ArtifactExistsError(ArtifactError, FileExistsError):
    """A production artifact exists and the write did not ask to replace it."""

    _fields = ("path", "remedy")
    path: _Field[Path] = _Field()
    remedy: _Field[str] = _Field()

    def __init__(self, path: str | Path, remedy: str) -> None:
        OSError.__init__(self, errno.EEXIST, "production artifact exists", str(path))
        self._path = Path(path)
        self._remedy = remedy

    def __str__(self) -> str:
        return (
            f"production artifact {str(self._path)!r} exists and was left untouched; {self._remedy}"
        )


class ProductionWriteError(ArtifactError, PermissionError):
    """A test (or its fixtures) tried to change a protected production path."""

    _fields = ("test", "path", "operation", "remedy")
    test: _Field[str] = _Field()
    path: _Field[Path] = _Field()
    operation: _Field[str] = _Field()
    remedy: _Field[str] = _Field()

    def __init__(self, test: str, path: str | Path, operation: str, remedy: str) -> None:
        OSError.__init__(self, errno.EACCES, "production write blocked", str(path))
        self._test = test
        self._path = Path(path)
        self._operation = operation
        self._remedy = remedy

    def __str__(self) -> str:
        return (
            f"{self._test} tried to {self._operation} protected production path "
            f"{str(self._path)!r}; {self._remedy}"
        )


class ArtifactManifestError(ArtifactError, ValueError):
    """A manifest cannot be read (corrupt, or written by an unknown version)."""

    _fields = ("path", "problem")
    path: _Field[Path] = _Field()
    problem: _Field[str] = _Field()

    def __init__(self, path: str | Path, problem: str) -> None:
        super().__init__(str(path), problem)
        self._path = Path(path)
        self._problem = problem

    def __str__(self) -> str:
        return (
            f"manifest {str(self._path)!r} {self._problem}; move it aside and rebuild it with "
            "record_artifact() for each artifact (the artifacts themselves are untouched)"
        )


class ArtifactLockTimeout(ArtifactError, TimeoutError):
    """A lock that guards a dir or a shared build was not released in time."""

    _fields = ("lock_path", "timeout", "holder")
    lock_path: _Field[Path] = _Field()
    timeout: _Field[float] = _Field()
    holder: _Field[str] = _Field()

    def __init__(self, lock_path: str | Path, timeout: float, holder: str) -> None:
        super().__init__(str(lock_path), timeout, holder)
        self._lock_path = Path(lock_path)
        self._timeout = timeout
        self._holder = holder

    def __str__(self) -> str:
        return (
            f"lock {str(self._lock_path)!r} still held by {self._holder} after "
            f"{self._timeout:g}s; wait for that process to finish or stop it, then retry"
        )


class ArtifactUsageError(ArtifactError, ValueError):
    """A call got an argument it cannot use, or came when it cannot be served."""

    _fields = ("call", "value", "problem", "remedy")
    call: _Field[str] = _Field()
    value: _Field[object] = _Field()
    problem: _Field[str] = _Field()
    remedy: _Field[str] = _Field()

    def __init__(self, call: str, value: object, problem: str, remedy: str) -> None:
        super().__init__(call, value, problem, remedy)
        self._call = call
        self._value = value
        self._problem = problem
        self._remedy = remedy

    def __str__(self) -> str:
        return f"{self._call}: {self._value!r} {self._problem}; {self._remedy}"


class ArtifactBuildError(ArtifactError, RuntimeError):
    """A shared build's builder returned without producing the artifact (a file)."""

    _fields = ("name", "builder", "remedy", "problem")
    name: _Field[str] = _Field()
    builder: _Field[str] = _Field()
    remedy: _Field[str] = _Field()
    problem: _Field[str] = _Field()

    def __init__(
        self, name: str, builder: str, remedy: str, problem: str = "produced nothing"
    ) -> None:
        super().__init__(name, builder, remedy, problem)
        self._name = name
        self._builder = builder
        self._remedy = remedy
        self._problem = problem

    def __str__(self) -> str:
        return f"builder {self._builder} of {self._name!r} {self._problem}; {self._remedy}"
