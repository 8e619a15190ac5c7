"""Storage: what happens on disk (checksums, locks, symlink-safe cleanup, tables, ...)."""

from __future__ import annotations
