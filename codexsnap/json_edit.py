"""Minimal edits of a JSON object's text: remove top-level keys, keep every other byte."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

_WHITESPACE = " \t\n\r"


def refuse_constant(name: str) -> Any:
    """NaN and Infinity are not JSON: the app's JSON.parse refuses them, so must we."""
    raise ValueError(f"{name} is not valid JSON")


_DECODER = json.JSONDecoder(parse_constant=refuse_constant)
# Public in CPython since 2.6, missing from typeshed.
_scanstring = json.decoder.scanstring  # type: ignore[attr-defined]


@dataclass(frozen=True)
class _Member:
    key: str
    start: int  # index of the key's opening quote
    value_start: int  # index of the value's first character
    end: int  # index just past the value


def _skip(text: str, index: int) -> int:
    while index < len(text) and text[index] in _WHITESPACE:
        index += 1
    return index


class NotAnObjectError(ValueError):
    """The document is valid JSON of another type (a list, a string...)."""


# The index just past ``{`` and the spans of the top-level members.
_Scan = tuple[int, tuple[_Member, ...]]


@dataclass(frozen=True)
class _Shared:
    """What one shared_scans() block keeps, by content: decoded texts and their scans."""

    texts: dict[bytes, str] = field(default_factory=dict)
    scans: dict[str, _Scan] = field(default_factory=dict)


_SHARED: ContextVar[_Shared | None] = ContextVar("json_edit_shared", default=None)


@contextmanager
def shared_scans() -> Iterator[None]:
    """Within this block each distinct text is decoded and scanned once, whoever reads it.

    One fix reads a multi-MB global state in its edit, its checks and its report (issue 15);
    what is kept is dropped when the outermost block ends.
    """
    if _SHARED.get() is not None:
        yield
        return
    token = _SHARED.set(_Shared())
    try:
        yield
    finally:
        _SHARED.reset(token)


def utf8_text(raw: bytes) -> str:
    """``raw.decode("utf-8")`` (raising what it raises), once per content in shared_scans."""
    shared = _SHARED.get()
    if shared is None:
        return raw.decode("utf-8")
    text = shared.texts.get(raw)
    if text is None:
        text = shared.texts[raw] = raw.decode("utf-8")
    return text


def _members(text: str) -> _Scan:
    """The index just past ``{`` and the spans of the top-level members; validates it all."""
    shared = _SHARED.get()
    if shared is not None and (scan := shared.scans.get(text)) is not None:
        return scan
    try:
        opening, members = _scan_members(text)
    except IndexError:
        raise ValueError("the document ends too early (truncated)") from None
    scan = opening, tuple(members)
    if shared is not None:
        shared.scans[text] = scan
    return scan


def check_object(text: str) -> None:
    """Raise ValueError (or RecursionError) unless ``text`` is a JSON object, by the edits' scan."""
    _members(text)


def _scan_members(text: str) -> tuple[int, list[_Member]]:
    index = _skip(text, 0)
    if index >= len(text) or text[index] != "{":
        _DECODER.decode(text)  # a JSON error names the place; valid JSON is another type
        raise NotAnObjectError("not a JSON object")
    opening = index + 1
    index = _skip(text, opening)
    members: list[_Member] = []
    if text[index] == "}":
        _check_end(text, index + 1)
        return opening, members
    while True:
        if text[index] != '"':
            raise ValueError(f"expected a key at offset {index}")
        key, after_key = _scanstring(text, index + 1)
        colon = _skip(text, after_key)
        if text[colon] != ":":
            raise ValueError(f"expected ':' at offset {colon}")
        value_start = _skip(text, colon + 1)
        _, value_end = _DECODER.raw_decode(text, value_start)
        members.append(_Member(key, index, value_start, value_end))
        index = _skip(text, value_end)
        if text[index] == "}":
            _check_end(text, index + 1)
            return opening, members
        if text[index] != ",":
            raise ValueError(f"expected ',' at offset {index}")
        index = _skip(text, index + 1)


def _check_end(text: str, index: int) -> None:
    if _skip(text, index) != len(text):
        raise ValueError(f"extra data after the object at offset {index}")


