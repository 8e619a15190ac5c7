"""The pytest11 entry point ``artifact_manager`` (``-p no:artifact_manager`` disables it)."""

from __future__ import annotations
