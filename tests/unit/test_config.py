from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from artifact_manager import ArtifactConfig, ArtifactConfigError, ArtifactManager, forced_test_mode
from artifact_manager.config import generate_test_name
from artifact_manager.paths import lock_path_for
from artifact_manager.validation import COMPONENT_MAX_BYTES


@pytest.mark.parametrize(
    ("coverage", "expected"),
    [("full_genome", "production"), ("chromosome", "test"), ("gene_subset", "test")],
)
def test_auto_mode_follows_coverage(coverage, expected):
    assert ArtifactConfig(coverage=coverage).mode == expected


def test_explicit_test_mode_is_never_overridden_by_full_genome():
    config = ArtifactConfig(mode="test", coverage="full_genome")
    assert config.mode == "test"
    assert config.test_name is not None


def test_explicit_production_mode_is_kept_for_a_subset():
    assert ArtifactConfig(mode="production", coverage="gene_subset").mode == "production"


def test_defaults_are_the_seeds():
    config = ArtifactConfig(test_name="t")
    assert (config.coverage, config.source, config.build, config.base_model) == (
        "gene_subset",
        "ensembl",
        "GRCh37",
        "spliceai",
    )
    assert config.data_root == Path("data")


def test_production_config_gets_no_generated_test_name():
    assert ArtifactConfig(mode="production").test_name is None


def test_data_root_given_as_str_becomes_a_path():
    assert ArtifactConfig(test_name="t", data_root="x/y").data_root == Path("x/y")  # type: ignore[arg-type]


def test_config_is_frozen():
    config = ArtifactConfig(test_name="t")
    with pytest.raises(AttributeError):
        config.mode = "production"  # type: ignore[misc]


def test_generated_names_are_unique_within_one_process():
    names = {ArtifactConfig().test_name for _ in range(2000)}
    assert len(names) == 2000


def test_generated_names_are_unique_across_processes_started_in_the_same_second():
    code = "from artifact_manager.config import generate_test_name as g; print(g())"
    procs = [
        subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
        for _ in range(8)
    ]
    names = [p.communicate()[0].strip() for p in procs]
    assert all(n.startswith("test_") for n in names)
    assert len(set(names)) == len(names)


@pytest.mark.parametrize(
    "value", ["GRCh38 patch 13", "\u00e9t\u00e9", "\u0645\u0635\u062f\u0631", "x-1.2_b"]
)
def test_names_with_inner_spaces_accents_or_other_scripts_are_fine(value):
    assert ArtifactConfig(build=value).build == value


def test_generated_name_is_a_valid_test_name():
    ArtifactConfig(test_name=generate_test_name())


BAD_COMPONENTS = [
    pytest.param("", "is empty", id="empty"),
    pytest.param("   ", "is empty", id="blank"),
    pytest.param(".", "relative dir", id="dot"),
    pytest.param("..", "relative dir", id="dotdot"),
    pytest.param("a/b", "path separator", id="slash"),
    pytest.param("a\\b", "path separator", id="backslash"),
    pytest.param("a..b", "'..'", id="dotdot-inside"),
    pytest.param("a\x00b", "control character", id="nul"),
    pytest.param("a\nb", "control character", id="newline"),
    pytest.param("a\x1bb", "control character", id="escape"),
    pytest.param("GRCh38 ", "starts or ends with whitespace", id="trailing-space"),
    pytest.param("\tGRCh38", "control character", id="leading-tab"),
    pytest.param("\u00a0GRCh38", "starts or ends with whitespace", id="leading-nbsp"),
    pytest.param("a\u200bb", "U+200B (ZERO WIDTH SPACE)", id="zero-width-space"),
    pytest.param("\u202eevil", "U+202E (RIGHT-TO-LEFT OVERRIDE)", id="rtl-override"),
    pytest.param("a\u2028b", "U+2028 (LINE SEPARATOR)", id="line-separator"),
    pytest.param("e\u0301", "NFC form ('e\\u0301'; in NFC it is '\\xe9')", id="not-nfc"),
    pytest.param(3, "must be a string", id="not-a-string"),
    pytest.param(".artifacts.locks", "reserved", id="reserved-locks"),
    pytest.param(".artifacts.trash", "reserved", id="reserved-trash"),
    pytest.param(".artifacts.kept.json", "reserved", id="reserved-keep-marker"),
]


