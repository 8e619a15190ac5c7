"""Strict mode by read-only bind mounts in a private mount namespace (Linux).

Where the process may make a mount namespace (``CAP_SYS_ADMIN``: root in a container that
allows ``mount``), this protects exactly the protected trees: each is bind-mounted on itself
read-only and each exempt tree inside one (the ``tests/`` trees, ``artifacts_allow``) is
bind-mounted on itself writable again. Nothing else is restricted, so pytest's cache, JUnit
XML, coverage data files and ``tmp_path`` work wherever they are, even in an ancestor of the
data root (where Landlock cannot allow new entries).

The namespace is private (``MS_PRIVATE``, recursively), so the mounts never reach the rest of
the system, and it ends with the process. Like Landlock, it covers the calling thread, the
threads it starts afterwards and every child process; a thread started before enforcement
keeps the old view.
"""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys

from artifact_manager.guard.policy import GuardPolicy

__all__ = ["MountFailed", "MountNamespaceUnavailable", "enforce", "usable"]

_CLONE_NEWNS = 0x00020000
_MS_RDONLY = 1
_MS_NOSUID = 2
_MS_NODEV = 4
_MS_NOEXEC = 8
_MS_REMOUNT = 32
_MS_NOATIME = 1024
_MS_NODIRATIME = 2048
_MS_BIND = 4096
_MS_REC = 16384
_MS_PRIVATE = 1 << 18
_MS_RELATIME = 1 << 21
#: statvfs flags -> the mount flags a bind remount must repeat (it clears those not given).
_KEPT_FLAGS = (
    (os.ST_NOSUID, _MS_NOSUID),
    (os.ST_NODEV, _MS_NODEV),
    (os.ST_NOEXEC, _MS_NOEXEC),
    (os.ST_NOATIME, _MS_NOATIME),
    (os.ST_NODIRATIME, _MS_NODIRATIME),
    (os.ST_RELATIME, _MS_RELATIME),
)
#: For tests: pretend mount namespaces are unavailable (then Landlock is used).
DISABLE_ENV = "ARTIFACT_MANAGER_NO_MOUNT_NAMESPACE"

_PROBE = """
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
if libc.unshare(0x00020000) or libc.mount(b"none", b"/", None, (1 << 14) | (1 << 18), None):
    sys.exit(1)
"""


class MountNamespaceUnavailable(RuntimeError):
    """This process cannot make a private mount namespace (nothing was changed)."""


class MountFailed(RuntimeError):
    """A mount in the new namespace failed: the protection is incomplete."""


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def usable() -> bool:
    """Whether a process here can make a private mount namespace (tried in a child, so this
    process stays as it is)."""
    if not sys.platform.startswith("linux") or os.environ.get(DISABLE_ENV):
        return False
    try:
        probe = subprocess.run(
            [sys.executable, "-I", "-S", "-c", _PROBE], capture_output=True, timeout=30
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return probe.returncode == 0


def _mount(libc: ctypes.CDLL, source: str | None, target: str, flags: int) -> None:
    src = source.encode() if source is not None else None
    if libc.mount(src, target.encode(), None, flags, None):
        error = os.strerror(ctypes.get_errno())
        raise MountFailed(f"mount({source!r}, {target!r}, flags={flags:#x}) failed: {error}")


def _remount(libc: ctypes.CDLL, target: str, read_only: bool) -> None:
    flags = _MS_REMOUNT | _MS_BIND | (_MS_RDONLY if read_only else 0)
    kept = os.statvfs(target).f_flag
    flags |= sum(ms for st, ms in _KEPT_FLAGS if kept & st)
    _mount(libc, None, target, flags)


def _inside(path: str, roots: tuple[str, ...]) -> bool:
    return any(path.startswith(root.rstrip(os.sep) + os.sep) for root in roots)


def enforce(policy: GuardPolicy, exempt: list[str]) -> list[str]:
    """Move this process into a private mount namespace where the protected trees are
    read-only and the ``exempt`` trees inside them writable; returns the read-only trees.

    Raises :class:`MountNamespaceUnavailable` if the namespace cannot be made (nothing has
    changed then), :class:`MountFailed` if a mount fails (then no test may run here).
    """
    if not sys.platform.startswith("linux") or os.environ.get(DISABLE_ENV):
        raise MountNamespaceUnavailable("mount namespaces are Linux-only (or disabled)")
    libc = _libc()
    if libc.unshare(_CLONE_NEWNS):
        raise MountNamespaceUnavailable(f"unshare(CLONE_NEWNS): {os.strerror(ctypes.get_errno())}")
    # From here on a failure leaves a half-made namespace: the caller stops the session.
    _mount(libc, "none", "/", _MS_REC | _MS_PRIVATE)  # nothing propagates out
    protected = tuple(os.path.realpath(r) for r in policy.roots if os.path.lexists(r))
    for root in protected:
        _mount(libc, root, root, _MS_BIND | _MS_REC)
        _remount(libc, root, read_only=True)
    for tree in sorted(os.path.realpath(t) for t in exempt):
        if _inside(tree, protected) and os.path.exists(tree):
            _mount(libc, tree, tree, _MS_BIND | _MS_REC)
            _remount(libc, tree, read_only=False)
    # A working dir inside a protected tree would still point at the old, writable mount.
    os.chdir(os.getcwd())
    return list(protected)
