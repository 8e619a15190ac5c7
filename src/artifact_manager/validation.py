"""Checks for the names that become path components (source, build, base model, test name)."""

from __future__ import annotations

import re
import unicodedata

from artifact_manager.errors import ArtifactConfigError

__all__ = ["component_problem", "validate_component"]


_PLAIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*")


def component_problem(value: object) -> str | None:
    """Why ``value`` cannot be one path component, or ``None`` when it can."""
    if isinstance(value, str) and _PLAIN.fullmatch(value) and ".." not in value:
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
    for ch in value:
        if unicodedata.category(ch) == "Cc":
            return f"contains the control character {ch!r}"
    return None


def validate_component(field: str, value: object) -> str:
    """Return ``value`` if it is a safe single path component, else raise.

    Raises:
        ArtifactConfigError: naming ``field`` and ``value``.
    """
    problem = component_problem(value)
    if problem is not None:
        raise ArtifactConfigError(
            field,
            value,
            problem,
            f"use a single plain directory name for {field} (letters, digits, '.', '_', '-')",
        )
    assert isinstance(value, str)
    return value
