"""sqlite3 SQL that writes a file of its own (``ATTACH``, ``VACUUM INTO``), refused before
sqlite opens the file.

A connection to a harmless database can write anywhere: ``ATTACH DATABASE '<path>' AS p``
opens (or creates) ``<path>`` for writing, and ``VACUUM INTO '<path>'`` writes a copy of the
database there. sqlite opens both files from C, with no audit event. But sqlite asks a
connection's authorizer (``Connection.set_authorizer``) about every ``ATTACH`` while it
prepares the statement, naming the file when it is a string literal; ``VACUUM INTO``
attaches its target the same way, with the name already evaluated (a bound parameter too).
:func:`authorize` checks that file as the audit hook checks ``sqlite3.connect`` (a ``file:``
URI decoded; ``mode=ro``, ``:memory:`` and temporary databases allowed) and denies a
protected one: the statement fails with ``sqlite3.DatabaseError`` (``not authorized``;
``authorization denied`` for ``VACUUM INTO``) before the file is opened, and the violation is
recorded, so the test fails even if it catches the error.

The authorizer is set by a wrapper of ``sqlite3.connect``, on every connection made once the
guard is installed (it allows everything while no test runs). Not from the
``sqlite3.connect/handle`` audit event: it hands over the connection before its
``__init__`` has finished, and ``set_authorizer`` raises ``ProgrammingError`` there (CPython
3.11+). The wrapper goes in at session start, or right after ``sqlite3`` is first imported;
``from sqlite3 import connect`` bindings made before then are rebound.

Left to layer 3 (detected, not prevented): an ``ATTACH`` whose file name is not a string
literal (``ATTACH ? AS p``: sqlite does not tell the authorizer), a connection whose own
``set_authorizer`` call replaced the guard's (sqlite keeps one authorizer per connection, and
``sqlite3.Connection`` is an immutable type, so its ``set_authorizer`` cannot be wrapped), a
connection made with a ``factory=`` of the user's (its ``__init__`` may set an authorizer
the guard must not replace), one made by constructing ``sqlite3.Connection`` directly, and
one opened before the session started.
"""

from __future__ import annotations

import functools
import sys
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from artifact_manager.errors import ProductionWriteError
from artifact_manager.guard import audit
from artifact_manager.guard.patching import PatchAfterImport, rebind_elsewhere

if TYPE_CHECKING:
    from types import ModuleType

__all__ = ["authorize", "install", "patch"]

# sqlite's own constants (sqlite3.SQLITE_ATTACH, SQLITE_OK, SQLITE_DENY): sqlite3 is not
# imported here, so a session that never imports it does not load it.
_ATTACH, _OK, _DENY = 24, 0, 1
_OPERATION = "attach a sqlite database for writing (ATTACH or VACUUM INTO)"
_MARK = "__artifact_manager_guarded__"
#: connect(database, timeout, detect_types, isolation_level, check_same_thread, factory, ...)
_FACTORY = 5


def authorize(
    action: int, target: str | None, _arg2: str | None, _db: str | None, _inner: str | None
) -> int:
    """The guard's authorizer: everything is allowed but, while a test runs, an ``ATTACH`` (or
    ``VACUUM INTO``) of a protected file. One comparison for every other action."""
    if action != _ATTACH or not target or (guard := audit.active_checker()) is None:
        return _OK
    path = audit.sqlite_file(target)
    if path is None:
        return _OK
    try:
        guard.check(path, _OPERATION)
    except ProductionWriteError:  # recorded; the test fails even if it catches sqlite's error
        return _DENY
    return _OK


def _guarded(original: Callable[..., Any], default_factory: object) -> Callable[..., Any]:
    @functools.wraps(original)
    def connect(*args: Any, **kwargs: Any) -> Any:
        if len(args) > 1:  # Python 3.13 deprecates these: its warning must name the caller
            connection = _warning_at_caller(original, args, kwargs)
        else:
            connection = original(*args, **kwargs)
        factory = args[_FACTORY] if len(args) > _FACTORY else kwargs.get("factory")
        if factory is None or factory is default_factory:
            connection.set_authorizer(authorize)
        return connection

    setattr(connect, _MARK, True)
    return connect


def _warning_at_caller(original: Callable[..., Any], args: Any, kwargs: Any) -> Any:
    """``original(*args, **kwargs)``, the warnings it gives re-issued at the wrapper's caller
    (sqlite3's C code names the frame that called it: the wrapper's, not the user's, and a
    filter by module would no longer match)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        connection = original(*args, **kwargs)
    for warning in caught:
        warnings.warn(warning.message, warning.category, stacklevel=3)
    return connection


def patch(module: ModuleType, late: bool = False) -> None:
    """Wrap ``module.connect`` (``module`` is ``sqlite3``; idempotent). ``late``: the module was
    imported before the guard, so earlier ``from sqlite3 import connect`` are rebound."""
    if module.__dict__.get(_MARK):
        return  # a module imported again (dropped from sys.modules) is a new object
    module.__dict__[_MARK] = True
    original = getattr(module, "connect", None)
    if original is None or getattr(original, _MARK, False):
        return
    guarded = _guarded(original, getattr(module, "Connection", None))
    module.connect = guarded  # type: ignore[attr-defined]
    dbapi2 = sys.modules.get(f"{module.__name__}.dbapi2")
    if dbapi2 is not None and getattr(dbapi2, "connect", None) is original:
        dbapi2.connect = guarded  # type: ignore[attr-defined]
    if late:
        rebind_elsewhere({id(original): (original, guarded)}, module)


_finder = PatchAfterImport({"sqlite3": patch})


def install() -> None:
    """Wrap ``sqlite3.connect`` now if sqlite3 is imported, else right after its first import
    (idempotent; the finder stays for a module imported again)."""
    module = sys.modules.get("sqlite3")
    if module is not None:
        patch(module, late=True)
    _finder.install()
