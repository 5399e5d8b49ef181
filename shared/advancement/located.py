"""A YAML (or JSON) document as a tree that remembers where everything is: each value with its 1-based line,
each mapping entry with the line of its key, so a refusal can point at the offending line.

Only YAML's plain data survives: mappings with string keys (no duplicates), sequences and scalars (strings,
numbers, booleans, null). JSON is YAML, except that YAML forbids tabs as indentation; a document that opens
with `{` is JSON, where a raw tab can only be whitespace between tokens, so tabs become spaces first.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Any

import yaml  # type: ignore[import-untyped]
from yaml.constructor import ConstructorError, SafeConstructor  # type: ignore[import-untyped]
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode  # type: ignore[import-untyped]


class Refused(Exception):
    """A problem at a line of the document (1-based)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


@dataclass(frozen=True)
class Scalar:
    line: int
    value: Any  # str, int, float, bool or None; a YAML date or timestamp too, which no reader accepts


@dataclass(frozen=True)
class Seq:
    line: int
    items: tuple[Located, ...]


@dataclass(frozen=True)
class Entry:
    key_line: int
    value: Located


@dataclass(frozen=True)
class Map:
    line: int
    entries: dict[str, Entry]
    source: str  # the mapping's own text, dedented (what a stored rule keeps beside its resolved form)


Located = Scalar | Seq | Map


def load(text: str) -> Located | None:
    """The document's tree, or None for an empty document. Raises Refused (with the line) for a YAML
    syntax error, a duplicate or non-string key, or more than one document."""
    if text.lstrip().startswith("{"):
        text = text.replace("\t", " ")
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise Refused(line, "not valid YAML: " + ", ".join(filter(None, (exc.context, exc.problem)))) from None
    except yaml.YAMLError as exc:
        raise Refused(1, f"not valid YAML: {exc}") from None
    return None if root is None else _located(root, text)


def _located(node: Node, text: str) -> Located:
    line = node.start_mark.line + 1
    if isinstance(node, SequenceNode):
        return Seq(line, tuple(_located(item, text) for item in node.value))
    if isinstance(node, MappingNode):
        entries: dict[str, Entry] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            key = _scalar(key_node) if isinstance(key_node, ScalarNode) else None
            if not isinstance(key, str):
                raise Refused(key_line, "keys must be plain names")
            if key in entries:
                raise Refused(key_line, f"'{key}' is given twice (first on line {entries[key].key_line})")
            entries[key] = Entry(key_line, _located(value_node, text))
        return Map(line, entries, _excerpt(node, text))
    return Scalar(line, _scalar(node))


def _scalar(node: Node) -> Any:
    try:
        return SafeConstructor().construct_object(node)
    except ConstructorError as exc:
        raise Refused(node.start_mark.line + 1, f"not a valid value: {exc.problem}") from None


def _excerpt(node: Node, text: str) -> str:
    """The node's text from its first character to the end of its last value (a block collection's own end
    mark lies past the comments and blank lines that follow it, which belong to the next item)."""
    start = node.start_mark
    return textwrap.dedent(" " * start.column + text[start.index : _end(node)]).strip()


def _end(node: Node) -> int:
    if isinstance(node, MappingNode | SequenceNode) and not node.flow_style and node.value:
        last = node.value[-1]
        return _end(last[1] if isinstance(node, MappingNode) else last)
    return int(node.end_mark.index)


# --- reading values, refusing the wrong kind with the key's line -----------------------------------------


def unknown_keys(node: Map, allowed: tuple[str, ...], what: str) -> list[Refused]:
    return [
        Refused(entry.key_line, f"unknown key '{key}' in {what} (keys: {', '.join(allowed)})")
        for key, entry in node.entries.items()
        if key not in allowed
    ]


def as_text(entry: Entry, key: str) -> str:
    value = entry.value
    if isinstance(value, Scalar) and isinstance(value.value, str) and value.value.strip():
        return value.value.strip()
    raise Refused(entry.key_line, f"{key} must be a text, not {shown(value)}")


def as_int(entry: Entry, key: str, *, minimum: int | None = None) -> int:
    value = entry.value
    if isinstance(value, Scalar) and isinstance(value.value, int) and not isinstance(value.value, bool):
        if minimum is not None and value.value < minimum:
            raise Refused(entry.key_line, f"{key} must be at least {minimum}, not {value.value}")
        return value.value
    raise Refused(entry.key_line, f"{key} must be a whole number, not {shown(value)}")


def shown(value: Located) -> str:
    """A value as a message quotes it: scalars as written, collections by kind."""
    if isinstance(value, Map):
        return "a mapping"
    if isinstance(value, Seq):
        return "a list"
    if value.value is None:
        return "nothing"
    if isinstance(value.value, bool):
        return "true" if value.value else "false"
    return repr(value.value) if isinstance(value.value, str) else str(value.value)
