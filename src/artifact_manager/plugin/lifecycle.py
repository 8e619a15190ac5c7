"""A test's attempts from start to end: force test mode, note the outcome, keep or discard.

Per attempt (pytest-rerunfailures runs setup/call/teardown again; each attempt starts from an
empty dir and the last attempt's dir is the one kept):

1. setup starts: force test mode under the test's name for setup, call and teardown, with
   the attempt as the claim hook: the first manager made for a test root claims it (lock,
   empty; see :mod:`artifact_manager.plugin.dirs`). A test that makes no manager touches
   nothing and makes nothing but its attempt;
2. every phase's report is noted (a test failed if setup, call or teardown failed); a failed
   phase's report gets an ``artifacts`` section naming the test's dirs and files;
3. after the teardown report: keep or discard every root claimed under the test's name,
   release the locks, stop forcing, and return the test's record. An attempt that never got
   its teardown report (the session was interrupted) is finished at session end as
   ``interrupted``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import pytest

from artifact_manager.errors import ArtifactConfigError
from artifact_manager.plugin.dirs import AttemptDirs, TestDirs
from artifact_manager.plugin.markers import ARTIFACTS
from artifact_manager.plugin.options import PluginSettings
from artifact_manager.testmode import ForcedTestMode

if TYPE_CHECKING:
    from artifact_manager.config import ArtifactConfig, Coverage
    from artifact_manager.plugin.records import ArtifactRecord
    from artifact_manager.storage.cleanup import TreeFile

# The config, layout and record classes are imported when a test first needs one (most tests
# make no config): each is a dataclass, ~1 ms to make at import (docs/performance.md). So are
# the test names and the file listing: a session of tests that make no dir needs neither.

__all__ = ["MARKER_KEYS", "Attempt", "Finished", "Lifecycle", "config_for_item"]

MARKER_KEYS = ("source", "build", "base_model", "coverage")


def _marker_overrides(item: pytest.Item) -> dict[str, Any]:
    marker = item.get_closest_marker(ARTIFACTS)
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
    from artifact_manager.config import ArtifactConfig
    from artifact_manager.naming import nodeid_to_test_name

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


class Attempt(ForcedTestMode):
    """One attempt of a test, from its setup to its teardown report: the test mode forced
    for it (on from setup to :meth:`close`) and its own claim hook, its dirs, outcome and
    duration.

    The one object made for every test, most of which make no config: the forced name is
    computed from the node id when a config first asks for it, and the
    :class:`~artifact_manager.plugin.dirs.AttemptDirs` at the first claim.
    """

    def __init__(self, item: pytest.Item, dirs: TestDirs, config: ArtifactConfig | None) -> None:
        # ForcedTestMode's fields, set here rather than through its __init__: the name comes
        # from _make_name (no function object per test); a marker's config has validated it.
        self._name = config.test_name if config is not None and config.test_name else None
        self._name_of = None
        self.claimer = self
        self.created_roots = []
        self.allows_production = False
        self.item = item
        self.nodeid = item.nodeid
        self._test_dirs = dirs
        #: The claimed dirs' locks (None until the first claim).
        self.dirs: AttemptDirs | None = None
        self.config = config
        #: "failed" if a phase failed, else "skipped" if one was skipped, else "passed".
        self.outcome = "passed"
        #: Seconds of the phases so far.
        self.duration = 0.0

    def __repr__(self) -> str:
        return f"Attempt({self.nodeid!r})"

    def _make_name(self) -> str:
        from artifact_manager.naming import nodeid_to_test_name

        return nodeid_to_test_name(self.nodeid)

    # -- the claim hook (RootClaimer) ---------------------------------------------------------

    def is_shared(self, test_name: str) -> bool:
        return self._test_dirs.is_shared(test_name)

    def claim(self, root: Path) -> None:
        if self.dirs is None:
            self.dirs = self._test_dirs.attempt(self.nodeid)
        self.dirs.claim(root)

    def close(self) -> None:
        """Stop forcing test mode, then release the locks: no lock outlives the attempt."""
        try:
            self.deactivate()
        finally:
            self.claimer = None  # itself: without the cycle, the attempt is freed when dropped
            if self.dirs is not None:
                self.dirs.release()


class Finished(NamedTuple):
    """A finished attempt."""

    nodeid: str
    outcome: str
    #: Set if the attempt claimed a dir or files were asked for.
    record: ArtifactRecord | None
    #: The files of the kept dirs (empty when nothing was kept).
    kept_files: tuple[Path, ...] = ()
    #: Whether the attempt claimed any dir.
    claimed: bool = False
    #: Seconds of its setup, call and teardown.
    duration: float = 0.0


class Lifecycle:
    """Starts and finishes each test attempt; see the module docs."""

    def __init__(self, settings: PluginSettings, dirs: TestDirs) -> None:
        self.settings = settings
        self.dirs = dirs
        #: Attempts started and not finished yet, by node id.
        self._open: dict[str, Attempt] = {}

    def config_of(self, item: pytest.Item) -> ArtifactConfig:
        """The running attempt's default config (made on first use; fresh outside one)."""
        attempt = self._open.get(item.nodeid)
        if attempt is None:
            return config_for_item(item, self.settings)
        if attempt.config is None:
            attempt.config = config_for_item(item, self.settings, attempt.test_name)
        return attempt.config

    def start(self, item: pytest.Item, marked: bool, exempt: bool = False) -> Attempt:
        """Force test mode for the attempt, the attempt being the claim hook.

        ``marked``: the item has an ``artifacts`` marker; ``exempt``: it is marked
        ``allow_production_writes``, so its code's production configs stay production (see
        :func:`.markers.marks_of`).
        """
        # A bad @pytest.mark.artifacts fails the setup now, whether or not the test uses it.
        config = config_for_item(item, self.settings) if marked else None
        attempt = Attempt(item, self.dirs, config)
        attempt.allows_production = exempt
        self._open[attempt.nodeid] = attempt
        attempt.activate()  # off again in Attempt.close, when the attempt finishes
        return attempt

    def attempt_of(self, item: pytest.Item) -> Attempt | None:
        """The running attempt of ``item`` (None outside one)."""
        return self._open.get(item.nodeid)

    def note(self, attempt: Attempt, report: pytest.TestReport) -> None:
        """Note a phase's outcome and duration; a failed phase's report names the test's
        dirs."""
        attempt.duration += report.duration
        outcome = report.outcome
        if outcome == "passed":
            return
        if attempt.outcome != "failed":
            attempt.outcome = outcome
        if outcome == "failed" and attempt.created_roots:
            section = _dirs_section(attempt.created_roots, self.settings.keep)
            report.sections.append(("artifacts", section))

    def finish(self, item: pytest.Item, with_files: bool, outcome: str | None = None) -> Finished:
        """Keep or delete the attempt's roots, then release their locks and stop forcing.

        ``outcome``: given for an attempt that never got its teardown report
        (``interrupted``); otherwise worked out from the noted phases. Returns the attempt's
        outcome and, if it claimed a dir or files were asked for, its record.
        """
        nodeid = item.nodeid
        attempt = self._open.get(nodeid)
        if attempt is None:
            return Finished(nodeid, "passed", None)
        if outcome is None:
            outcome = attempt.outcome
        if not with_files and not attempt.created_roots:  # most tests: nothing to keep or list
            del self._open[nodeid]
            attempt.close()
            return Finished(nodeid, outcome, None, duration=attempt.duration)
        config = self.config_of(item)
        del self._open[nodeid]
        failed = attempt.outcome == "failed"
        from artifact_manager.layout import Layout
        from artifact_manager.plugin.records import ArtifactRecord

        layout = Layout.from_config(config)
        own_root = layout.test_root
        assert own_root is not None
        try:
            roots = [r for r in attempt.created_roots if os.path.lexists(r)]
            keep = self.settings.keeps(failed) and bool(roots)
            entries = _entries(roots, own_root, attempt) if with_files or keep else []
            if keep and _settle_manifests(entries):
                entries = _entries(roots, own_root, attempt)  # the journals grew
            files = [_describe(name, e) for name, e in entries] if with_files else []
            if attempt.dirs is not None:
                attempt.dirs.finish(roots, keep=keep, outcome=outcome)
        finally:
            attempt.close()
        record = ArtifactRecord(
            nodeid=nodeid,
            test_name=attempt.test_name,
            artifacts_dir=str(layout.artifacts_dir),
            test_root=str(own_root),
            outcome=outcome,
            kept=keep,
            size=sum(e.size for _, e in entries) if keep else 0,
            files=files,
        )
        kept_files = tuple(e.path for _, e in entries) if keep else ()
        return Finished(nodeid, outcome, record, kept_files, bool(roots), attempt.duration)

    def finish_interrupted(self, with_files: bool) -> list[Finished]:
        """Finish the attempts that never got their teardown report (KeyboardInterrupt, or
        ``pytest.exit``) as ``interrupted``."""
        return [
            self.finish(attempt.item, with_files, outcome="interrupted")
            for attempt in list(self._open.values())
        ]


