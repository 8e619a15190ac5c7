"""Sizes for people: the terminal summary, the failure section and the HTML page."""

from __future__ import annotations

__all__ = ["format_size"]


def format_size(size: int) -> str:
    """``1536`` -> ``"1.5 KiB"``."""
    if size < 1024:
        return f"{size} B"
    value = size / 1024
    for unit in ("KiB", "MiB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"
