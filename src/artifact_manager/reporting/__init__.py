"""Reports of a test session's artifacts for people: the HTML page and its previews.

Pytest-free: the plugin and the CLI hand in the JSON report's dict (``{"run": {...},
"tests": [...], "violations": [...]}``, :mod:`~artifact_manager.reporting.schema`) and get a
page back; the CLI reads reports back and merges those of a suite split over CI shards.

The names below are imported on first use (PEP 562): the plugin imports this package at
start-up for the JSON report's schema, and the page and its previews are needed only when a
page is written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from artifact_manager.lazy import lazy_exports

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
    "ImagePreview": "artifact_manager.reporting.previews",
    "TablePreview": "artifact_manager.reporting.previews",
    "merge_reports": "artifact_manager.reporting.merge",
    "preview_file": "artifact_manager.reporting.previews",
    "read_report": "artifact_manager.reporting.schema",
    "render_html": "artifact_manager.reporting.page",
    "write_html": "artifact_manager.reporting.page",
    "write_report": "artifact_manager.reporting.schema",
}

__getattr__, __dir__ = lazy_exports(globals(), _MODULES)