def member_texts(text: str) -> dict[str, str]:
    """Each top-level key with the raw text of its value (the last one wins, as in JSON.parse)."""
    _, members = _members(text)
    return {m.key: text[m.value_start : m.end] for m in members}


def _leading_space(text: str, index: int) -> str:
    """The indentation of the line holding ``index`` (whitespace only, never other members)."""
    line_start = text.rfind("\n", 0, index) + 1
    line = text[line_start:index]
    return line[: len(line) - len(line.lstrip(" \t"))]


def top_level_value(text: str, key: str) -> Any:
    """Decode one member's value only (the rest of a large document stays text)."""
    _, members = _members(text)
    for member in reversed(members):  # the last duplicate is the one JSON.parse keeps
        if member.key == key:
            return _DECODER.raw_decode(text, member.value_start)[0]
    return None


def remove_top_level_keys(text: str, keys: set[str]) -> str:
    """Remove the members named ``keys``; whitespace, order and formatting elsewhere stay.

    One pass over the document (global states reach tens of MB): each kept member keeps
    the separator that followed it, the last kept one the text that closed the object.
    """
    opening, members = _members(text)
    kept = [m for m in members if m.key not in keys]
    if len(kept) == len(members):
        return text
    if not kept:
        # What is left is "{}", as JSON.stringify writes it.
        return text[:opening] + text[_skip(text, members[-1].end) :]
    following = {id(m): members[i + 1].start for i, m in enumerate(members[:-1])}
    pieces = [text[: members[0].start]]
    for member in kept[:-1]:
        pieces.append(text[member.start : following[id(member)]])
    last = kept[-1]
    pieces.append(text[last.start : last.end])
    pieces.append(text[members[-1].end :])
    return "".join(pieces)


def _style(text: str) -> tuple[int | None, tuple[str, str]]:
    """The indentation step and separators the file was written with."""
    opening = text.find("{")
    newline = text.find("\n", opening)
    if newline == -1 or text[opening + 1 : newline].strip():
        spaced = '": ' in text[:4096]
        return None, ((", ", ": ") if spaced else (",", ":"))
    after = text[newline + 1 :]
    indent = len(after) - len(after.lstrip(" "))
    return (indent or 2), (",", ": ")


def replace_top_level_value(text: str, key: str, value: object) -> str:
    """Replace one member's value, serialized in the file's own style; all else stays."""
    _, members = _members(text)
    # JSON.parse keeps the last of duplicate keys: that is the one that counts.
    member = next((m for m in reversed(members) if m.key == key), None)
    if member is None:
        raise KeyError(key)
    value_start = member.value_start
    indent, separators = _style(text)
    serialized = json.dumps(value, indent=indent, separators=separators, ensure_ascii=False)
    if indent is not None:
        serialized = serialized.replace("\n", "\n" + _leading_space(text, member.start))
    return text[:value_start] + serialized + text[member.end :]


def add_top_level_member(text: str, key: str, value: object) -> str:
    """Append a member before the closing brace, in the file's own style."""
    opening, members = _members(text)
    indent, separators = _style(text)
    entry = json.dumps({key: value}, indent=indent, separators=separators, ensure_ascii=False)
    if not members:
        closing = text.rindex("}")
        return text[: opening - 1] + entry + text[closing + 1 :]
    last = members[-1]
    prefix = _leading_space(text, last.start) if indent is not None else ""
    body = entry[1:-1].strip("\n")
    if indent is not None:
        body = "\n".join(
            line[indent:] if line.startswith(" " * indent) else line for line in body.split("\n")
        )
        body = body.replace("\n", "\n" + prefix)
        return text[: last.end] + separators[0] + "\n" + prefix + body + text[last.end :]
    return text[: last.end] + separators[0] + body + text[last.end :]


def set_top_level_members(text: str, values: dict[str, Any]) -> str:
    """Set each key to its value in the file's style; a key whose value is equal keeps its bytes.

    Equality is JSON's (objects compare without their order), so a registry that already
    holds the right projects in another order is no change.
    """
    present = member_texts(text)
    for key, value in values.items():
        if key not in present:
            text = add_top_level_member(text, key, value)
        elif _DECODER.decode(present[key]) != value:
            text = replace_top_level_value(text, key, value)
    return text
