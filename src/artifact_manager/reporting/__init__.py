"""Reports of a test session's artifacts for people: the HTML page and its previews.

Pytest-free: the plugin and the CLI hand in the JSON report's dict (``{"run": {...},
"tests": [...], "violations": [...]}``, :mod:`~artifact_manager.reporting.schema`) and get a
page back; the CLI reads reports back and merges those of a suite split over CI shards.
"""

from __future__ import annotations

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
