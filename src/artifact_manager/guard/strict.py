"""Strict mode: kernel enforcement, by read-only bind mounts in a private mount namespace
where the process may make one (:mod:`artifact_manager.guard.mountns`: exact, nothing else is
restricted), else by Linux Landlock.

Landlock is unprivileged, inherited by every child process and irreversible for the process
(and threads it starts later). Its rules are allow-lists of hierarchies, so "writable
everywhere except the protected trees" is spelt as: every existing entry beside each dir on
the way from ``/`` to a protected tree, plus the exempt trees inside it (the ``tests/`` trees
and ``artifacts_allow``). Reads and execution are not handled, so they stay allowed.

Consequence, by design: new entries directly in an ancestor of a protected tree cannot be
created after enforcement (existing ones stay writable).
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from artifact_manager.guard import mountns
from artifact_manager.guard.policy import GuardPolicy
from artifact_manager.paths import EVAL_SUFFIX, TESTS_DIRNAME, is_under

__all__ = [
    "Mechanism",
    "StrictUnavailable",
    "available",
    "enforce",
    "landlock_abi",
    "writable_hierarchies",
]

Mechanism = Literal["mount namespace", "landlock"]
#: What each mechanism means for the user (said at session start).
DESCRIPTIONS: dict[Mechanism, str] = {
    "mount namespace": "read-only bind mounts of the protected trees in a private mount "
    "namespace (nothing else is restricted)",
    "landlock": "Linux Landlock (new files and dirs cannot be made directly in the ancestors "
    "of the data root, e.g. the project root; outputs known at start are made first)",
}
UNAVAILABLE = (
    "--artifacts-guard=strict needs Linux Landlock (kernel 5.13+ with it enabled) or a "
    "private mount namespace (root or CAP_SYS_ADMIN where mounts are allowed), and this "
    "system offers neither; use --artifacts-guard=on"
)

_SYS_CREATE_RULESET = 444
_SYS_ADD_RULE = 445
_SYS_RESTRICT_SELF = 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38
#: For tests: pretend the kernel has no Landlock.
DISABLE_ENV = "ARTIFACT_MANAGER_NO_LANDLOCK"

_WRITE_FILE = 1 << 1
_REMOVE_DIR = 1 << 4
_REMOVE_FILE = 1 << 5
_MAKE_ALL = sum(1 << bit for bit in range(6, 13))  # char, dir, reg, sock, fifo, block, sym
_REFER = 1 << 13  # ABI 2
_TRUNCATE = 1 << 14  # ABI 3


class StrictUnavailable(RuntimeError):
    """Kernel enforcement is not possible here."""


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def landlock_abi() -> int:
    """The kernel's Landlock ABI version, 0 where there is none."""
    if not sys.platform.startswith("linux") or os.environ.get(DISABLE_ENV):
        return 0
    try:
        abi = int(_libc().syscall(_SYS_CREATE_RULESET, None, 0, _CREATE_RULESET_VERSION))
    except (OSError, AttributeError):
        return 0
    return max(abi, 0)


def _rights(abi: int) -> tuple[int, int]:
    """(rights handled for dirs, the subset that applies to files)."""
    dirs = _WRITE_FILE | _REMOVE_DIR | _REMOVE_FILE | _MAKE_ALL
    files = _WRITE_FILE
    if abi >= 2:
        dirs |= _REFER
    if abi >= 3:
        dirs |= _TRUNCATE
        files |= _TRUNCATE
    return dirs, files


def _ancestors(path: str) -> list[str]:
    """``/``, ..., the parent of ``path``."""
    found = []
    current = os.path.dirname(path)
    while True:
        found.append(current)
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    return list(reversed(found))


def _on_the_way(path: str, blocked: Iterable[str]) -> bool:
    """True if ``path`` is a blocked tree, inside one, or an ancestor of one."""
    return any(is_under(root, path) or is_under(path, root) for root in blocked)


