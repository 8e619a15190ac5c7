"""A test's dir from start to end: lock it, empty it, force test mode, keep or delete it.

Per attempt (pytest-rerunfailures runs setup/call/teardown again; each attempt starts from an
empty dir and the last attempt's dir is the one kept):

1. setup starts: take the per-test-dir lock (another session running the same test waits at
   most ``lock_timeout`` seconds, then fails naming the holder), empty the test root, and
   force test mode under the test's name for setup, call and teardown;
2. every phase's report is noted (a test failed if setup, call or teardown failed);
3. after the teardown report: stop forcing, keep or delete every test root created under the
   test's name, release the lock and return the test's record.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from artifact_manager.config import ArtifactConfig, Coverage
from artifact_manager.errors import ArtifactConfigError
from artifact_manager.layout import INTERNAL_PREFIX, Layout
from artifact_manager.naming import nodeid_to_test_name
from artifact_manager.plugin.options import PluginSettings
from artifact_manager.plugin.report import TestRecord
from artifact_manager.storage.checksum import sha256_file
from artifact_manager.storage.cleanup import TreeFile, remove_tree, tree_files
from artifact_manager.storage.locks import HeldLock, acquire
from artifact_manager.testmode import ForcedTestMode, forced_test_mode

__all__ = ["MARKER_KEYS", "Lifecycle", "config_for_item", "lock_path_for"]

MARKER_KEYS = ("source", "build", "base_model", "coverage")
LOCKS_DIRNAME = INTERNAL_PREFIX + "locks"


def lock_path_for(layout: Layout, name: str) -> Path:
    """Where the lock of test dir ``name`` lives (beside the test dirs, never inside one)."""
    return layout.tests_root / LOCKS_DIRNAME / f"{name}.lock"


def _marker_overrides(item: pytest.Item) -> dict[str, Any]:
    marker = item.get_closest_marker("artifacts")
    if marker is None:
        return {}
    unknown = sorted(set(marker.kwargs) - set(MARKER_KEYS))
    if marker.args or unknown:
        raise pytest.UsageError(
            f"{item.nodeid}: @pytest.mark.artifacts takes only the keywords "
            f"{', '.join(MARKER_KEYS)}; got positional {marker.args!r} and unknown {unknown!r}"
            " (the mode is always test and the test name comes from the node id)"
        )
    return dict(marker.kwargs)


def config_for_item(item: pytest.Item, settings: PluginSettings) -> ArtifactConfig:
    """The test-mode config of ``item``: settings, then its ``artifacts`` marker."""
    fields: dict[str, Any] = {
        "source": settings.source,
        "build": settings.build,
        "base_model": settings.base_model,
        "data_root": settings.data_root,
    }
    fields.update(_marker_overrides(item))
    coverage: Coverage = fields.pop("coverage", "gene_subset")
    try:
        return ArtifactConfig(
            mode="test", coverage=coverage, test_name=nodeid_to_test_name(item.nodeid), **fields
        )
    except ArtifactConfigError as error:
        raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.artifacts: {error}") from None


@dataclass
class _Attempt:
    config: ArtifactConfig
    lock: HeldLock
    scope: ExitStack
    activation: ForcedTestMode
    outcomes: dict[str, str] = field(default_factory=dict)


_ATTEMPT = pytest.StashKey[_Attempt]()


def _empty(root: Path) -> None:
    remove_tree(root)


@dataclass
class Lifecycle:
    """Starts and finishes each test attempt; see the module docs."""

    settings: PluginSettings
    allowed_names: set[str] = field(default_factory=set)

    def config_of(self, item: pytest.Item) -> ArtifactConfig:
        """The running attempt's default config (or a fresh one outside an attempt)."""
        attempt = item.stash.get(_ATTEMPT, None)
        return attempt.config if attempt is not None else config_for_item(item, self.settings)

    def start(self, item: pytest.Item) -> None:
        config = config_for_item(item, self.settings)
        layout = Layout.from_config(config)
        root = layout.test_root
        assert root is not None
        assert config.test_name is not None
        lock = acquire(
            lock_path_for(layout, config.test_name),
            timeout=self.settings.lock_timeout,
            owner=f"pytest running {item.nodeid}",
        )
        scope = ExitStack()
        scope.callback(lock.release)
        try:
            _empty(root)
            activation = scope.enter_context(
                forced_test_mode(
                    config.test_name,
                    allowed_names=self.allowed_names,
                    on_new_root=_empty,
                    known_roots=[root],
                )
            )
        except BaseException:
            scope.close()
            raise
        item.stash[_ATTEMPT] = _Attempt(config, lock, scope, activation)

    def note(self, item: pytest.Item, report: pytest.TestReport) -> None:
        attempt = item.stash.get(_ATTEMPT, None)
        if attempt is not None:
            attempt.outcomes[report.when] = report.outcome

    def finish(self, item: pytest.Item, with_files: bool) -> TestRecord | None:
        attempt = item.stash.get(_ATTEMPT, None)
        if attempt is None:
            return None
        del item.stash[_ATTEMPT]
        roots = list(attempt.activation.created_roots)
        try:
            outcomes = set(attempt.outcomes.values())
            failed = "failed" in outcomes
            keep = self.settings.keep == "all" or (self.settings.keep == "failed" and failed)
            entries = _entries(roots) if with_files or keep else []
            files = [_describe(name, e) for name, e in entries] if with_files else []
            if not keep:
                _remove_all(roots)
        finally:
            attempt.scope.close()  # stop forcing test mode, release the lock
        layout = Layout.from_config(attempt.config)
        assert layout.test_root is not None
        assert attempt.config.test_name is not None
        return TestRecord(
            nodeid=item.nodeid,
            test_name=attempt.config.test_name,
            artifacts_dir=str(layout.artifacts_dir),
            test_root=str(layout.test_root),
            outcome="failed" if failed else "skipped" if "skipped" in outcomes else "passed",
            kept=keep,
            size=sum(e.size for _, e in entries) if keep else 0,
            files=files,
        )


def _entries(roots: list[Path]) -> list[tuple[str, TreeFile]]:
    """Files of all roots: named relative to the first (the test's own), else absolute."""
    return [
        (entry.name if index == 0 else str(entry.path), entry)
        for index, root in enumerate(roots)
        for entry in tree_files(root)
    ]


def _describe(name: str, entry: TreeFile) -> dict[str, Any]:
    return {"name": name, "size": entry.size, "sha256": sha256_file(entry.path)}


def _remove_all(roots: Iterable[Path]) -> None:
    for root in roots:
        try:
            remove_tree(root)
        except OSError as error:
            warnings.warn(
                pytest.PytestWarning(
                    f"could not remove test artifact dir {str(root)!r}: {error}; "
                    "remove it by hand (nothing outside it was touched)"
                ),
                stacklevel=1,
            )
