"""Minimal edits of a JSON object's text: remove top-level keys, keep every other byte."""

from __future__ import annotations

import json
from dataclasses import dataclass

_WHITESPACE = " \t\n\r"
_DECODER = json.JSONDecoder()
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


def _members(text: str) -> tuple[int, list[_Member]]:
    """The index just past ``{`` and the spans of the top-level members."""
    index = _skip(text, 0)
    if index >= len(text) or text[index] != "{":
        raise ValueError("not a JSON object")
    opening = index + 1
    index = _skip(text, opening)
    members: list[_Member] = []
    if index < len(text) and text[index] == "}":
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
            return opening, members
        if text[index] != ",":
            raise ValueError(f"expected ',' at offset {index}")
        index = _skip(text, index + 1)


def remove_top_level_keys(text: str, keys: set[str]) -> str:
    """Remove the members named ``keys``; whitespace, order and formatting elsewhere stay."""
    result = text
    while True:
        opening, members = _members(result)
        doomed = [i for i, m in enumerate(members) if m.key in keys]
        if not doomed:
            break
        i = doomed[-1]
        member = members[i]
        if i + 1 < len(members):
            # Cut from this key to the next key: takes the comma and the indentation.
            result = result[: member.start] + result[members[i + 1].start :]
        elif i > 0:
            # The last member: cut from the end of the previous value, comma included.
            result = result[: members[i - 1].end] + result[member.end :]
        else:
            # The only member: what is left is "{}", as JSON.stringify writes it.
            closing = _skip(result, member.end)
            result = result[:opening] + result[closing:]
    return result


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
    member = next((m for m in members if m.key == key), None)
    if member is None:
        raise KeyError(key)
    value_start = member.value_start
    indent, separators = _style(text)
    serialized = json.dumps(value, indent=indent, separators=separators, ensure_ascii=False)
    if indent is not None:
        line_start = text.rfind("\n", 0, member.start) + 1
        prefix = text[line_start : member.start]
        serialized = serialized.replace("\n", "\n" + prefix)
    return text[:value_start] + serialized + text[member.end :]
