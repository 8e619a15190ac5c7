"""Layer 2: native writers, checked before they write.

Libraries that write from C, C++ or Rust (polars, pyarrow, h5py, PyTables, duckdb) raise no
audit event, so layer 1 cannot see them. Their Python-level entry points are wrapped instead:
while the guard is armed, a wrapper asks the armed :class:`~artifact_manager.guard.audit.Checker`
(the same ``Checker.check`` the audit hook uses, so :mod:`~artifact_manager.guard.policy` decides)
about every path the call is about to write, and only then calls the original.

One mechanism, one table per library (:mod:`artifact_manager.guard.libraries`): a
:class:`Library` names the modules to patch and, per module, :class:`Wrap` rows of (attribute
path, the paths a call writes to). Patching is lazy: when the guard is installed, modules
already imported are patched at once, and a meta-path finder patches the others right after
they are first imported (``pyarrow.parquet`` is imported separately from ``pyarrow``, so each
submodule is a key of its own). Nothing is imported here, and a module that is never imported
costs nothing but a dict lookup per import. This module itself is imported only once a
wrapped package is (:mod:`.lazy_writers`). With the guard off, nothing is installed at all.

Module functions that other modules bound (``from x import f [as g]``) before the guard was
installed are rebound too (a one-off scan of ``sys.modules`` when a module is patched late).
Extension types that refuse new attributes (``pyarrow.OSFile``, ``pyarrow.csv.CSVWriter``,
``pyarrow.fs.LocalFileSystem``) get a transparent subclass in their place in the module (see
:func:`_stand_in`): what the user constructs through the module is checked; instances the
library makes in C are not, and layer 3 detects what they write.
"""

from __future__ import annotations

import functools
import importlib.abc
import os
import sys
from collections.abc import Callable, Iterable
from types import ModuleType
from typing import Any, NamedTuple
from urllib.parse import unquote, urlsplit

from artifact_manager.guard import audit
from artifact_manager.guard.patching import PatchAfterImport, rebind_elsewhere
from artifact_manager.guard.policy import as_path

__all__ = [
    "Library",
    "Targets",
    "Wrap",
    "argument",
    "install",
    "local_base",
    "local_path",
    "patch_module",
    "wrap",
]

#: A call's (args, kwargs) -> what it is about to write: paths, URIs or anything else (only
#: local paths are checked).
Targets = Callable[[tuple[Any, ...], dict[str, Any]], Iterable[object]]
_MARK = "__artifact_manager_guarded__"


class Wrap(NamedTuple):
    """One callable of a module, checked before it runs.

    ``attribute`` is a dotted path inside the module (``"write_table"``,
    ``"ParquetWriter.__init__"``); ``targets`` says what a call writes to.
    """

    attribute: str
    targets: Targets


class Library(NamedTuple):
    """A library whose writers bypass the audit hook: its modules and their wraps.

    ``name`` becomes the ``layer`` of the violations its wrappers record (``"pyarrow"``).
    """

    name: str
    modules: dict[str, tuple[Wrap, ...]]


