"""Reports of a test session's artifacts for people: the HTML page and its previews.

Pytest-free: the plugin and the CLI hand in the JSON report's dict
(``{"tests": [...], "violations": [...]}``) and get a page back.
"""

from __future__ import annotations

from artifact_manager.reporting.page import render_html, write_html
from artifact_manager.reporting.previews import ImagePreview, TablePreview, preview_file

__all__ = ["ImagePreview", "TablePreview", "preview_file", "render_html", "write_html"]
