"""``python -m artifact_manager``."""

from __future__ import annotations

from artifact_manager.cli import main

raise SystemExit(main())
