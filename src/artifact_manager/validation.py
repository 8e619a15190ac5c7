"""Checks for the names that become path components (source, build, base model, test name).

Names starting with :data:`~artifact_manager.paths.INTERNAL_PREFIX` (``.artifacts.``) are
reserved for the manager's own bookkeeping (``.artifacts.locks``, ``.artifacts.trash``, keep
markers): a test dir or shared dir of that name would be one of them, and discarding it
would remove other sessions' live locks.

A name is at most :data:`COMPONENT_MAX_BYTES` bytes long (UTF-8): one file name may have 255
(:data:`~artifact_manager.paths.DEFAULT_NAME_MAX`), and the layout appends up to 5 to a name
(``<base_model>_eval``, a test dir's lock ``<test_name>.lock``). The limit is fixed, not asked
of the file system: a config valid on one machine is valid on every other (xdist workers).
"""

from __future__ import annotations

import re
import unicodedata

from artifact_manager.errors import ArtifactConfigError
from artifact_manager.paths import DEFAULT_NAME_MAX, INTERNAL_PREFIX

__all__ = ["COMPONENT_MAX_BYTES", "component_problem", "validate_component"]

#: The longest name, in UTF-8 bytes, of a source, build, base model or test name.
COMPONENT_MAX_BYTES = DEFAULT_NAME_MAX - len(".lock")


_PLAIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*")  # never starts with the reserved prefix
# Format characters (zero-width spaces and joiners, direction overrides) and line or paragraph
# separators: a name holding one looks like another name, and would make a second tree.
_INVISIBLE = frozenset(("Cf", "Zl", "Zp"))
_RESERVED = (
    f"starts with {INTERNAL_PREFIX!r}, a prefix reserved for the manager's own files "
    "(locks, trash, keep markers)"
)


def component_problem(value: object) -> str | None:
    """Why ``value`` cannot be one path component, or ``None`` when it can."""
    if (
        isinstance(value, str)
        and len(value) <= COMPONENT_MAX_BYTES  # ASCII when plain: a byte per character
        and _PLAIN.fullmatch(value)
        and ".." not in value
    ):
        return None  # the common case, decided without a per-character scan
    if not isinstance(value, str):
        return f"must be a string, not {type(value).__name__}"
    if not value.strip():
        return "is empty"
    if value in (".", ".."):
        return "is a relative dir reference"
    if "/" in value or "\\" in value:
        return "contains a path separator"
    if ".." in value:
        return "contains '..'"
    if value.startswith(INTERNAL_PREFIX):
        return _RESERVED
    for ch in value:
        category = unicodedata.category(ch)
        if category == "Cc":
            return f"contains the control character {ch!r}"
        if category in _INVISIBLE:
            name = unicodedata.name(ch, "unnamed")
            return f"contains the invisible character U+{ord(ch):04X} ({name})"
    if value != value.strip():
        return "starts or ends with whitespace"
    if not unicodedata.is_normalized("NFC", value):
        nfc = unicodedata.normalize("NFC", value)
        # Both spelt out: printed, the two look the same.
        return f"is not in Unicode's NFC form ({value!a}; in NFC it is {nfc!a})"
    size = len(value.encode("utf-8", "surrogatepass"))
    if size > COMPONENT_MAX_BYTES:
        return _too_long(value, size)
    return None


_TOO_LONG_WHY = (
    f"(a file name may have {DEFAULT_NAME_MAX} bytes, and the layout appends up to 5: "
    "'_eval', '.lock')"
)


def _too_long(value: str, size: int) -> str:
    return (
        f"is {size} bytes long ({len(value)} characters, in UTF-8), more than the "
        f"{COMPONENT_MAX_BYTES} a name may have {_TOO_LONG_WHY}"
    )


def validate_component(field: str, value: object) -> str:
    """Return ``value`` if it is a safe single path component, else raise.

    Raises:
        ArtifactConfigError: naming ``field`` and ``value``.
    """
    problem = component_problem(value)
    if problem is not None:
        remedy = f"use a single plain directory name for {field} (letters, digits, '.', '_', '-')"
        if problem is _RESERVED:
            remedy = f"choose a {field} that does not start with {INTERNAL_PREFIX!r}"
        elif problem.endswith(_TOO_LONG_WHY):
            remedy = f"use a {field} of at most {COMPONENT_MAX_BYTES} bytes"
        raise ArtifactConfigError(field, value, problem, remedy)
    assert isinstance(value, str)
    return value
