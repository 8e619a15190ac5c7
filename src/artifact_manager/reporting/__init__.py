"""Reports of a test session's artifacts for people: the HTML page and its previews.

Pytest-free: the plugin and the CLI hand in the JSON report's dict (``{"run": {...},
"tests": [...], "violations": [...]}``, :mod:`~artifact_manager.reporting.schema`) and get a
page back; the CLI reads reports back and merges those of a suite split over CI shards.

The names below are imported on first use (PEP 562): the plugin imports this package at
start-up for the JSON report's schema, and the page and its previews are needed only when a
page is written.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from artifact_manager.reporting.merge import merge_reports
    from artifact_manager.reporting.page import render_html, write_html
    from artifact_manager.reporting.previews import ImagePreview, TablePreview, preview_file
    from artifact_manager.reporting.schema import read_report, write_report

__all__ = [
    "ImagePreview",
    "TablePreview",
    "merge_reports",
    "preview_file",
    "read_report",
    "render_html",
    "write_html",
    "write_report",
]

_MODULES = {
    "ImagePreview": "previews",
    "TablePreview": "previews",
    "merge_reports": "merge",
    "preview_file": "previews",
    "read_report": "schema",
    "render_html": "page",
    "write_html": "page",
    "write_report": "schema",
}


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