@pytest.mark.parametrize("field", ["source", "build", "base_model", "test_name"])
@pytest.mark.parametrize(("value", "problem"), BAD_COMPONENTS)
def test_bad_component_raises_naming_field_and_value(field, value, problem):
    kwargs = {"test_name": "t", field: value}
    with pytest.raises(ArtifactConfigError) as info:
        ArtifactConfig(**kwargs)
    error = info.value
    assert isinstance(error, ValueError)
    assert (error.field, error.value) == (field, value)
    assert field in str(error)
    assert repr(value) in str(error)
    assert problem in str(error)


@pytest.mark.parametrize(
    ("field", "value"), [("mode", "prod"), ("mode", "TEST"), ("coverage", "genome")]
)
def test_unknown_mode_or_coverage_lists_the_choices(field, value):
    with pytest.raises(ArtifactConfigError, match=f"invalid {field}='{value}'.*use one of"):
        ArtifactConfig(**{field: value})


def test_nul_in_data_root_is_refused():
    with pytest.raises(ArtifactConfigError, match="data_root"):
        ArtifactConfig(data_root=Path("a\x00b"))


def test_forced_test_mode_overrides_production_and_the_given_name():
    with forced_test_mode("forced_name"):
        config = ArtifactConfig(mode="production", coverage="full_genome", test_name="other")
    assert (config.mode, config.test_name) == ("test", "forced_name")


def test_forced_test_mode_ends_with_the_block():
    with forced_test_mode("forced_name"):
        pass
    assert ArtifactConfig(coverage="full_genome").mode == "production"


def test_a_reserved_name_says_the_prefix_is_reserved_and_what_to_do():
    with pytest.raises(ArtifactConfigError) as info:
        ArtifactConfig(test_name=".artifacts.locks")
    assert str(info.value) == (
        "invalid test_name='.artifacts.locks': starts with '.artifacts.', a prefix reserved for "
        "the manager's own files (locks, trash, keep markers); choose a test_name that does not "
        "start with '.artifacts.'"
    )


@pytest.mark.parametrize("name", ["artifacts.locks", ".artifactsx", "my.artifacts.locks"])
def test_names_that_only_resemble_the_reserved_prefix_are_fine(name):
    assert ArtifactConfig(test_name=name).test_name == name


def test_forced_test_mode_rejects_a_reserved_name():
    with pytest.raises(ArtifactConfigError, match="reserved"), forced_test_mode(".artifacts.x"):
        pass


def test_forced_test_mode_rejects_a_bad_name():
    with pytest.raises(ArtifactConfigError, match="test_name"), forced_test_mode("../x"):
        pass


@pytest.mark.parametrize("field", ["source", "build", "base_model", "test_name"])
@pytest.mark.parametrize(
    ("value", "size"),
    [
        pytest.param("a" * 300, 300, id="300-characters"),
        pytest.param("a" * 251, 251, id="one-byte-over"),
        pytest.param("é" * 200, 400, id="200-characters-400-bytes"),
    ],
)
def test_a_name_too_long_for_one_dir_is_refused_naming_its_bytes_and_the_limit(field, value, size):
    with pytest.raises(ArtifactConfigError) as info:
        ArtifactConfig(**{"test_name": "t", field: value})
    assert (info.value.field, info.value.value) == (field, value)
    assert str(info.value) == (
        f"invalid {field}={value!r}: is {size} bytes long ({len(value)} characters, in UTF-8), "
        f"more than the {COMPONENT_MAX_BYTES} a name may have (a file name may have 255 bytes, "
        f"and the layout appends up to 5: '_eval', '.lock'); use a {field} of at most "
        f"{COMPONENT_MAX_BYTES} bytes"
    )


def test_the_longest_names_accepted_make_real_dirs_and_locks(tmp_path):
    longest = "a" * COMPONENT_MAX_BYTES
    config = ArtifactConfig(
        mode="test",
        source=longest,
        build=longest,
        base_model=longest,
        test_name=longest,
        data_root=tmp_path,
    )
    manager = ArtifactManager(config)
    assert manager.get_artifacts_dir(create=True).is_dir()  # <base_model>_eval: 255 bytes
    lock = lock_path_for(manager.layout.tests_root / longest)  # <test_name>.lock: 255 bytes
    lock.parent.mkdir()
    lock.touch()
