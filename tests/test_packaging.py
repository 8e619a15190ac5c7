"""What a user installs: the sdist and wheel are complete and their metadata says what is true.

The distributions come from `ARTIFACT_MANAGER_DIST` (a dir holding one sdist and one wheel;
.ci/run builds them once and sets it) or, without it, are built here with `python -m build`
(a few seconds). The metadata is validated with `packaging.metadata`, the validator PyPI runs
on upload (packaging comes with pytest).
"""

from __future__ import annotations

import configparser
import os
import re
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.metadata import Metadata
from packaging.requirements import Requirement
from packaging.version import Version

import artifact_manager

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "src" / "artifact_manager"
DIST_ENV = "ARTIFACT_MANAGER_DIST"
UNDER_TEST_ENV = "ARTIFACT_MANAGER_UNDER_TEST"


@dataclass(frozen=True)
class Dists:
    wheel: Path
    sdist: Path

    def wheel_names(self) -> list[str]:
        with zipfile.ZipFile(self.wheel) as archive:
            return archive.namelist()

    def wheel_text(self, name: str) -> str:
        with zipfile.ZipFile(self.wheel) as archive:
            return archive.read(name).decode()

    def dist_info(self) -> str:
        (info,) = {n.split("/")[0] for n in self.wheel_names() if ".dist-info/" in n}
        return info

    def metadata(self) -> Metadata:
        return Metadata.from_email(self.wheel_text(f"{self.dist_info()}/METADATA"), validate=True)

    def sdist_names(self) -> list[str]:
        with tarfile.open(self.sdist) as archive:
            return archive.getnames()

    def sdist_text(self, name: str) -> str:
        with tarfile.open(self.sdist) as archive:
            member = archive.extractfile(name)
            assert member is not None, f"{name} is not a regular file in {self.sdist}"
            return member.read().decode()


def find_dists(where: Path) -> Dists:
    wheels = sorted(where.glob("pytest_artifact_manager-*.whl"))
    sdists = sorted(where.glob("pytest_artifact_manager-*.tar.gz"))
    found = sorted(p.name for p in where.iterdir())
    remedy = f"expected one wheel and one sdist in {where}, found {found}; empty it and rebuild"
    assert len(wheels) == 1, remedy
    assert len(sdists) == 1, remedy
    return Dists(wheels[0], sdists[0])


@pytest.fixture(scope="session")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Dists:
    given = os.environ.get(DIST_ENV)
    if given:
        return find_dists(Path(given))
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(REPO)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, (
        f"python -m build failed (is `build` installed? pip install -e '.[dev]'):\n"
        f"{result.stdout}{result.stderr}"
    )
    return find_dists(out)