def _dirs_section(roots: list[Path], keep: str) -> str:
    """A failed test's dirs, whether they will be kept, and their files."""
    why = (
        f"kept: artifacts_keep={keep}"
        if keep != "none"
        else "removed when the test ends; run with --keep-artifacts=failed to keep it"
    )
    from artifact_manager.reporting.sizes import format_size
    from artifact_manager.storage.cleanup import tree_files

    lines = []
    for root in roots:
        lines.append(f"{root}  ({why})")
        real_dir = os.path.isdir(root) and not os.path.islink(root)
        files = tree_files(root) if real_dir else []
        lines.extend(f"  {f.name}  ({format_size(f.size)})" for f in files)
        if not files:
            lines.append("  (no files)")
    return "\n".join(lines)


def _entries(
    roots: list[Path], own_root: Path, attempt: ForcedTestMode
) -> list[tuple[str, TreeFile]]:
    """Files of all roots: named relative to the test's own root, others absolute, spelt as
    the test's manager spelt the root (a symlinked ``data/`` stays in the name, so a report's
    ``from_report`` stays inside the project: roots are keyed by their real path)."""
    from artifact_manager.storage.cleanup import tree_files

    own = os.path.realpath(own_root)
    entries: list[tuple[str, TreeFile]] = []
    for root in roots:
        if os.path.realpath(root) == own:
            entries.extend((entry.name, entry) for entry in tree_files(root))
        else:
            spelt = attempt.spelling_of(root)
            entries.extend((str(spelt / entry.name), entry) for entry in tree_files(root))
    return entries


def _settle_manifests(entries: list[tuple[str, TreeFile]]) -> bool:
    """Record the checksums test mode left pending in a kept dir's manifests."""
    from artifact_manager.storage.manifest import JOURNAL_NAME, settle_journals

    return settle_journals(e.path for _, e in entries if e.path.name == JOURNAL_NAME)


def _describe(name: str, entry: TreeFile) -> dict[str, Any]:
    from artifact_manager.storage.checksum import sha256_file

    return {"name": name, "size": entry.size, "sha256": sha256_file(entry.path)}
