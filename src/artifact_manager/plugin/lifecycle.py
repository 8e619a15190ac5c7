"""A test's dir from start to end: lock it, empty it, force test mode, keep or delete it.

Per attempt (pytest-rerunfailures runs setup/call/teardown again; each attempt starts from an
empty dir and the last attempt's dir is the one kept):

1. setup starts: force test mode under the test's name for setup, call and teardown. When
   the first manager for a test root is made (the fixtures, or the code under test), the
   root is claimed: its lock is taken (another session running the same test waits at most
   ``lock_timeout`` seconds, then fails naming the holder) and it is emptied;
2. every phase's report is noted (a test failed if setup, call or teardown failed);
3. after the teardown report: keep or discard every root claimed under the test's name,
   release the locks, stop forcing, and return the test's record. A discarded root is
   renamed into the session's trash at once (its name is free for the next attempt or
   session) and deleted by a background thread (:mod:`artifact_manager.storage.trash`).
"""

from __future__ import annotations

import functools
import os
import warnings
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from artifact_manager.config import ArtifactConfig, Coverage
from artifact_manager.errors import ArtifactConfigError
from artifact_manager.layout import Layout, lock_path_for
from artifact_manager.naming import nodeid_to_test_name
from artifact_manager.plugin.options import PluginSettings
from artifact_manager.plugin.report import ArtifactRecord
from artifact_manager.storage.checksum import sha256_file
from artifact_manager.storage.cleanup import TreeFile, tree_files
from artifact_manager.storage.locks import acquire
from artifact_manager.storage.trash import Trash
from artifact_manager.testmode import ForcedTestMode, forced_test_mode

__all__ = ["MARKER_KEYS", "Lifecycle", "config_for_item"]

MARKER_KEYS = ("source", "build", "base_model", "coverage")


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


def config_for_item(
    item: pytest.Item, settings: PluginSettings, test_name: str | None = None
) -> ArtifactConfig:
    """The test-mode config of ``item``: settings, then its ``artifacts`` marker.

    ``test_name``: the item's test name, when the caller has it already.
    """
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
            mode="test",
            coverage=coverage,
            test_name=test_name or nodeid_to_test_name(item.nodeid),
            **fields,
        )
    except ArtifactConfigError as error:
        raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.artifacts: {error}") from None


@dataclass
class _Attempt:
    #: Undone when the attempt finishes: the forced test mode, the locks of claimed roots.
    undo: ExitStack
    activation: ForcedTestMode
    config: ArtifactConfig | None = None
    outcomes: dict[str, str] = field(default_factory=dict)

    @property
    def test_name(self) -> str:
        return self.activation.test_name


_ATTEMPT = pytest.StashKey[_Attempt]()


@dataclass
class Lifecycle:
    """Starts and finishes each test attempt; see the module docs."""

    settings: PluginSettings
    trash: Trash
    allowed_names: set[str] = field(default_factory=set)

    def config_of(self, item: pytest.Item) -> ArtifactConfig:
        """The running attempt's default config (made on first use; fresh outside one)."""
        attempt = item.stash.get(_ATTEMPT, None)
        if attempt is None:
            return config_for_item(item, self.settings)
        if attempt.config is None:
            attempt.config = config_for_item(item, self.settings, attempt.test_name)
        return attempt.config

    def start(self, item: pytest.Item) -> None:
        """Force test mode for the attempt. A test root is claimed (locked, emptied) when the
        first manager for it is made, so tests that make none pay nothing on disk."""
        # A bad @pytest.mark.artifacts fails the setup now, whether or not the test uses it.
        config = (
            config_for_item(item, self.settings) if item.get_closest_marker("artifacts") else None
        )
        # The name is computed when a config first asks for it: most tests never do.
        name: str | Callable[[], str] = (
            config.test_name
            if config is not None and config.test_name
            else functools.partial(nodeid_to_test_name, item.nodeid)
        )
        undo = ExitStack()
        claim = self._claimer(undo, f"pytest running {item.nodeid}")
        activation = undo.enter_context(
            forced_test_mode(name, allowed_names=self.allowed_names, on_new_root=claim)
        )
        item.stash[_ATTEMPT] = _Attempt(undo, activation, config)

    def _claimer(self, undo: ExitStack, owner: str) -> Callable[[Path], None]:
        def claim(root: Path) -> None:
            lock = acquire(lock_path_for(root), timeout=self.settings.lock_timeout, owner=owner)
            undo.callback(lock.release)
            self.trash.discard(root)  # a kept dir from an earlier run, or an earlier attempt's

        return claim

    def note(self, item: pytest.Item, report: pytest.TestReport) -> None:
        attempt = item.stash.get(_ATTEMPT, None)
        if attempt is not None:
            attempt.outcomes[report.when] = report.outcome

    def finish(self, item: pytest.Item, with_files: bool) -> tuple[str, ArtifactRecord | None]:
        """Keep or delete the attempt's roots, then release their locks and stop forcing.

        Returns the attempt's outcome and, if it claimed a dir or files were asked for, its
        record.
        """
        attempt = item.stash.get(_ATTEMPT, None)
        if attempt is None:
            return "passed", None
        config = self.config_of(item) if with_files or attempt.activation.created_roots else None
        del item.stash[_ATTEMPT]
        outcomes = set(attempt.outcomes.values())
        failed = "failed" in outcomes
        outcome = "failed" if failed else "skipped" if "skipped" in outcomes else "passed"
        if config is None:
            attempt.undo.close()
            return outcome, None
        layout = Layout.from_config(config)
        own_root = layout.test_root
        assert own_root is not None
        with attempt.undo:
            roots = [r for r in attempt.activation.created_roots if os.path.lexists(r)]
            keep = self.settings.keeps(failed)
            entries = _entries(roots, own_root) if with_files or keep else []
            files = [_describe(name, e) for name, e in entries] if with_files else []
            if not keep:
                self._discard_all(roots)
        return outcome, ArtifactRecord(
            nodeid=item.nodeid,
            test_name=attempt.test_name,
            artifacts_dir=str(layout.artifacts_dir),
            test_root=str(own_root),
            outcome=outcome,
            kept=keep and bool(roots),
            size=sum(e.size for _, e in entries) if keep else 0,
            files=files,
        )

    def _discard_all(self, roots: Iterable[Path]) -> None:
        for root in roots:
            try:
                self.trash.discard(root)
            except OSError as error:
                warnings.warn(
                    pytest.PytestWarning(
                        f"could not remove test artifact dir {str(root)!r}: {error}; "
                        "remove it by hand (nothing outside it was touched)"
                    ),
                    stacklevel=1,
                )


def _entries(roots: list[Path], own_root: Path) -> list[tuple[str, TreeFile]]:
    """Files of all roots: named relative to the test's own root, others absolute."""
    own = os.path.realpath(own_root)
    return [
        (entry.name if os.path.realpath(root) == own else str(entry.path), entry)
        for root in roots
        for entry in tree_files(root)
    ]


def _describe(name: str, entry: TreeFile) -> dict[str, Any]:
    return {"name": name, "size": entry.size, "sha256": sha256_file(entry.path)}
