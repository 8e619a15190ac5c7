"""The files a duckdb SQL text writes to, found by a conservative scan (no SQL parser).

Parsed, per statement (statements split at ``;`` outside strings, comments and brackets;
a ``PREPARE <name> AS`` or ``EXPLAIN [ANALYZE]`` prefix is looked through):

- ``COPY <table or (query)> TO '<path>'``: the string literal right after the first ``TO``
  outside brackets;
- ``EXPORT DATABASE [<name> TO] '<dir>'``: the first string literal outside brackets;
- ``ATTACH [DATABASE] [IF NOT EXISTS] '<path>'``: the first string literal, unless its
  bracketed options say ``READ_ONLY`` (``:memory:`` and ``md:`` targets are skipped).

A string literal is ``'...'`` or an escape string ``E'...'`` (backslash escapes decoded).

Comments, quoted identifiers and dollar-quoted strings are skipped as such, so a ``TO`` inside
them (or inside a bracketed query) is not taken for the target.

Not parsed (so not stopped before the write; layer 3 detects the change): a target that is
not a string literal (``COPY t TO getvariable('p')``, a prepared parameter), writes through
a connection opened before the guard was armed, and extensions that write by themselves.
A text without the words COPY, EXPORT or ATTACH costs one regular-expression search.
"""

from __future__ import annotations

import re

__all__ = ["sql_targets"]

_WORTH_SCANNING = re.compile(r"\b(?:copy|export|attach)\b", re.IGNORECASE)
_TOKEN = re.compile(
    r"""
      (?P<space>\s+)
    | (?P<comment>--[^\n]*|/\*.*?(?:\*/|\Z))
    | (?P<string>'(?:[^']|'')*'?)
    | (?P<escaped>[eE]'(?:[^'\\]|\\.|'')*'?)
    | (?P<dollar>\$(?P<tag>[A-Za-z_]*)\$.*?(?:\$(?P=tag)\$|\Z))
    | (?P<ident>"(?:[^"]|"")*"?)
    | (?P<open>[(\[{])
    | (?P<close>[)\]}])
    | (?P<end>;)
    | (?P<word>[A-Za-z_][A-Za-z_0-9]*)
    | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_SKIPPED_TARGETS = (":memory:", "md:", "motherduck:")


def _statements(sql: str) -> list[list[tuple[str, str]]]:
    """Top-level tokens (kind, text) per statement: words upper-cased, strings unquoted."""
    statements: list[list[tuple[str, str]]] = [[]]
    depth = 0
    for match in _TOKEN.finditer(sql):
        kind = match.lastgroup
        text = match.group()
        if kind in ("space", "comment", None):
            continue
        if kind == "open":
            depth += 1
        elif kind == "close":
            depth = max(0, depth - 1)
        elif kind == "end" and depth == 0:
            statements.append([])
        elif depth > 0:
            if kind == "word":  # options such as ATTACH ... (READ_ONLY)
                statements[-1].append(("inner", text.upper()))
        else:
            if kind == "string":
                statements[-1].append(("string", text[1:-1].replace("''", "'")))
            elif kind == "escaped":  # E'...': backslash escapes, as duckdb reads them
                body = _ESCAPE.sub(r"\1", text[2:-1].replace("''", "'"))
                statements[-1].append(("string", body))
            elif kind == "dollar":
                tag_end = text.index("$", 1) + 1
                statements[-1].append(("string", text[tag_end : len(text) - tag_end]))
            elif kind == "word":
                statements[-1].append(("word", text.upper()))
            else:
                statements[-1].append((str(kind), text))
    return [s for s in statements if s]


def _first_string(tokens: list[tuple[str, str]]) -> str | None:
    for kind, text in tokens:
        if kind == "string":
            return text
    return None


def _unwrapped(tokens: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The statement a ``PREPARE <name> AS`` or ``EXPLAIN [ANALYZE]`` prefix runs."""
    words = [text if kind == "word" else "" for kind, text in tokens[:4]]
    if words[:1] == ["PREPARE"] and "AS" in words:
        return tokens[words.index("AS") + 1 :]
    if words[:1] == ["EXPLAIN"]:
        return tokens[2:] if words[1:2] == ["ANALYZE"] else tokens[1:]
    return tokens


def _target(tokens: list[tuple[str, str]]) -> str | None:
    tokens = _unwrapped(tokens)
    if not tokens:
        return None
    first = tokens[0]
    if first == ("word", "COPY"):
        for index, token in enumerate(tokens):
            if token == ("word", "TO"):
                following = tokens[index + 1 : index + 2]
                return following[0][1] if following and following[0][0] == "string" else None
        return None
    if first == ("word", "EXPORT") and tokens[1:2] == [("word", "DATABASE")]:
        return _first_string(tokens)
    if first == ("word", "ATTACH") and not _read_only(tokens):
        return _first_string(tokens)
    return None


def _read_only(tokens: list[tuple[str, str]]) -> bool:
    """``READ_ONLY`` among the bracketed options, not followed by ``false`` (an alias named
    ``read_only`` is no option)."""
    words = [text for kind, text in tokens if kind == "inner"]
    for index, word in enumerate(words):
        if word == "READ_ONLY":
            return words[index + 1 : index + 2] not in (["FALSE"], ["0"])
    return False


def sql_targets(sql: object) -> list[str]:
    """The paths ``sql`` (a str, or a duckdb ``Statement`` with its text in ``query``)
    writes to; see the module docstring for what is recognised."""
    if not isinstance(sql, str):
        sql = getattr(sql, "query", None)  # duckdb.extract_statements() gives Statements
    if not isinstance(sql, str) or _WORTH_SCANNING.search(sql) is None:
        return []
    found = []
    for tokens in _statements(sql):
        target = _target(tokens)
        if target and not target.startswith(_SKIPPED_TARGETS):
            found.append(target)
    return found
