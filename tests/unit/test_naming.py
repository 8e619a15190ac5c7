from __future__ import annotations

import re
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from artifact_manager import ArtifactConfig, ArtifactManager, nodeid_to_test_name
from artifact_manager.naming import MAX_LENGTH

SAFE = re.compile(r"[A-Za-z0-9._-]+")

NASTY = [
    "",
    "..",
    ".",
    "-",
    "a/b",
    "a_b",
    "a\\b",
    "tests/test_x.py::test_a[a::b]",
    "tests/test_x.py::test_a[a_b]",
    "tests/test_x.py::TestA::test_a",
    "tests/test_x.py::testa::test_a",
    "tests/test_x.py::Testa::test_a",
    "tests/test_x.py::test_é[ü-日本]",
    "tests/test_x.py::test_e[u-]",
    "tests/test x.py::test a[with space]",
    "tests/test_x.py::test_a[" + "p" * 1000 + "]",
    "tests/test_x.py::test_a[" + "p" * 999 + "q]",
    "tests/test_x.py::test_a[../../etc]",
    "tests/test_x.py::test_a[\x00\n\t]",
    "-rf.py::test_a",
    ".hidden/.py::test",
    "/abs/path.py::test",
    "a" * 5000,
    "a" * 5000 + "b",
    "x" * 300 + "/test_deep.py::test_a",
]


def assert_well_formed(name: str) -> None:
    assert SAFE.fullmatch(name), name
    assert len(name) <= MAX_LENGTH
    assert len(name.encode("utf-8")) <= MAX_LENGTH  # bytes, which file name limits count
    assert name not in (".", "..")
    assert ".." not in name
    assert not name.startswith((".", "-"))
    ArtifactConfig(test_name=name)  # the config accepts every generated name


@pytest.mark.parametrize("nodeid", NASTY, ids=range(len(NASTY)))
def test_nasty_ids_give_well_formed_names(nodeid):
    assert_well_formed(nodeid_to_test_name(nodeid))


def test_nasty_ids_are_injective_even_case_folded():
    names = [nodeid_to_test_name(n).casefold() for n in NASTY]
    assert len(set(names)) == len(NASTY)


@pytest.mark.parametrize(
    ("nodeid", "readable"),
    [
        (
            "tests/io/test_tables.py::TestWrite::test_tsv[a-1]",
            "tests.io.test_tables.TestWrite.test_tsv-a-1-",
        ),
        ("test_x.py::test_plain", "test_x.test_plain-"),
        ("test_x.py::test_p[a::b/c]", "test_x.test_p-a_b_c-"),
        ("", "test-"),
    ],
)
def test_names_are_readable(nodeid, readable):
    name = nodeid_to_test_name(nodeid)
    assert name.startswith(readable)
    assert re.fullmatch(r"[0-9a-f]{12}", name[len(readable) :])


def test_long_path_drops_leading_dirs_but_keeps_module_and_function():
    nodeid = "/".join(["deeply_nested_dir"] * 20) + "/test_mod.py::TestC::test_func[p1]"
    name = nodeid_to_test_name(nodeid)
    readable = name[: -len("-0123456789ab")]
    assert readable.endswith(".test_mod.TestC.test_func-p1")
    assert readable.startswith("deeply_nested_dir.")  # whole dirs dropped, none cut
    assert len(name) <= MAX_LENGTH


def test_long_params_are_cut_to_the_limit():
    name = nodeid_to_test_name("t.py::test_f[" + "x" * 1000 + "]")
    assert len(name) == MAX_LENGTH
    assert name.startswith("t.test_f-xxx")


@pytest.mark.parametrize(
    "nodeid",
    [
        pytest.param("t.py::test_f[" + "p" * 400 + "]", id="400-character-param-id"),
        pytest.param("t.py::test_f[" + "日本" * 100 + "]", id="200-characters-600-bytes"),
        pytest.param("t.py::test_f[" + "é" * 200 + "]", id="accents-400-bytes"),
        pytest.param("t" * 300 + ".py::test_" + "🧬" * 100, id="long-module-and-emoji"),
    ],
)
def test_long_and_multibyte_ids_still_get_a_dir(nodeid, tmp_path):
    name = nodeid_to_test_name(nodeid)
    assert_well_formed(name)
    config = ArtifactConfig(mode="test", test_name=name, data_root=tmp_path)
    assert ArtifactManager(config).get_artifacts_dir(create=True).is_dir()


def test_same_nodeid_gives_the_same_name_in_another_process():
    nodeid = "tests/test_x.py::TestA::test_é[ü-1]"
    code = f"from artifact_manager import nodeid_to_test_name as n; print(n({nodeid!r}))"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "123", "PATH": ""},
    )
    assert out.stdout.strip() == nodeid_to_test_name(nodeid)


node_ids = st.text(min_size=0, max_size=300)
# No deadlines: these check properties, not speed (a loaded CI machine took 350 ms once).


@settings(max_examples=500, deadline=None)
@given(node_ids)
def test_every_name_is_well_formed(nodeid):
    assert_well_formed(nodeid_to_test_name(nodeid))


@settings(max_examples=500, deadline=None)
@given(node_ids, node_ids)
def test_different_ids_never_share_a_name_even_case_folded(a, b):
    if a != b:
        assert nodeid_to_test_name(a).casefold() != nodeid_to_test_name(b).casefold()


@settings(deadline=None)
@given(st.text(alphabet="aAbB/:[]._- ", min_size=0, max_size=200))
def test_ids_differing_only_in_case_or_separators_stay_apart(nodeid):
    variants = {nodeid, nodeid.swapcase(), nodeid.replace("/", "_"), nodeid.replace("::", "_")}
    names = {nodeid_to_test_name(v).casefold() for v in variants}
    assert len(names) == len(variants)
