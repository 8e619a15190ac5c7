from __future__ import annotations

import os
import stat
import subprocess
import sys
from datetime import date

import polars as pl
import pytest

from artifact_manager import ArtifactConfig, ArtifactManager, ArtifactPathError

DF = pl.DataFrame({"a": [1, 2, 3]})
TODAY = date.today().strftime("%Y%m%d")

PUBLISHER = """
import sys
from artifact_manager import ArtifactConfig, ArtifactManager

manager = ArtifactManager(ArtifactConfig(mode="production", data_root=sys.argv[1]))
for _ in range(int(sys.argv[2])):
    print(manager.publish_version(), flush=True)
"""


def test_publish_snapshots_and_points_latest_at_the_newest(production):
    production.write_table(DF, "t.tsv")
    first = production.publish_version()
    production.write_table(DF.head(1), "t.tsv", force=True)
    second = production.publish_version()
    assert (first, second) == (f"v1_{TODAY}", f"v2_{TODAY}")
    assert production.list_versions() == [first, second]
    root = production.get_artifacts_dir()
    assert os.readlink(root / "latest") == second
    assert production.resolve_version() == root / second
    assert production.resolve_version(first) == root / first
    # the snapshot is the content at publication time
    assert pl.read_csv(root / first / "t.tsv", separator="\t").height == 3
    assert pl.read_csv(root / second / "t.tsv", separator="\t").height == 1


def test_versions_are_read_only_and_carry_a_valid_manifest(production):
    production.write_table(DF, "sub/t.parquet")
    version = production.resolve_version(production.publish_version())
    for path in [version / "sub" / "t.parquet", version / ".artifacts.manifest.json"]:
        assert not path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    assert not version.stat().st_mode & stat.S_IWUSR
    snapshot = ArtifactManager(
        ArtifactConfig(mode="production", data_root=production.config.data_root)
    )
    from artifact_manager.storage.manifest import Manifest

    assert Manifest(version).validate().ok
    assert snapshot.validate_artifacts().ok  # the versions are not counted as artifacts


def test_versions_sort_by_number_not_text(production):
    production.write_table(DF, "t.tsv")
    names = [production.publish_version() for _ in range(11)]
    assert production.list_versions() == names
    assert production.resolve_version() == production.get_artifacts_dir() / f"v11_{TODAY}"


def test_publishing_nothing_is_refused(production):
    with pytest.raises(ArtifactPathError, match="no artifacts to publish"):
        production.publish_version()


def test_unknown_version_lists_the_known_ones(production):
    with pytest.raises(ArtifactPathError, match="publish a version first"):
        production.resolve_version()
    production.write_table(DF, "t.tsv")
    production.publish_version()
    with pytest.raises(ArtifactPathError, match=f"one of: v1_{TODAY}"):
        production.resolve_version("v9_20200101")
    with pytest.raises(ArtifactPathError):
        production.resolve_version("../meta_models")


def make_latest(path, kind):
    if kind == "dir":
        path.mkdir()
        (path / "mine.txt").write_text("someone's")
    else:
        path.write_text("someone's")


@pytest.mark.parametrize(("kind", "what"), [("dir", "a real dir"), ("file", "a file")])
def test_a_real_latest_is_refused_before_any_version_is_made(production, kind, what):
    production.write_table(DF, "t.tsv")
    first = production.publish_version()
    root = production.get_artifacts_dir()
    latest = root / "latest"
    latest.unlink()
    make_latest(latest, kind)
    before = sorted(os.listdir(root))
    with pytest.raises(ArtifactPathError) as caught:
        production.publish_version()
    assert str(caught.value) == (
        f"{str(latest)!r}: is {what}, not a version pointer; move it aside; 'latest' must be"
        " the symlink publish_version() manages"
    )
    assert sorted(os.listdir(root)) == before  # no v2_..., no staging dir left behind
    assert production.list_versions() == [first]
    assert not latest.is_symlink()
    assert (latest / "mine.txt" if kind == "dir" else latest).read_text() == "someone's"


