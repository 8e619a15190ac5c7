"""``ArtifactManager``: where a config's artifacts live, and the rules for writing them.

The methods and attributes of the original ``meta_spliceai`` manager keep their names and
meaning (``docs/migration.md`` lists the few intended differences); beyond them the manager
writes tables atomically, keeps a manifest, publishes versions and shares builds.

Directories come from :mod:`artifact_manager.layout`; every name a caller passes is checked
to stay inside the dir it names (:func:`~artifact_manager.layout.resolve_inside`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import stat
import threading
from collections.abc import Callable
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any, TypeVar, cast

from artifact_manager.config import (
    DEFAULT_BASE_MODEL,
    DEFAULT_BUILD,
    DEFAULT_DATA_ROOT,
    DEFAULT_SOURCE,
    ArtifactConfig,
    Coverage,
    Mode,
)
from artifact_manager.errors import (
    ArtifactBuildError,
    ArtifactExistsError,
    ArtifactLockTimeout,
    ArtifactPathError,
    ArtifactUsageError,
)
from artifact_manager.layout import (
    INTERNAL_PREFIX,
    Layout,
    is_internal_name,
    is_versioning_name,
    is_within,
    lock_path_for,
    resolve_inside,
)
from artifact_manager.paths import fitted_name, refuse_linked_tests_root
from artifact_manager.storage import checksum, tables, versions
from artifact_manager.storage.atomic import (
    flushing,
    fsync_dir,
    fsync_file,
    publish,
    sync_and_hash,
    temp_sibling,
)
from artifact_manager.storage.cleanup import RemovalErrors, old_dirs, remove_tree
from artifact_manager.storage.locks import acquire
from artifact_manager.storage.manifest import (
    Manifest,
    ManifestEntry,
    ValidationReport,
    is_artifact_name,
)
from artifact_manager.testmode import active_forced_test_mode

if TYPE_CHECKING:
    import polars as pl

__all__ = ["ArtifactManager", "create_artifact_manager_from_workflow_config"]

#: From this in-memory frame size on, write_table overlaps flushing and hashing with the write.
_OVERLAP_FROM = 16 << 20

_Method = TypeVar("_Method", bound=Callable[..., Any])

#: The build locks each thread holds (``get_or_build``), by real path: a builder that asks
#: for the artifact it is building would wait for its own lock forever. Per thread, because
#: another thread of this process waiting for the lock is waiting for a build that ends.
_building = threading.local()


def _original_keyword(old: str, new: str) -> Callable[[_Method], _Method]:
    """Also accept ``old``, the original manager's name of parameter ``new``, as a keyword
    (``get_artifact_path(artifact_name=...)``), so code written for it runs unchanged."""

    def decorate(method: _Method) -> _Method:
        @functools.wraps(method)
        def wrapper(self: ArtifactManager, *args: Any, **kwargs: Any) -> Any:
            if old in kwargs:
                if new in kwargs or args:
                    raise TypeError(
                        f"{method.__name__}() got {old!r} and {new!r} for the same argument; "
                        f"pass {new!r} only"
                    )
                kwargs[new] = kwargs.pop(old)
            return method(self, *args, **kwargs)

        return cast("_Method", wrapper)

    return decorate


class ArtifactManager:
    """Paths and overwrite policy for one config's artifacts.

    Created while test mode is forced (inside a pytest test), the manager replaces a
    production or differently named config with the running test's test-mode config, and
    hands its test root to the forcer's claim hook (:class:`~artifact_manager.testmode.RootClaimer`)
    before returning; otherwise the constructor touches nothing on disk.
    """

    def __init__(self, config: ArtifactConfig | None = None) -> None:
        config = config if config is not None else ArtifactConfig()
        forced = active_forced_test_mode()
        if forced is not None and forced.allows_production and config.mode == "production":
            forced = None  # an exempt test's production manager stays production
        if forced is not None and (
            config.mode != "test" or config.test_name != forced.resolve_test_name(config.test_name)
        ):
            config = dataclasses.replace(config)  # re-resolves under the forced mode
        self.config: ArtifactConfig = config
        self.layout: Layout = Layout.from_config(config)
        if forced is not None and config.test_name == forced.test_name:
            root = self.layout.test_root
            assert root is not None
            # The one side effect of a constructor under forced test mode: the forcer's claim
            # hook (testmode.RootClaimer; the pytest plugin locks and empties the dir on first
            # use). One key per dir, however it was spelt (relative, a symlinked parent); a
            # tests root that is itself a symlink is refused first (never emptied through).
            # The spelling is kept too: reports name the dir's files by it.
            refuse_linked_tests_root(root.parent)
            forced.claim_root(Path(os.path.realpath(root.parent)) / root.name, spelling=root)

    def __repr__(self) -> str:
        return f"ArtifactManager({self.config!r})"

    # -- directories -------------------------------------------------------------------

    @property
    def mode(self) -> Mode:
        return self.config.resolved_mode

    @property
    def base_dir(self) -> Path:
        """The eval dir ``<data_root>/<source>/<build>/<base_model>_eval``, in both modes
        (as the original manager's attribute; the test's own dir is :meth:`get_test_root`)."""
        return self.layout.eval_dir

    @property
    def artifacts_dir(self) -> Path:
        """The artifacts dir, the same path as :meth:`get_artifacts_dir` (not created)."""
        return self.layout.artifacts_dir

    def get_artifacts_dir(self, create: bool = False) -> Path:
        """The dir this mode's prediction artifacts live in."""
        return _maybe_create(self.layout.artifacts_dir, create)

    def get_test_root(self, create: bool = False) -> Path | None:
        """``E/tests/<test_name>/`` in test mode (e.g. for ``sampled_genes.tsv``), else None."""
        root = self.layout.test_root
        return None if root is None else _maybe_create(root, create)

    def get_training_data_dir(self, create: bool = False) -> Path:
        """The dir for meta-model training data of this mode."""
        return _maybe_create(self.layout.training_data_dir, create)

    def get_model_checkpoint_dir(self, model_version: str = "latest", create: bool = False) -> Path:
        """``models/<model_version>/`` of this mode; versions must be one plain dir name.

        When ``models/<model_version>`` is a symlink to a dir beside it (a ``latest``
        pointer), the dir it points to is returned, as :meth:`resolve_version` does.
        """
        path = self.layout.checkpoint_dir(model_version)
        target = versions.resolve_pointer(self.layout.models_dir, model_version)
        return _maybe_create(target if target is not None else path, create)

    # -- artifacts ---------------------------------------------------------------------

    @_original_keyword("artifact_name", "name")
    def get_artifact_path(self, name: str | os.PathLike[str], create_dir: bool = False) -> Path:
        """The path of artifact ``name`` (a relative name inside the artifacts dir).

        Raises:
            ArtifactPathError: for an empty, absolute or ``..`` name, one whose symlinks
                lead out of the artifacts dir, one with a part starting ``.artifacts.`` (the
                manager's own files) or one inside a published version.
        """
        path = resolve_inside(self.layout.artifacts_dir, name)
        parts = PurePath(os.fspath(name)).parts
        first = parts[0]
        if is_internal_name(path.name) or any(is_internal_name(part) for part in parts):
            raise ArtifactPathError(
                name,
                "names a file the manager keeps for itself (a part starts with '.artifacts.')",
                "choose a name none of whose parts starts with '.artifacts.'",
            )
        if is_versioning_name(first):
            raise ArtifactPathError(
                name,
                "is inside a published version (versions are immutable)",
                "read versions through resolve_version(); write new artifacts at the top",
            )
        if create_dir and not os.path.isdir(path.parent):  # one stat when it exists
            path.parent.mkdir(parents=True, exist_ok=True)
        return path

    @_original_keyword("artifact_path", "path")
    def should_overwrite(self, path: str | os.PathLike[str], force: bool = False) -> bool:
        """Whether a write to ``path`` may replace what is there.

        Test mode: always True. Production: True if the file is absent or ``force``.

        Raises:
            ArtifactPathError: if ``path`` is not inside one of this manager's dirs.
        """
        if not any(is_within(path, d) for d in self.layout.owned_dirs):
            raise ArtifactPathError(
                os.fspath(path),
                f"is outside this {self.mode} manager's dirs "
                f"({', '.join(str(d) for d in self.layout.owned_dirs)})",
                "ask the manager that owns the path, or build it with get_artifact_path()",
            )
        if self.mode == "test":
            return True
        return force or not os.path.lexists(path)

    def list_artifacts(self, pattern: str = "*.tsv") -> list[Path]:
        """Sorted artifact files matching ``pattern``; ``[]`` when the dir is missing.

        Artifacts as the manifest counts them: the manager's own files (``.artifacts.*``)
        and the files of published versions (``v<N>_<date>/``, ``latest/``) are left out.
        """
        pure = PurePath(pattern)
        if not pattern or pure.is_absolute() or ".." in pure.parts:
            raise ArtifactPathError(
                pattern, "glob pattern leaves the artifacts dir", "pass a relative pattern"
            )
        root = self.layout.artifacts_dir
        if not root.is_dir():
            return []
        return sorted(
            p
            for p in root.glob(pattern)
            if p.is_file()
            and is_artifact_name(p.relative_to(root).as_posix())
            and is_within(p, root)
        )

    # -- tables and the manifest --------------------------------------------------------

    @property
    def manifest(self) -> Manifest:
        """The manifest of the artifacts dir."""
        return Manifest(self.layout.artifacts_dir, durable=self.config.is_durable)

    def write_table(
        self, df: pl.DataFrame | pl.LazyFrame, name: str, *, force: bool = False
    ) -> Path:
        """Write a polars frame atomically as artifact ``name`` (format from the suffix).

        Temp file in the same dir, rename; then the manifest is updated. Durable configs
        (production, unless ``durable=False``) also flush the file and the dir to disk.
        Honours :meth:`should_overwrite`: a production artifact that exists is replaced only
        with ``force=True``, else :class:`ArtifactExistsError` is raised and the old file is
        untouched (also when another process creates it while this one writes).
        """
        # Name, format and frame are checked before anything is made on disk.
        path = self.get_artifact_path(name)
        tables.check_table_name(name)
        replace = self.mode == "test" or force
        if not replace and os.path.lexists(path):
            raise self._taken(path) if _is_dir(path) else self._exists(path)
        frame = tables.as_dataframe(df)
        if frame is None:
            raise TypeError(f"write_table() takes a polars DataFrame or LazyFrame, not {df!r}")
        if not os.path.isdir(path.parent):  # one stat when it exists
            path.parent.mkdir(parents=True, exist_ok=True)
        durable = self.config.is_durable
        large = durable and frame.estimated_size() >= _OVERLAP_FROM
        # Test mode stamps the file and hashes it when the checksum is first asked for (most
        # test dirs are deleted unread); production hashes it now.
        deferred = self.mode == "test"
        with temp_sibling(path) as temp:
            # Large durable writes: flush while polars writes, and hash while it writes (CSV)
            # or while the last flush runs; small ones are not worth the threads.
            digest: tuple[int, str] | None = None
            with flushing(temp) if large else contextlib.nullcontext():
                if not deferred and path.suffix.lower() in tables.HASHED_WHILE_WRITTEN:
                    digest = tables.write_table_hashing(frame, temp)
                else:
                    tables.write_table_to(frame, temp)
                    if large and not deferred:
                        digest = sync_and_hash(temp)
            marked = checksum.mark(temp) if deferred else None
            if digest is None and marked is None:
                digest = (temp.stat().st_size, checksum.sha256_file(temp))
            if durable:
                fsync_file(temp)
            # Published and recorded under the manifest lock: two writers of one artifact
            # never leave the manifest holding the checksum of the file that lost.
            name = self._name_of(path)
            with self.manifest.recording("writing " + name) as record:
                try:
                    published = publish(temp, path, replace=replace, synced=True, sync_dir=False)
                except IsADirectoryError:  # a dir at the name: os.replace cannot replace it
                    raise self._taken(path) from None
                if not published:
                    raise self._exists(path)
                stamp = None
                if marked is not None:
                    info = os.stat(path)
                    if info.st_mtime_ns == marked:
                        stamp = checksum.stamp_of(info)
                    else:  # the nanosecond was not kept, or somebody wrote the file already
                        digest = (info.st_size, checksum.sha256_file(path))
                record(
                    [ManifestEntry.describe(name, path, digest=digest, stamp=stamp)],
                    (),
                    sync_dir=False,
                )
        if durable:
            for directory in {path.parent, self.layout.artifacts_dir}:
                fsync_dir(directory)  # the artifact's and the manifest's renames, once each
        return path

    def read_table(self, name: str, **options: Any) -> pl.DataFrame:
        """Read artifact ``name`` with polars (format from the suffix)."""
        return tables.read_table(self.get_artifact_path(name), **options)

    def scan_table(self, name: str, **options: Any) -> pl.LazyFrame:
        """Scan artifact ``name`` lazily with polars (format from the suffix)."""
        return tables.scan_table(self.get_artifact_path(name), **options)

    def record_artifact(self, name: str) -> dict[str, Any]:
        """Add a file written by other means to the manifest; returns its row."""
        path = self.get_artifact_path(name)
        if not path.is_file():
            raise ArtifactPathError(
                name, "is not a file in the artifacts dir", "write it before recording it"
            )
        name = self._name_of(path)
        link = self._link_on_the_way(name)
        if link is not None:
            # Artifacts are regular files reached without a symlink: validation would never
            # find this one, and report it missing.
            raise ArtifactPathError(
                name,
                f"is reached through the symlink {link!r}; the manifest records regular files "
                "of the artifacts dir only",
                "copy the file to this name instead of linking it, or record the file the "
                "link points to",
            )
        with self.manifest.recording("recording " + name) as record:
            entry = ManifestEntry.describe(name, path)
            record([entry], (), sync_dir=True)
        return entry.row()

    def validate_artifacts(self) -> ValidationReport:
        """Compare the artifacts dir with its manifest: ``missing``, ``modified``,
        ``unlisted`` (lists of names) and ``ok``."""
        return self.manifest.validate()

    def get_artifact_metadata(self, name: str) -> dict[str, Any]:
        """The manifest row of artifact ``name``: name, size, sha256, written_at, writer.

        In test mode ``write_table`` leaves the checksum to be computed here, on first
        demand; ``sha256`` is None if the file was written by other means since.
        """
        key = self._name_of(self.get_artifact_path(name))
        entries = self.manifest.read()
        if key in entries and entries[key].pending:
            entries = self.manifest.settle([key])
        if key not in entries:
            raise ArtifactPathError(
                name,
                "is not in the manifest",
                "write it with write_table() or add it with record_artifact()",
            )
        return entries[key].row()

    def get_or_build(
        self, name: str, builder: Callable[[Path], object], *, timeout: float = -1
    ) -> Path:
        """Artifact ``name``, built once across processes if it does not exist yet.

        Fast path: the artifact exists, so it is returned. Slow path: under a lock per
        artifact, check again, then call ``builder(temp_path)``; the builder writes the
        artifact to ``temp_path`` (or returns a polars frame, which is written there), and it
        is published atomically (never over an existing file) and recorded. Waiters (other
        xdist workers, other sessions) then take the fast path. A builder that raises leaves
        nothing behind and its error reaches the caller; a killed builder's lock dies with
        it. ``timeout`` bounds the wait in seconds (< 0: as long as the build takes).

        If something else writes the artifact while the builder runs (``write_table`` in
        another process), that file wins: it is returned with its own manifest entry, and the
        build is discarded.

        Raises:
            ArtifactUsageError: the builder asked for the artifact it is building (in the
                same thread), which would wait for itself forever.
            ArtifactPathError: the name is taken by a dir, or the builder returned a frame
                for a name whose suffix is no table format.
            ArtifactBuildError: the builder neither wrote the file nor returned a frame.
        """
        path = self.get_artifact_path(name, create_dir=True)
        if path.is_file():
            return path
        name = self._name_of(path)
        lock_name = fitted_name(
            f"{INTERNAL_PREFIX}build.", path.name, ".lock", directory=path.parent
        )
        lock_path = path.with_name(lock_name)
        held = _held_builds()
        key = os.path.realpath(lock_path)
        if key in held:
            raise ArtifactUsageError(
                "get_or_build",
                name,
                "is being built by this thread already: its builder asked for it again, and "
                "would wait for its own lock forever",
                "build what the builder needs without asking for the artifact it builds",
            )
        with acquire(lock_path, timeout=timeout, owner=f"building {name!r}"):
            held.add(key)
            try:
                return self._build(path, builder)
            finally:
                held.discard(key)

    def _build(self, path: Path, builder: Callable[[Path], object]) -> Path:
        """The slow path of :meth:`get_or_build`, under the artifact's build lock."""
        if path.is_file():
            return path
        name = self._name_of(path)
        if _is_dir(path):
            raise self._taken(path)
        durable = self.config.is_durable
        with temp_sibling(path) as temp:
            built = tables.as_dataframe(builder(temp))
            if _is_dir(temp):  # removed by temp_sibling; a dataset dir is no artifact
                raise ArtifactBuildError(
                    name,
                    repr(builder),
                    "write one file there (a partitioned dataset cannot be one artifact; "
                    "build it outside get_or_build, or into one file)",
                    problem="made a directory at the path it was given, not a file",
                )
            if built is not None:
                if path.suffix.lower() not in tables.SUFFIXES:
                    raise ArtifactPathError(
                        name,
                        f"has no known table format (suffix {path.suffix!r}), so the frame "
                        f"builder {builder!r} returned cannot be written",
                        f"name it with one of {', '.join(tables.SUFFIXES)}, or let the "
                        "builder write the file at the path it is given",
                    )
                tables.write_table_to(built, temp)
            if not temp.is_file():
                raise ArtifactBuildError(
                    name,
                    repr(builder),
                    "write the artifact to the path the builder is given, "
                    "or return a polars DataFrame",
                )
            entry = ManifestEntry.describe(name, temp)
            if durable:
                fsync_file(temp)
            # Published and recorded under the manifest lock, as write_table does: a writer
            # that got there first keeps its file and its entry.
            with self.manifest.recording("building " + name) as record:
                if not publish(temp, path, replace=False, synced=True, sync_dir=False):
                    if _is_dir(path):
                        raise self._taken(path)
                    return path  # written meanwhile by somebody else: theirs stands
                record([entry], (), sync_dir=False)
        if durable:
            for directory in {path.parent, self.layout.artifacts_dir}:
                fsync_dir(directory)
        return path

    # -- versions and cleanup ----------------------------------------------------------

    def publish_version(self) -> str:
        """Snapshot the artifacts as an immutable ``v<N>_<YYYYMMDD>`` dir; swap ``latest``."""
        return versions.publish(self.layout.artifacts_dir)

    def list_versions(self) -> list[str]:
        """Published versions, oldest first."""
        return versions.list_versions(self.layout.artifacts_dir)

    def resolve_version(self, version: str = "latest") -> Path:
        """The dir of ``"latest"`` or of a named version."""
        return versions.resolve(self.layout.artifacts_dir, version)

    def cleanup_old_tests(
        self,
        keep_recent: int = 5,
        *,
        on_error: Callable[[Path, OSError], None] | None = None,
        dry_run: bool = False,
    ) -> list[str]:
        """Remove all but the ``keep_recent`` newest test dirs; returns the names removed.

        ``dry_run=True``: remove nothing, and return the names that would be removed now (the
        dirs in use, below, are left out as the real run leaves them).

        Only real dirs directly in ``tests/`` count: symlinks are neither followed nor
        removed, nothing outside ``tests/`` is reached, production dirs never. A test dir in
        use by a running test (its lock is held), and a shared dir of a session still running
        (``artifact_manager_factory``), are left alone.

        A dir that cannot be removed (an :class:`OSError`: read-only, immutable, another
        user's) never stops the others: it is passed to ``on_error`` with the error (what is
        left of it stays). Without ``on_error`` the first such error is raised once every
        other dir has been removed.

        Raises:
            ArtifactPathError: if ``tests/`` itself is a symlink (nothing is removed).
            OSError: a dir could not be removed, and there is no ``on_error``.
        """
        if isinstance(keep_recent, bool) or not isinstance(keep_recent, int) or keep_recent < 0:
            raise ArtifactUsageError(
                "cleanup_old_tests(keep_recent=...)",
                keep_recent,
                "is not a count",
                "pass a whole number >= 0",
            )
        from artifact_manager.storage.locks import is_held
        from artifact_manager.storage.retention import (
            read_shared_session,
            session_is_live,
            session_lock_path,
        )

        tests_root = self.layout.tests_root

        def in_use(root: Path) -> bool:
            """What the real run leaves alone, told without writing anything (the dry run may
            look at a read-only tree; ``session_is_live`` opens the session lock for writing
            and removes a dead session's)."""
            if is_held(lock_path_for(root)):
                return True
            shared_by = read_shared_session(root)
            if shared_by is None:
                return False
            session_lock = session_lock_path(tests_root, shared_by)
            try:
                return is_held(session_lock)
            except ArtifactPathError:  # as session_is_live: a planted symlink proves nothing,
                return not os.path.islink(session_lock)  # an unreadable lock may be live

        removed = []
        errors = RemovalErrors(on_error)
        for name in old_dirs(tests_root, keep_recent, skip=is_internal_name):
            root = tests_root / name
            if dry_run:
                if not in_use(root):
                    removed.append(name)
                continue
            try:
                with acquire(lock_path_for(root), timeout=0, owner="cleanup_old_tests"):
                    shared_by = read_shared_session(root)
                    if shared_by is not None and session_is_live(tests_root, shared_by):
                        continue  # a running session's shared dir: in use between its tests
                    if errors.remove(remove_tree, root):
                        removed.append(name)
            except ArtifactLockTimeout:
                continue
        errors.raise_first()
        return removed

    def _link_on_the_way(self, name: str) -> str | None:
        """The first symlink on the way from the artifacts dir to artifact ``name`` (its
        parts, then the file itself), as the name of the link; None if there is none."""
        current = self.layout.artifacts_dir
        parts = PurePath(name).parts
        for index, part in enumerate(parts):
            current = current / part
            if os.path.islink(current):
                return "/".join(parts[: index + 1])
        return None

    def _name_of(self, path: Path) -> str:
        return path.relative_to(self.layout.artifacts_dir).as_posix()

    def _exists(self, path: Path) -> ArtifactExistsError:
        return ArtifactExistsError(
            path, "pass force=True to replace it, or publish a version first"
        )

    def _taken(self, path: Path) -> ArtifactPathError:
        """The error for a name held by a dir (no file can replace it)."""
        return ArtifactPathError(
            self._name_of(path),
            f"is a directory ({str(path)!r}), so no artifact can be written there",
            "remove it, or choose another name",
        )

    # -- summary -----------------------------------------------------------------------

    def get_summary(self) -> dict[str, Any]:
        """What this manager manages, as a JSON-ready dict."""
        artifacts_dir = self.layout.artifacts_dir
        config = self.config
        return {
            "mode": self.mode,
            "coverage": config.coverage,
            "source": config.source,
            "build": config.build,
            "base_model": config.base_model,
            "test_name": config.test_name,
            "base_dir": str(self.base_dir),
            "artifacts_dir": str(artifacts_dir),
            "artifacts_exist": artifacts_dir.is_dir(),
            "artifact_count": len(self.list_artifacts("*")),
            "overwrite_policy": "always" if self.mode == "test" else "explicit_only",
        }

    def print_summary(self) -> None:
        """Print :meth:`get_summary` as aligned ``key: value`` lines."""
        summary = self.get_summary()
        width = max(len(k) for k in summary)
        print("Artifact manager summary")
        for key, value in summary.items():
            print(f"  {key.ljust(width)}  {value}")


