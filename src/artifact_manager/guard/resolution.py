"""Where a path really leads: ``realpath`` of the dir holding an entry, with a memory.

The guard compares real locations (see :mod:`artifact_manager.guard.policy`): an entry is
``realpath(parent) / name``. ``os.path.realpath`` looks at every component of the parent
(one ``lstat`` each), and a test's dirs lie ten or more components deep; every dir a test
creates is a new parent, so a cache of whole parents alone saves little. A
:class:`Resolver` remembers the dirs met on the way instead:

- within a phase of a test, every dir it resolved;
- across phases, every real dir met on the way with its (device, inode): in a later phase
  it is trusted again after one ``stat`` of the path shows it still leads to that same dir,
  and only the components below it are looked at (one ``lstat`` each; a symlink among them
  is followed as ``realpath`` would);
- a name that does not exist is never remembered;
- everything is forgotten (:meth:`Resolver.forget`) before a checked operation that can
  change where a path leads: rename, remove, rmdir, symlink, rmtree, move, and when a child
  process starts. The audit hook sees those before they happen.

What no in-process check can see: a subprocess still running, or native code, that moves a
dir elsewhere and leaves a symlink to it at the old name. The path then still leads to the
same dir (the same inode) through the link; the move itself is a change the watcher of
layer 3 reports when it touches a protected tree.

Paths with ``..`` are resolved as the kernel does (through the symlink, then up), by
``realpath`` on the path as given: normalising them first would let ``link/../x`` be judged
beside the link instead of where it lands.
"""

from __future__ import annotations

import os
import stat

__all__ = ["Resolver", "real_entry"]

_SEP = os.sep
#: Dirs remembered across phases, at most (then all are forgotten and learnt again).
_MAX_KNOWN = 4096


def _absolute(path: str) -> str:
    if not path.startswith(_SEP):
        path = os.path.join(os.getcwd(), path)
    return path


def _has_parent_ref(path: str) -> bool:
    return _SEP + ".." + _SEP in path + _SEP


def _slow_entry(path: str) -> str:
    """The entry of an absolute ``path`` that holds ``..``: resolved as the kernel does."""
    head, name = os.path.split(path)
    if name in ("", ".", ".."):
        return os.path.realpath(path)
    return os.path.realpath(head).rstrip(_SEP) + _SEP + name


def _normal(path: str) -> str:
    """``path`` (absolute, without ``..``) without ``.``, ``//`` and trailing separators."""
    if _SEP + "." in path or _SEP + _SEP in path:
        path = os.path.normpath(path)
        if path.startswith(_SEP + _SEP):  # POSIX keeps a leading '//'; Linux reads it as '/'
            path = _SEP + path.lstrip(_SEP)
    if len(path) > 1 and path.endswith(_SEP):
        path = path.rstrip(_SEP) or _SEP
    return path


def _names_a_dir(path: str) -> bool:
    """True for ``.../`` and ``.../.``: the dir itself, reached through any final link."""
    return path.endswith((_SEP, _SEP + "."))


def _join(real_dir: str, name: str) -> str:
    return (real_dir if real_dir != _SEP else "") + _SEP + name


def real_entry(path: str) -> str:
    """``realpath(dirname(path)) / basename(path)``, absolute (no memory)."""
    path = _absolute(path)
    if _has_parent_ref(path):
        return _slow_entry(path)
    normal = _normal(path)
    if _names_a_dir(path) or normal == _SEP:
        return os.path.realpath(normal)
    parent, _, name = normal.rpartition(_SEP)
    return _join(os.path.realpath(parent or _SEP), name)


class Resolver:
    """:func:`real_entry` with the memory described in the module docs.

    Not locked: threads may race to fill the memory, but each entry is computed from the
    file system as found, and :meth:`forget` swaps in new dicts, so a late store lands in a
    dict no longer read.
    """

    def __init__(self) -> None:
        #: given dir -> real dir, for this phase.
        self._phase: dict[str, str] = {}
        #: given dir -> (real dir, st_dev, st_ino), across phases; checked once a phase.
        self._known: dict[str, tuple[str, int, int]] = {}

    def new_phase(self) -> None:
        """A phase starts: what was resolved is checked again before it is trusted."""
        if self._phase:  # most phases resolve nothing: no new dict each time
            self._phase = {}

    def forget(self) -> None:
        """Something may have changed where paths lead: learn everything again."""
        self._phase = {}
        self._known = {}

    def entry(self, path: str) -> str:
        """``realpath(dirname(path)) / basename(path)``, absolute."""
        path = _absolute(path)
        if _has_parent_ref(path):
            return _slow_entry(path)
        normal = _normal(path)
        if _names_a_dir(path) or normal == _SEP:
            return self.real_dir(normal)
        parent, _, name = normal.rpartition(_SEP)
        return _join(self.real_dir(parent or _SEP), name)

    def real_dir(self, given: str) -> str:
        """``realpath(given)`` for an absolute, normal ``given``."""
        phase = self._phase
        real = phase.get(given)
        if real is not None:
            return real
        known = self._known
        # Up to the nearest dir resolved in this phase, or remembered and still the same.
        below: list[str] = []
        base = given
        while True:
            real = phase.get(base)
            if real is not None:
                break
            remembered = known.get(base)
            if remembered is not None:
                real, dev, ino = remembered
                try:
                    st = os.stat(base)
                    same = st.st_dev == dev and st.st_ino == ino
                except OSError:
                    same = False
                if same:
                    phase[base] = real
                    break
                known.pop(base, None)
            if base == _SEP:
                real = _SEP
                break
            base, _, name = base.rpartition(_SEP)
            below.append(name)
            if not base:
                base = _SEP
        if len(known) > _MAX_KNOWN:
            known = self._known = {}
        # Down, one component at a time, as realpath does.
        missing = False
        for name in reversed(below):
            base = _join(base, name)
            candidate = _join(real, name)
            if not missing:
                try:
                    st = os.lstat(candidate)
                except OSError:
                    missing = True  # realpath goes on with the names as they are
                else:
                    if stat.S_ISLNK(st.st_mode):
                        candidate = os.path.realpath(candidate)
                        try:
                            st = os.stat(candidate)
                        except OSError:
                            missing = True
                    if not missing and stat.S_ISDIR(st.st_mode):
                        known[base] = (candidate, st.st_dev, st.st_ino)
            if not missing:
                # A name that does not exist is not remembered: whatever comes to be there
                # later (a hard link to a symlink, a child's ``ln -s``) is looked at then.
                phase[base] = candidate
            real = candidate
        return real
