from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import time

import pytest

from artifact_manager import ArtifactConfig, ArtifactManager, ArtifactUsageError
from artifact_manager.errors import ArtifactPathError
from artifact_manager.layout import lock_path_for
from artifact_manager.storage.locks import acquire


def make_tests(data_root, names):
    managers = []
    for index, name in enumerate(names):
        manager = ArtifactManager(ArtifactConfig(mode="test", test_name=name, data_root=data_root))
        out = manager.get_artifacts_dir(create=True)
        (out / "x.tsv").write_text(name)
        stamp = time.time() - 1000 + index  # oldest first
        os.utime(manager.get_test_root(), (stamp, stamp))
        managers.append(manager)
    return managers


def test_keeps_the_newest_and_removes_the_rest(data_root, production):
    managers = make_tests(data_root, [f"t{i}" for i in range(7)])
    production.write_table(__import__("polars").DataFrame({"a": [1]}), "prod.tsv")
    removed = managers[0].cleanup_old_tests(keep_recent=5)
    assert removed == ["t0", "t1"]
    tests_root = managers[0].layout.tests_root
    assert sorted(p.name for p in tests_root.iterdir() if not p.name.startswith(".")) == [
        f"t{i}" for i in range(2, 7)
    ]
    assert production.validate_artifacts().ok
    assert managers[0].cleanup_old_tests(keep_recent=0) == [f"t{i}" for i in range(2, 7)]


def test_symlinks_are_never_followed_nor_counted(data_root, tmp_path, production):
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "data.tsv").write_text("keep me")
    managers = make_tests(data_root, ["t0", "t1"])
    tests_root = managers[0].layout.tests_root
    os.symlink(precious, tests_root / "a_link_to_precious")
    os.symlink(production.get_artifacts_dir(create=True), tests_root / "link_to_production")
    os.symlink(precious, managers[0].get_artifacts_dir() / "inner_link")
    (production.get_artifacts_dir() / "p.tsv").write_text("production")
    assert managers[0].cleanup_old_tests(keep_recent=0) == ["t0", "t1"]
    assert (precious / "data.tsv").read_text() == "keep me"
    assert (production.get_artifacts_dir() / "p.tsv").read_text() == "production"
    assert (tests_root / "a_link_to_precious").is_symlink()


def test_a_tests_root_that_is_a_symlink_is_refused_and_its_target_untouched(testing, tmp_path):
    projects = tmp_path / "home" / "projects"
    (projects / "thesis").mkdir(parents=True)
    (projects / "thesis" / "ch1.tex").write_text("precious")
    (projects / "code").mkdir()
    tests_root = testing.layout.tests_root
    tests_root.parent.mkdir(parents=True)
    tests_root.symlink_to(projects, target_is_directory=True)
    with pytest.raises(ArtifactPathError) as caught:
        testing.cleanup_old_tests(keep_recent=0)
    message = str(caught.value)
    assert str(tests_root) in message
    assert "is a symlink" in message
    assert "replace the symlink with a real dir" in message
    assert sorted(os.listdir(projects)) == ["code", "thesis"]
    assert (projects / "thesis" / "ch1.tex").read_text() == "precious"


def test_a_symlinked_data_root_is_cleaned_as_usual(tmp_path):
    real = tmp_path / "real_data"
    real.mkdir()
    linked = tmp_path / "data"
    linked.symlink_to(real, target_is_directory=True)
    managers = make_tests(linked, ["t0", "t1"])
    assert managers[0].cleanup_old_tests(keep_recent=1) == ["t0"]
    assert not managers[0].get_test_root().exists()
    assert managers[1].get_test_root().is_dir()


def test_a_dir_in_use_is_left_alone(data_root):
    managers = make_tests(data_root, ["busy", "idle"])
    with acquire(lock_path_for(managers[0].get_test_root()), timeout=0, owner="a test"):
        assert managers[0].cleanup_old_tests(keep_recent=0) == ["idle"]
    assert managers[0].get_test_root().is_dir()


def test_missing_tests_root_removes_nothing(testing):
    assert testing.cleanup_old_tests() == []


@pytest.mark.parametrize("keep", [-1, 1.5, "5", True])
def test_bad_keep_recent_is_refused(testing, keep):
    with pytest.raises(ArtifactUsageError, match="keep_recent"):
        testing.cleanup_old_tests(keep_recent=keep)


DROP_CAPS = ["--bounding-set=-dac_override,-dac_read_search,-fowner"]
DROP_CAPS.append("--inh-caps=-dac_override,-dac_read_search,-fowner")