def _is_dir(path: Path) -> bool:
    """True if ``path`` is a real dir (not a symlink to one, which a rename replaces)."""
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def _held_builds() -> set[str]:
    """The build locks this thread holds (see :data:`_building`)."""
    held: set[str] | None = getattr(_building, "locks", None)
    if held is None:
        held = _building.locks = set()
    return held


def _maybe_create(path: Path, create: bool) -> Path:
    if create:
        # Top down (os.makedirs), not leaf first as Path.mkdir(parents=True) does: a fresh
        # test dir costs three mkdirs, not five (two of them failing, each one audited).
        os.makedirs(path, exist_ok=True)
    return path


def create_artifact_manager_from_workflow_config(
    mode: Mode | None = None,
    coverage: Coverage | None = None,
    source: str = DEFAULT_SOURCE,
    build: str = DEFAULT_BUILD,
    base_model: str = DEFAULT_BASE_MODEL,
    test_name: str | None = None,
    data_root: str | os.PathLike[str] = DEFAULT_DATA_ROOT,
) -> ArtifactManager:
    """A manager from a workflow's loose settings (``coverage=None`` means gene_subset)."""
    config = ArtifactConfig(
        mode=mode,
        coverage=coverage if coverage is not None else "gene_subset",
        source=source,
        build=build,
        base_model=base_model,
        test_name=test_name,
        data_root=Path(data_root),
    )
    return ArtifactManager(config)
