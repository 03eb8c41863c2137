"""Reading a data file: its lines decoded a block at a time, and a block split into
the interface's fields (spaces around separators and at line ends trimmed). A line
that cannot be decoded, holds a NUL character or has the wrong number of fields is
reported with its error and goes no further."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from .control import READ_CHUNK, ControlEntry
from .python_checks import Error
from .spec import SEPARATOR


@dataclass
class Block:
    """Whole lines of a file, decoded: `text` ends with a newline; lines that could not
    be decoded (or hold a NUL character) are empty in `text` and listed in `bad`."""

    first_line: int
    text: str
    bad: dict[int, tuple[str, str]] = field(default_factory=dict)


def _decode_lines(raw: bytes, first_line: int, codec: str, encoding: str) -> Block:
    lines, bad = [], {}
    for offset, line in enumerate(raw.split(b"\n")[:-1]):
        number = first_line + offset
        try:
            text = line.decode(codec)
        except UnicodeDecodeError:
            bad[number] = ("bad_encoding", f"not valid {encoding} text")
            lines.append("")
            continue
        if "\x00" in text:
            bad[number] = ("bad_character", "contains a NUL character")
            lines.append("")
            continue
        lines.append(text)
    return Block(first_line, "\n".join(lines) + "\n", bad)


def _decode(raw: bytes, first_line: int, codec: str, encoding: str) -> Block:
    try:
        text = raw.decode(codec)
    except UnicodeDecodeError:
        return _decode_lines(raw, first_line, codec, encoding)
    if "\x00" in text:
        return _decode_lines(raw, first_line, codec, encoding)
    return Block(first_line, text)


def read_blocks(path: Path, entry: ControlEntry, progress: Callable[[int], None]) -> Iterator[Block]:
    """The data lines of a file (the header skipped), a few megabytes at a time,
    with CR LF turned into LF. `progress(bytes read)` after each block."""
    line_no = 2
    pending = b""
    header_done = False
    done = 0
    with path.open("rb") as handle:
        while True:
            chunk = handle.read(READ_CHUNK)
            if chunk:
                done += len(chunk)
                data = pending + chunk
                cut = data.rfind(b"\n")
                if cut < 0:
                    pending = data
                    continue
                raw, pending = data[: cut + 1], data[cut + 1 :]
            else:
                if not pending:
                    break
                raw, pending = pending + b"\n", b""
            if not header_done:
                raw = raw[raw.find(b"\n") + 1 :]
                header_done = True
            if raw:
                raw = raw.replace(b"\r\n", b"\n")
                block = _decode(raw, line_no, entry.codec, entry.encoding)
                line_no += raw.count(b"\n")
                yield block
            progress(done)
            if not chunk:
                break


_SPACES_AROUND_SEPARATORS = re.compile(r" *\| *")
_SPACES_AT_LINE_ENDS = re.compile(r"(?m)^ +| +$")


def copy_escaped(text: str) -> str:
    """COPY text format: a backslash and a carriage return in data are escaped.
    (str.replace, not str.translate: translate walks a non-ASCII text character by
    character in Python, 250 times slower on these files.)"""
    if "\\" in text:
        text = text.replace("\\", "\\\\")
    if "\r" in text:
        text = text.replace("\r", "\\r")
    return text


def split_block(block: Block, width: int) -> tuple[list[str | None], list[Error]]:
    """The block's lines with their fields trimmed (spaces around separators and at
    line ends removed); a line that could not be decoded or has the wrong number
    of fields is None, with its error."""
    text = block.text
    if "| " in text or " |" in text or "\n " in text or " \n" in text or text.startswith(" "):
        text = _SPACES_AT_LINE_ENDS.sub("", _SPACES_AROUND_SEPARATORS.sub(SEPARATOR, text))
    lines = cast("list[str | None]", text.split("\n"))  # a line becomes None below
    lines.pop()  # the text ends with a newline
    errors: list[Error] = []
    for number, (code, reason) in block.bad.items():
        lines[number - block.first_line] = None
        errors.append((number, "", None, code, reason, ""))
    separators = width - 1
    counts = [line.count(SEPARATOR) if line else -1 for line in lines]
    if counts.count(separators) != len(counts):
        expected = f"wrong number of fields (expected {width}, separated by {SEPARATOR})"
        for offset, count in enumerate(counts):
            if count != separators and lines[offset] is not None:
                lines[offset] = None
                errors.append(
                    (block.first_line + offset, "", f"{count + 1} fields", "field_count", expected, "")
                )
    return lines, errors