def run_without_override(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a Python that honours file permissions even as root (setpriv drops
    the override capabilities); as another user, a plain Python does."""
    if os.geteuid() != 0:
        command = [sys.executable, "-c", code, *args]
    elif shutil.which("setpriv") is None:
        pytest.skip("root without setpriv: cannot drop the capabilities that bypass permissions")
    else:
        command = ["setpriv", *DROP_CAPS, sys.executable, "-c", code, *args]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if "setpriv" in done.stderr and done.returncode != 0:
        pytest.skip(f"setpriv cannot drop capabilities here: {done.stderr.strip()}")
    return done


def test_read_only_dirs_inside_the_tree_are_removed_and_nothing_outside_is_touched(tmp_path):
    tree = tmp_path / "test_dir"
    published = tree / "meta_models" / "v1"  # as publish_version leaves a test-mode version
    (published / "sub").mkdir(parents=True)
    (published / "sub" / "t.tsv").write_text("x")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.tsv").write_text("production")
    (published / "link").symlink_to(outside, target_is_directory=True)
    for path in [outside, published / "sub", published]:
        path.chmod(0o555)
    try:
        done = run_without_override(
            "import sys; from pathlib import Path\n"
            "from artifact_manager.storage.cleanup import remove_tree\n"
            "print(remove_tree(Path(sys.argv[1])))",
            str(tree),
        )
        assert (done.returncode, done.stdout.strip()) == (0, "True"), done.stderr
        assert not tree.exists()
        assert stat.S_IMODE(os.lstat(outside).st_mode) == 0o555  # never made writable
        assert (outside / "keep.tsv").read_text() == "production"
    finally:
        outside.chmod(0o755)


def tree_state(root):
    """Every path under ``root`` with its kind, mode and mtime: what a write would change."""
    state = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [*dirnames, *filenames]:
            path = os.path.join(dirpath, name)
            info = os.lstat(path)
            state[os.path.relpath(path, root)] = (stat.S_IFMT(info.st_mode), info.st_mtime_ns)
    return state


def dry_run_tree(data_root):
    """Old test dirs: ``busy`` (its lock held by the caller), ``idle`` (never locked),
    ``idle-locked`` (a lock file nobody holds), ``live-shared`` (a running session's shared
    dir) and ``dead-shared`` (a dead session's, its lock file left behind)."""
    from artifact_manager.storage.retention import hold_session, write_shared_session

    tests_root = data_root / "ensembl" / "GRCh37" / "spliceai_eval" / "tests"
    for name in ["busy", "dead-shared", "idle", "idle-locked", "live-shared"]:
        (tests_root / name).mkdir(parents=True)
    acquire(lock_path_for(tests_root / "idle-locked"), timeout=0, owner="a test").release()
    write_shared_session(tests_root / "live-shared", "live-session")
    write_shared_session(tests_root / "dead-shared", "dead-session")
    hold_session(tests_root, "dead-session").release()  # its lock file stays, unheld
    busy = acquire(lock_path_for(tests_root / "busy"), timeout=0, owner="a running test")
    return tests_root, [busy, hold_session(tests_root, "live-session")]


def test_a_dry_run_writes_nothing_and_leaves_out_the_dirs_in_use(data_root):
    tests_root, locks = dry_run_tree(data_root)
    (tests_root / ".artifacts.locks" / "idle-locked.lock").unlink()
    os.rmdir(tests_root / "idle-locked")
    (tests_root / "never-locked").mkdir()
    before = tree_state(data_root)
    manager = ArtifactManager(ArtifactConfig(mode="production", data_root=data_root))
    try:
        assert sorted(manager.cleanup_old_tests(keep_recent=0, dry_run=True)) == [
            "dead-shared",
            "idle",
            "never-locked",
        ]
    finally:
        for lock in locks:
            lock.release()
    assert tree_state(data_root) == before  # no lock file made, the dead session's not removed


def test_a_dry_run_on_a_read_only_mount_answers_as_on_a_writable_one(data_root):
    """A real read-only bind mount (as root, in a private mount namespace): the dry run
    neither crashes nor changes its answer, and still leaves out the dirs in use."""
    _, locks = dry_run_tree(data_root)
    before = tree_state(data_root)
    code = (
        "import sys\nfrom pathlib import Path\n"
        "from artifact_manager import ArtifactConfig, ArtifactManager\n"
        "m = ArtifactManager(ArtifactConfig(mode='production', data_root=Path(sys.argv[1])))\n"
        "print(' '.join(sorted(m.cleanup_old_tests(keep_recent=0, dry_run=True))))\n"
    )
    # $0 the data root, $1 python, $2 the code; 97: no read-only bind mount to be had here
    mount = (
        'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" || exit 97; '
        '! touch "$0/probe" 2>/dev/null || exit 97; exec "$1" -c "$2" "$0"'
    )
    try:
        if os.geteuid() != 0 or shutil.which("unshare") is None:
            pytest.skip("needs root and unshare for a read-only bind mount")
        done = subprocess.run(
            ["unshare", "-m", "sh", "-c", mount, str(data_root), sys.executable, code],
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        for lock in locks:
            lock.release()
    if done.returncode == 97 or "unshare:" in done.stderr:
        pytest.skip(f"no read-only bind mount here: {done.stderr.strip()}")
    assert (done.returncode, done.stdout, done.stderr) == (0, "dead-shared idle idle-locked\n", "")
    assert tree_state(data_root) == before
