"""Node id -> test name: the dir name a test's artifacts live under.

A name is ``<readable>-<digest>``:

- ``readable`` keeps the module path, class, function and parameters recognisable
  (``tests/io/test_tables.py::TestWrite::test_tsv[a-1]`` ->
  ``tests.io.test_tables.TestWrite.test_tsv-a-1``), folded to ``[A-Za-z0-9_-]`` with ``.``
  only between components. When the whole is too long, leading dirs go first, then the tail.
- ``digest`` is 12 lowercase hex digits of the SHA-256 of the exact node id. It makes the
  mapping injective: different node ids differ in the digest, which case-folding file systems
  and truncation of the readable part cannot merge.

The result is deterministic (same node id -> same name in every process and on every xdist
worker), at most :data:`MAX_LENGTH` characters, never starts with ``.`` or ``-`` and never
contains ``..``.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["MAX_LENGTH", "nodeid_to_test_name"]

MAX_LENGTH = 120
_DIGEST_LENGTH = 12
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def _fold(text: str) -> str:
    if not text.isascii():  # accents to ASCII; most node ids skip this
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _UNSAFE.sub("_", text).strip("_")


def _split(nodeid: str) -> tuple[list[str], list[str], str]:
    """(path parts, name parts, parameter id) of a node id, each folded."""
    path, _, tail = nodeid.partition("::")
    name, bracket, params = tail.partition("[")
    if bracket and params.endswith("]"):
        params = params[:-1]
    if path.endswith(".py"):
        path = path[: -len(".py")]
    path_parts = [p for p in (_fold(x) for x in re.split(r"[/\\]", path)) if p]
    name_parts = [p for p in (_fold(x) for x in name.split("::")) if p]
    return path_parts, name_parts, _fold(params) if bracket else ""


def _readable(nodeid: str, budget: int) -> str:
    path_parts, name_parts, params = _split(nodeid)

    def join(parts: list[str]) -> str:
        text = ".".join(parts + name_parts)
        return f"{text}-{params}" if params else text

    # Keep the module; drop leading dirs while the whole does not fit.
    while len(path_parts) > 1 and len(join(path_parts)) > budget:
        path_parts = path_parts[1:]
    text = join(path_parts)[:budget]
    return text.lstrip(".-").rstrip("._-")


def nodeid_to_test_name(nodeid: str) -> str:
    """The test name (a single safe dir name) for a pytest node id."""
    import hashlib  # here: loading OpenSSL costs ~2 ms, and most sessions never ask

    digest = hashlib.sha256(nodeid.encode("utf-8", "surrogatepass")).hexdigest()
    readable = _readable(nodeid, MAX_LENGTH - _DIGEST_LENGTH - 1) or "test"
    return f"{readable}-{digest[:_DIGEST_LENGTH]}"