def argument(index: int, name: str) -> Targets:
    """The argument at ``index`` (``self`` counts) or keyword ``name``, read relative to the
    call's ``filesystem=`` keyword: skipped when that is not the local file system."""

    def targets(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Iterable[object]:
        value = args[index] if len(args) > index else kwargs.get(name)
        filesystem = kwargs.get("filesystem")
        if filesystem is None:
            return (value,)
        base = local_base(filesystem)
        if base is None:
            return ()
        path = as_path(value)
        return (os.path.join(base, path.lstrip("/")) if base and path else value,)

    return targets


def local_base(filesystem: object) -> str | None:
    """Where a file system's paths start on the local disk: ``""`` for pyarrow's
    ``LocalFileSystem`` and fsspec's local one, the base of a pyarrow ``SubTreeFileSystem``
    over a local one, None for anything else. Told apart by duck typing (nothing imported)."""
    kind = getattr(filesystem, "type_name", None)  # pyarrow.fs
    if kind == "local":
        return ""
    if kind == "subtree":
        inner = local_base(getattr(filesystem, "base_fs", None))
        base = getattr(filesystem, "base_path", None)
        return None if inner is None or not isinstance(base, str) else inner + base
    if kind is not None:
        return None
    protocol = getattr(filesystem, "protocol", None)  # fsspec
    protocols = (protocol,) if isinstance(protocol, str) else tuple(protocol or ())
    return "" if {"file", "local"} & set(protocols) else None


def local_path(target: object) -> str | None:
    """A local file system path from a writer's target: a str/bytes/PathLike path (``~``
    expanded) or a ``file://`` URI; None for file objects, other URIs (``s3://``) and
    anything else."""
    if isinstance(target, str):
        path = target
    else:  # os.fspath first: isinstance(x, os.PathLike) is a slow ABC check
        try:
            raw = os.fspath(target)  # type: ignore[call-overload]
        except TypeError:
            return None  # a file object, a buffer, an fd
        path = raw if isinstance(raw, str) else os.fsdecode(raw)
    if "://" not in path:
        # polars (and fsspec) expand a leading ``~`` as the shell does; so does the check
        return os.path.expanduser(path) if path.startswith("~") else path
    parts = urlsplit(path)
    return unquote(parts.path) if parts.scheme == "file" else None


def wrap(library: str, operation: str, original: Callable[..., Any], targets: Targets) -> Any:
    """``original`` checked before it runs (the row's wrapper; also used by the benchmark)."""

    @functools.wraps(original)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True  # the failure points at the user's call
        guard = audit.active_checker()
        if guard is not None:
            for target in targets(args, kwargs):
                path = local_path(target)
                if path is not None:
                    guard.check(path, operation, layer=library)
        return original(*args, **kwargs)

    setattr(guarded, _MARK, True)
    return guarded


# -- patching ------------------------------------------------------------------------------

_libraries: dict[str, Library] = {}  # module name -> its library, filled by install()


def patch_module(module: ModuleType, library: Library, late: bool = False) -> None:
    """Wrap the rows of ``library`` that belong to ``module`` (idempotent). A row whose
    attribute is missing (another version of the library) or cannot be wrapped is skipped;
    ``late`` (the module was imported before the guard) also rebinds earlier imports."""
    if module.__dict__.get(_MARK):
        return  # a module imported again (reload, or dropped from sys.modules) is a new object
    module.__dict__[_MARK] = True
    functions: dict[int, tuple[object, object]] = {}  # id(original) -> (original, wrapper)
    for row in library.modules.get(module.__name__, ()):
        *owners, name = row.attribute.split(".")
        owner: Any = module
        for part in owners:
            owner = getattr(owner, part, None)
        original = getattr(owner, name, None) if owner is not None else None
        if original is None or getattr(original, _MARK, False):
            continue
        operation = f"write with {module.__name__}.{row.attribute}"
        guarded = wrap(library.name, operation, original, row.targets)
        try:  # never break the import of the user's library: an unwrapped row is detected
            if len(owners) == 1 and isinstance(owner, type) and not _settable(owner):
                owner = _stand_in(module, owners[0], owner)
            setattr(owner, name, staticmethod(guarded) if name == "__new__" else guarded)
        except (TypeError, AttributeError):
            continue  # a final type, or a nested class of an immutable one: left to layer 3
        if owners:
            continue  # a class attribute: every reference sees the wrapper
        defining = sys.modules.get(getattr(original, "__module__", "") or "")
        if defining is not None and getattr(defining, name, None) is original:
            setattr(defining, name, guarded)  # pyarrow.parquet.core.write_table
        functions[id(original)] = (original, guarded)
    if late and functions:
        rebind_elsewhere(functions, module)


def _settable(cls: type) -> bool:
    try:
        setattr(cls, _MARK, True)
    except TypeError:
        return False
    delattr(cls, _MARK)
    return True


def _stand_in(module: ModuleType, name: str, base: type) -> type:
    """For an extension type that refuses new attributes (``pyarrow.OSFile``): a subclass put
    in its place in ``module``, whose methods can be wrapped. Its metaclass makes it
    transparent to ``isinstance``/``issubclass``, so instances the library makes of the base
    type (in C) still pass ``isinstance(x, module.name)``. Instances made in C are not
    checked: layer 3 sees what they write."""
    meta = type(base)

    def instancecheck(cls: type, instance: object) -> bool:
        return isinstance(instance, base)

    def subclasscheck(cls: type, subclass: type) -> bool:
        return issubclass(subclass, base)

    transparent = type(
        f"Guarded{meta.__name__}",
        (meta,),
        {"__instancecheck__": instancecheck, "__subclasscheck__": subclasscheck},
    )
    stand_in: type = transparent(  # TypeError for a final type
        base.__name__,
        (base,),
        {"__module__": base.__module__, "__qualname__": base.__qualname__, "__doc__": base.__doc__},
    )
    setattr(module, name, stand_in)
    return stand_in


#: Module name -> what patches it (its library's wrappers), filled by install().
_patchers: dict[str, Callable[[ModuleType], None]] = {}
_finder = PatchAfterImport(_patchers)


def install(libraries: Iterable[Library]) -> importlib.abc.MetaPathFinder:
    """Patch the listed modules now where imported, else as soon as they are; returns the
    finder that patches them on import."""
    for library in libraries:
        for name in library.modules:
            _libraries.setdefault(name, library)
            _patchers.setdefault(name, functools.partial(patch_module, library=_libraries[name]))
    for name, library in _libraries.items():
        module = sys.modules.get(name)
        if module is not None:
            patch_module(module, library, late=True)
    _finder.install()
    return _finder
