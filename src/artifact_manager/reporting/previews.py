"""Previews of artifact files: a table's schema, row count and first rows; images by link.

Tables are read lazily with polars (``scan_*(...).head(n).collect()``), so a preview of a
large file reads its first rows, not the file. The row count is cheap for parquet and
Arrow IPC (their metadata has it); for text formats polars has to scan the file, so it is
counted only up to :data:`COUNT_LIMIT` bytes. A file polars cannot read gets a
:class:`PreviewFailure` carrying polars' message instead of a preview.

Text tables that polars' defaults misread are read again (:func:`_text_attempts`): a column
whose values change type after the rows polars infers the schema from (``chrom`` 1..22, then
``X``) gets its schema from the whole file (up to :data:`COUNT_LIMIT`; above it every column
is read as text); a ``.tsv`` that fails, or gives no rows although it has lines below its
header, is read with no quote char: TSV has no quoting, so a bare ``"`` (``5" screen``) is
text, while polars' defaults (which read the quoted fields polars' own writer makes) come
first. A text table that still gives no rows from lines below its header gets a
:class:`PreviewFailure` saying so, never an empty preview.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "COUNT_LIMIT",
    "IMAGE_SUFFIXES",
    "TABLE_SUFFIXES",
    "ImagePreview",
    "Preview",
    "PreviewFailure",
    "TablePreview",
    "preview_file",
]

#: Suffixes previewed as tables (the formats ``write_table`` writes).
TABLE_SUFFIXES = (".tsv", ".csv", ".parquet", ".ipc", ".arrow", ".ndjson", ".json")
#: Suffixes shown as images (by a link relative to the page, never inlined).
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp")
#: Text tables (csv, tsv, ndjson) larger than this get no row count: counting reads them whole.
COUNT_LIMIT = 256 * 1024 * 1024
#: A ``.json`` table (one JSON document) can only be read whole: larger ones get no preview.
JSON_LIMIT = 8 * 1024 * 1024
#: Cells longer than this are cut, so one long string does not swamp the page.
CELL_CHARS = 80
#: Columns shown in the rows of a preview (the schema lists them all).
MAX_COLUMNS = 40


@dataclass(frozen=True)
class TablePreview:
    """A table's schema ``(name, dtype)``, row count (None: not counted) and first rows."""

    columns: tuple[tuple[str, str], ...]
    rows: tuple[tuple[str | None, ...], ...]
    row_count: int | None

    @property
    def shown_columns(self) -> tuple[tuple[str, str], ...]:
        """The columns the rows hold: the first :data:`MAX_COLUMNS`."""
        return self.columns[:MAX_COLUMNS]


@dataclass(frozen=True)
class ImagePreview:
    """An image, shown by a link to the file."""


@dataclass(frozen=True)
class PreviewFailure:
    """Why a table has no preview (polars' message, or a size limit)."""

    reason: str


Preview = TablePreview | ImagePreview | PreviewFailure


def preview_file(path: Path, rows: int = 10) -> Preview | None:
    """The preview of the file at ``path`` by its suffix; None for other kinds of file."""
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        return ImagePreview()
    if suffix not in TABLE_SUFFIXES:
        return None
    import polars as pl  # only when a page has tables: importing polars takes a while

    # A preview must never cost the report: whatever polars raises on a bad file (including
    # a Rust panic, which is a BaseException) becomes the preview's failure message.
    try:
        return _table_preview(pl, path, suffix, rows)
    except (Exception, pl.exceptions.PanicException) as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
        return PreviewFailure(f"polars could not read it: {type(error).__name__}: {first_line}")


#: Why a text table has no preview when polars reads it without error but finds no rows.
_NO_ROWS = "polars read no rows, though the file has lines below its header (an unmatched quote?)"


def _text_attempts(suffix: str, size: int) -> list[dict[str, Any]]:
    """The options a text table is read with, in order, until one gives a preview."""
    whole: dict[str, Any] = (
        {"infer_schema_length": None} if size <= COUNT_LIMIT else {"infer_schema_length": 0}
    )
    if suffix == ".ndjson":
        return [{}, {"infer_schema_length": None}] if size <= COUNT_LIMIT else [{}]
    attempts = [{}, whole]
    if suffix == ".tsv":
        attempts += [{"quote_char": None}, {"quote_char": None, **whole}]
    return attempts


def _has_body(path: Path) -> bool:
    """Whether ``path`` has a non-blank line below its first (within its first 64 KiB)."""
    with open(path, "rb") as handle:
        start = handle.read(64 * 1024)
    return bool(start.partition(b"\n")[2].strip())


def _table_preview(pl: Any, path: Path, suffix: str, rows: int) -> Preview:
    size = path.stat().st_size
    if suffix == ".json":
        if size > JSON_LIMIT:
            return PreviewFailure(
                f"a .json table is read whole; {size} bytes is over the preview limit of "
                f"{JSON_LIMIT} (write .ndjson or .parquet for large tables)"
            )
        return _preview_of(pl, pl.read_json(path).lazy(), suffix, size, rows)
    if suffix == ".parquet":
        return _preview_of(pl, pl.scan_parquet(path), suffix, size, rows)
    if suffix in (".ipc", ".arrow"):
        return _preview_of(pl, pl.scan_ipc(path), suffix, size, rows)
    # What polars says of the file as written (its defaults): the message if all fail.
    problem: BaseException | str | None = None
    for options in _text_attempts(suffix, size):
        try:
            if suffix == ".ndjson":
                lazy = pl.scan_ndjson(path, **options)
            else:
                lazy = pl.scan_csv(path, separator="\t" if suffix == ".tsv" else ",", **options)
            preview = _preview_of(pl, lazy, suffix, size, rows)
        except (Exception, pl.exceptions.PanicException) as error:
            problem = problem or error
            continue
        if preview.rows or rows <= 0 or not _has_body(path):
            return preview
        problem = problem or _NO_ROWS
    if isinstance(problem, BaseException):
        raise problem
    return PreviewFailure(problem or _NO_ROWS)


def _preview_of(pl: Any, lazy: Any, suffix: str, size: int, rows: int) -> TablePreview:
    schema = lazy.collect_schema()
    head = lazy.head(rows).collect()
    counted = suffix in (".parquet", ".ipc", ".arrow", ".json") or size <= COUNT_LIMIT
    row_count = int(lazy.select(pl.len()).collect().item()) if counted else None
    shown = list(schema.names())[:MAX_COLUMNS]
    return TablePreview(
        columns=tuple((name, str(dtype)) for name, dtype in schema.items()),
        rows=tuple(tuple(_cell(v) for v in row) for row in head.select(shown).rows()),
        row_count=row_count,
    )


def _cell(value: object) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text if len(text) <= CELL_CHARS else text[: CELL_CHARS - 1] + "…"
