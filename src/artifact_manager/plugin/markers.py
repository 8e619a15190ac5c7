"""The plugin's markers: registered at configure, each test's read once at collection.

``@pytest.mark.artifacts(...)`` sets a test's layout; ``@pytest.mark.allow_production_writes
(reason=...)`` exempts it from the guard. One pass over each item's markers at collection
checks the exemption's reason and notes which of the two the item carries, so running the
test asks no marker again (``item.get_closest_marker`` walks every parent node).
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

__all__ = [
    "ARTIFACTS",
    "EXEMPT",
    "is_exempt",
    "marks_of",
    "note_markers",
    "register_markers",
]

ARTIFACTS = "artifacts"
EXEMPT = "allow_production_writes"

#: (exempt, has an ``artifacts`` marker) of each collected item.
_MARKS = pytest.StashKey[tuple[bool, bool]]()


def register_markers(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{ARTIFACTS}(source=..., build=..., base_model=..., coverage=...): "
        "artifact layout for this test (the mode stays test)",
    )
    config.addinivalue_line(
        "markers",
        f"{EXEMPT}(reason=...): exempt this test from the production guard "
        "(the reason is required)",
    )


def _check_reason(item: pytest.Item, marker: pytest.Mark) -> None:
    """A missing or empty reason on the exemption marker is a usage error."""
    reason = marker.kwargs.get("reason", marker.args[0] if marker.args else None)
    if not isinstance(reason, str) or not reason.strip():
        raise pytest.UsageError(
            f"{item.nodeid}: @pytest.mark.{EXEMPT} needs a reason, e.g. "
            f'@pytest.mark.{EXEMPT}(reason="regenerates the reference build")'
        )


def note_markers(items: Sequence[pytest.Item]) -> None:
    """At collection: check every exemption's reason and note each item's markers."""
    for item in items:
        exempt = artifacts = False
        for marker in item.iter_markers():
            if marker.name == EXEMPT:
                _check_reason(item, marker)
                exempt = True
            elif marker.name == ARTIFACTS:
                artifacts = True
        item.stash[_MARKS] = (exempt, artifacts)


def marks_of(item: pytest.Item) -> tuple[bool, bool]:
    """(exempt: marked ``allow_production_writes``, has an ``artifacts`` marker (on it or
    on a class or module of it)), as noted at collection."""
    marks = item.stash.get(_MARKS, None)
    if marks is None:  # an item that skipped collection's hooks: asked now, once
        marks = item.stash[_MARKS] = (
            item.get_closest_marker(EXEMPT) is not None,
            item.get_closest_marker(ARTIFACTS) is not None,
        )
    return marks


def is_exempt(item: pytest.Item) -> bool:
    """True for a test marked ``allow_production_writes``."""
    return marks_of(item)[0]