@pytest.mark.parametrize(("kind", "what"), [("dir", "a real dir"), ("file", "a file")])
def test_resolving_a_real_latest_says_what_it_is(production, kind, what):
    latest = production.get_artifacts_dir(create=True) / "latest"
    make_latest(latest, kind)
    with pytest.raises(ArtifactPathError) as caught:
        production.resolve_version()
    assert str(caught.value).startswith(f"{str(latest)!r}: is {what}, not a version pointer; ")
    assert "does not exist" not in str(caught.value)


def test_a_latest_link_leading_out_is_refused(production, tmp_path):
    root = production.get_artifacts_dir(create=True)
    os.symlink(tmp_path, root / "latest")
    with pytest.raises(ArtifactPathError, match="not a version dir"):
        production.resolve_version()


def test_checkpoint_latest_resolves_through_the_pointer(production):
    models = production.get_model_checkpoint_dir("v1.0", create=True).parent
    assert production.get_model_checkpoint_dir() == models / "latest"  # the seed's meaning
    os.symlink("v1.0", models / "latest")
    assert production.get_model_checkpoint_dir("latest") == models / "v1.0"


def test_two_publishers_get_distinct_versions_and_latest_is_always_valid(production, data_root):
    production.write_table(DF, "t.tsv")
    root = production.get_artifacts_dir()
    publishers = [
        subprocess.Popen(
            [sys.executable, "-c", PUBLISHER, str(data_root), "5"],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    seen_latest = 0
    while any(p.poll() is None for p in publishers):
        if os.path.lexists(root / "latest"):
            assert (root / "latest" / "t.tsv").is_file()  # never missing, never half-made
            seen_latest += 1
    names = [line for p in publishers for line in p.communicate()[0].split()]
    assert all(p.returncode == 0 for p in publishers)
    assert len(names) == len(set(names)) == 10
    assert production.list_versions() == [f"v{n}_{TODAY}" for n in range(1, 11)]
    assert os.readlink(root / "latest") == f"v10_{TODAY}"
    assert seen_latest > 0


def test_a_symlink_named_like_a_version_is_refused(production, tmp_path):
    production.write_table(pl.DataFrame({"a": [1]}), "t.tsv")
    production.publish_version()
    outside = tmp_path / "outside"
    outside.mkdir()
    (production.get_artifacts_dir() / "v9_20240101").symlink_to(outside)
    with pytest.raises(ArtifactPathError, match="is a symlink, not a version dir"):
        production.resolve_version("v9_20240101")
    assert "v9_20240101" not in production.list_versions()


@pytest.mark.parametrize("spelt", ["absolute", "dot-relative", "a link to a link"])
def test_checkpoint_pointers_made_by_hand_resolve(production, spelt):
    # `ln -sfn "$PWD/v1.0" latest` and `ln -s ./v1.0 stable` are how people make them; the
    # seed returned models/latest for those, so they must not be refused as leading out.
    models = production.get_model_checkpoint_dir("v1.0", create=True).parent
    if spelt == "absolute":
        os.symlink(os.path.abspath(models / "v1.0"), models / "latest")
    elif spelt == "dot-relative":
        os.symlink("./v1.0", models / "latest")
    else:
        os.symlink("v1.0", models / "stable")
        os.symlink("stable", models / "latest")
    assert production.get_model_checkpoint_dir("latest") == models / "v1.0"


def test_a_pointer_leading_to_a_dir_in_another_folder_is_still_refused(production, tmp_path):
    models = production.get_model_checkpoint_dir("v1.0", create=True).parent
    (models / "v1.0" / "inner").mkdir()
    os.symlink("v1.0/inner", models / "latest")
    with pytest.raises(ArtifactPathError, match="not a version dir beside it"):
        production.get_model_checkpoint_dir("latest")