def _exempt_trees(policy: GuardPolicy) -> list[str]:
    """The existing trees inside the protected ones that stay writable."""
    found = [a for a in policy.allow if os.path.exists(a)]
    for root in policy.data_roots:
        if not os.path.isdir(root):
            continue
        for source in os.scandir(root):
            if not source.is_dir(follow_symlinks=False):
                continue
            for build in os.scandir(source.path):
                if not build.is_dir(follow_symlinks=False):
                    continue
                for model in os.scandir(build.path):
                    tests = os.path.join(model.path, TESTS_DIRNAME)
                    if model.name.endswith(EVAL_SUFFIX) and os.path.isdir(tests):
                        found.append(os.path.realpath(tests))
    return found


def writable_hierarchies(policy: GuardPolicy) -> list[str]:
    """Every hierarchy that stays writable (real paths), sorted."""
    blocked = list(policy.roots)
    writable: set[str] = set()
    for root in blocked:
        for ancestor in _ancestors(root):
            try:
                entries = list(os.scandir(ancestor))
            except OSError:
                continue
            for entry in entries:
                real = os.path.realpath(entry.path)
                if _on_the_way(entry.path, blocked) or _on_the_way(real, blocked):
                    continue
                writable.add(real)
    writable.update(_exempt_trees(policy))
    return sorted(writable)


def available() -> Mechanism | None:
    """The mechanism a process here gets: a mount namespace if it may make one, else
    Landlock if the kernel has it, else None."""
    if mountns.usable():
        return "mount namespace"
    if landlock_abi() >= 1:
        return "landlock"
    return None


def enforce(policy: GuardPolicy) -> Mechanism:
    """Restrict this process (and its future children) for good, by the best mechanism here;
    returns it. Raises :class:`StrictUnavailable` with the reason when it cannot."""
    try:
        mountns.enforce(policy, _exempt_trees(policy))
    except mountns.MountNamespaceUnavailable:
        pass  # nothing changed: Landlock then
    except mountns.MountFailed as error:
        raise StrictUnavailable(
            f"strict mode could not protect the data root by read-only bind mounts: {error}; "
            f"set {mountns.DISABLE_ENV}=1 to use Landlock instead, or --artifacts-guard=on"
        ) from None
    else:
        return "mount namespace"
    enforce_landlock(policy)
    return "landlock"


def enforce_landlock(policy: GuardPolicy) -> list[str]:
    """Restrict this process with Landlock; returns what stays writable."""
    abi = landlock_abi()
    if abi < 1:
        raise StrictUnavailable(UNAVAILABLE)
    libc = _libc()
    dir_rights, file_rights = _rights(abi)
    attr = _RulesetAttr(dir_rights)
    ruleset = int(libc.syscall(_SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.sizeof(attr), 0))
    if ruleset < 0:
        raise StrictUnavailable(
            f"landlock_create_ruleset failed: {os.strerror(ctypes.get_errno())}"
        )
    writable = writable_hierarchies(policy)
    try:
        for path in writable:
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue  # vanished since it was listed
            try:
                rights = dir_rights if os.path.isdir(path) else file_rights
                rule = _PathBeneath(rights, fd)
                if libc.syscall(_SYS_ADD_RULE, ruleset, _RULE_PATH_BENEATH, ctypes.byref(rule), 0):
                    raise StrictUnavailable(
                        f"landlock_add_rule({path!r}) failed: {os.strerror(ctypes.get_errno())}"
                    )
            finally:
                os.close(fd)
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0):
            raise StrictUnavailable(
                f"prctl(NO_NEW_PRIVS) failed: {os.strerror(ctypes.get_errno())}"
            )
        if libc.syscall(_SYS_RESTRICT_SELF, ruleset, 0):
            raise StrictUnavailable(
                f"landlock_restrict_self failed: {os.strerror(ctypes.get_errno())}"
            )
    finally:
        os.close(ruleset)
    return writable


def prepare_tests_tree(eval_dir: Path) -> None:
    """Create ``<eval_dir>/tests`` so it exists (and is exempt) when enforcement starts."""
    (eval_dir / TESTS_DIRNAME).mkdir(parents=True, exist_ok=True)
