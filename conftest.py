"""Root conftest: enables pytest's ``pytester`` fixture for the plugin tests."""

from __future__ import annotations

pytest_plugins = ["pytester"]