def package_files() -> set[str]:
    """The files of the source package, as wheel paths (`artifact_manager/...`)."""
    return {
        path.relative_to(PACKAGE.parent).as_posix()
        for path in PACKAGE.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def readme_supported_versions() -> tuple[tuple[str, str], set[str]]:
    """The README's "Supported versions" line: the Python range and the requirements."""
    lines = [line for line in (REPO / "README.md").read_text().splitlines() if "Supported" in line]
    assert len(lines) == 1, f"README.md needs exactly one 'Supported versions' line, has {lines}"
    python = re.search(r"Python (3\.\d+)[-\N{EN DASH}](3\.\d+)", lines[0])
    assert python, f"no 'Python 3.X-3.Y' range in the README line {lines[0]!r}"
    return (python[1], python[2]), set(re.findall(r"`([a-z-]+>=[\d.]+)`", lines[0]))


def runtime_requirements(metadata: Metadata) -> dict[str, Requirement]:
    return {
        req.name: req
        for req in metadata.requires_dist or []
        if req.marker is None or "extra" not in str(req.marker)
    }


def python_classifiers(metadata: Metadata) -> list[str]:
    prefix = "Programming Language :: Python :: "
    found = [c.removeprefix(prefix) for c in metadata.classifiers or [] if c.startswith(prefix)]
    return sorted((v for v in found if re.fullmatch(r"3\.\d+", v)), key=Version)


# --- the wheel ---------------------------------------------------------------------------


def test_the_wheel_holds_the_whole_package_and_nothing_else(dists):
    names = set(dists.wheel_names())
    info = dists.dist_info()
    assert {n for n in names if not n.startswith(f"{info}/")} == package_files()
    assert "artifact_manager/py.typed" in names
    version = dists.metadata().version
    assert dists.wheel.name == f"pytest_artifact_manager-{version}-py3-none-any.whl"


def test_the_wheel_carries_the_licence(dists):
    info = dists.dist_info()
    assert dists.wheel_text(f"{info}/licenses/LICENSE") == (REPO / "LICENSE").read_text()
    metadata = dists.metadata()
    assert (metadata.license_expression, metadata.license_files) == ("MIT", ["LICENSE"])
    assert "MIT License" in (REPO / "LICENSE").read_text()


def test_the_wheel_registers_the_plugin_and_the_command(dists):
    entry_points = configparser.ConfigParser(delimiters=("=",))
    entry_points.optionxform = str  # type: ignore[assignment,method-assign]
    entry_points.read_string(dists.wheel_text(f"{dists.dist_info()}/entry_points.txt"))
    assert dict(entry_points["pytest11"]) == {"artifact_manager": "artifact_manager.plugin"}
    assert dict(entry_points["console_scripts"]) == {
        "artifact-manager": "artifact_manager.cli:main"
    }


def test_the_wheel_metadata_is_valid_and_complete(dists):
    metadata = dists.metadata()  # validate=True raises on anything PyPI would reject
    assert metadata.name == "pytest-artifact-manager"
    assert str(metadata.requires_python) == ">=3.10"
    assert metadata.description_content_type == "text/markdown"
    assert metadata.description == (REPO / "README.md").read_text()
    assert set(runtime_requirements(metadata)) == {"pytest", "polars", "filelock", "pytest-xdist"}
    for name, req in runtime_requirements(metadata).items():
        assert str(req.specifier).startswith(">="), f"{name} declares no lower bound: {req}"


# --- the sdist ---------------------------------------------------------------------------


def test_the_sdist_holds_the_licence_sources_and_the_same_metadata(dists):
    top = dists.sdist.name.removesuffix(".tar.gz")
    names = set(dists.sdist_names())
    for name in ["LICENSE", "README.md", "CHANGELOG.md", "pyproject.toml", "PKG-INFO"]:
        assert f"{top}/{name}" in names
    assert {f"{top}/src/{name}" for name in package_files()} <= names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert dists.sdist_text(f"{top}/LICENSE") == (REPO / "LICENSE").read_text()
    pkg_info = Metadata.from_email(dists.sdist_text(f"{top}/PKG-INFO"), validate=True)
    wheel = dists.metadata()
    assert (pkg_info.name, pkg_info.version) == (wheel.name, wheel.version)
    assert pkg_info.requires_dist == wheel.requires_dist


# --- what the project says about itself ----------------------------------------------------


def test_the_changelog_opens_with_this_version(dists):
    version = str(dists.metadata().version)
    releases = re.findall(r"^## \[([^\]]+)\]", (REPO / "CHANGELOG.md").read_text(), re.MULTILINE)
    assert releases, "CHANGELOG.md has no '## [X.Y.Z]' release heading"
    assert releases[0] in (version, "Unreleased"), (
        f"CHANGELOG.md starts with {releases[0]}, the package is {version}: add its section"
    )
    assert version in releases, f"CHANGELOG.md has no '## [{version}]' section"


def test_the_readme_supported_versions_are_the_declared_ones(dists):
    (oldest, newest), readme_requirements = readme_supported_versions()
    metadata = dists.metadata()
    declared = {str(req) for req in runtime_requirements(metadata).values()}
    assert readme_requirements == declared, "README's Supported versions line != Requires-Dist"
    assert str(metadata.requires_python) == f">={oldest}"
    classifiers = python_classifiers(metadata)
    assert (classifiers[0], classifiers[-1]) == (oldest, newest)
    assert len(classifiers) == Version(newest).minor - Version(oldest).minor + 1


def test_ci_proves_the_supported_versions(dists):
    """.ci/run's legs use the README's oldest and newest Python and exactly the lower bounds."""
    (oldest, newest), _ = readme_supported_versions()
    ci = (REPO / ".ci" / "run").read_text()
    assert f'OLDEST_PYTHON="{oldest}"' in ci
    assert f'NEWEST_PYTHON="{newest}"' in ci
    lowest = REPO / ".ci" / "lowest.txt"
    pins = {}
    for line in lowest.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            req = Requirement(line)
            pins[req.name] = str(req.specifier)
    for name, req in runtime_requirements(dists.metadata()).items():
        assert pins.get(name) == str(req.specifier).replace(">=", "=="), (
            f"{lowest} must pin {name} to its declared lower bound ({req.specifier})"
        )


# --- which copy the suite tests --------------------------------------------------------------


def test_the_suite_tests_the_intended_copy_of_the_package():
    """.ci/run sets the variable: `source` for the editable install, `wheel` for the legs."""
    expected = os.environ.get(UNDER_TEST_ENV)
    if expected is None:
        pytest.skip(f"{UNDER_TEST_ENV} is not set (.ci/run sets it to 'source' or 'wheel')")
    location = Path(artifact_manager.__file__).resolve()
    from_source = location.is_relative_to(PACKAGE)
    assert expected in ("source", "wheel"), f"{UNDER_TEST_ENV}={expected!r}: use source or wheel"
    assert from_source == (expected == "source"), f"artifact_manager imported from {location}"
    if expected == "wheel":
        assert "site-packages" in location.parts, f"artifact_manager imported from {location}"
