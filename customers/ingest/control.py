"""A batch directory and its control file: is the batch complete, what does the control
file declare, and do the data files agree with it (byte size, MD5, row count,
header) — all checked by reading the files once, before anything is written. The
same pass computes the batch's content digest (SHA-256 over the control file and
the data files), which with the business date identifies the batch. A sample of each
file (its start, middle and end) shows whether its bytes are in the encoding the
control file declares."""

from __future__ import annotations

import datetime
import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from django.utils.translation import gettext as _

from .spec import CONTROL_FILE, CONTROL_HEADER, ENCODINGS, FILES_BY_NAME, OK_FILE, SEPARATOR

READ_CHUNK = 4 * 1024 * 1024
_DATE_DIR = re.compile(r"^[0-9]{8}$")
_MD5 = re.compile(r"^[0-9a-fA-F]{32}$")
# The encoding sample: the start of a file and a piece of its middle and of its end.
SAMPLE_START, SAMPLE_PIECE = 256 * 1024, 64 * 1024
# The other encoding a file may really be in: codec, and its name in a message.
_OTHER_ENCODING = {"utf-8": ("gb18030", "GB18030/GBK"), "gb18030": ("utf-8", "UTF-8")}
# What text read in the wrong one of the two encodings turns into, and the extract's
# fields (Chinese names, addresses, employers; ASCII codes) do not hold: the
# replacement character, C1 controls, Latin Extended to NKo (GBK read as UTF-8:
# 薛霞萍 -> ѦϼƼ) and the private use area (UTF-8 read as GB18030).
_UNLIKELY = re.compile("[\ufffd\u0080-\u009f\u0100-\u07ff\ue000-\uf8ff]")


class BatchProblem(Exception):
    """The batch cannot be loaded as it is. `refused` problems are about when or
    whether to load (incomplete, out of order); the others are a broken batch."""

    def __init__(self, message: str, *, refused: bool = False):
        super().__init__(message)
        self.message = message
        self.refused = refused


@dataclass(frozen=True)
class ControlEntry:
    name: str
    rows: int
    size: int
    md5: str
    encoding: str  # as declared, upper case

    @property
    def codec(self) -> str:
        return ENCODINGS[self.encoding]


@dataclass
class Batch:
    path: Path
    business_date: datetime.date
    entries: dict[str, ControlEntry] = field(default_factory=dict)
    digest: str = ""


def business_date_of(path: Path) -> datetime.date:
    if not _DATE_DIR.match(path.name):
        raise BatchProblem(
            _("The batch directory must be named after its business date (YYYYMMDD), not “%(name)s”.")
            % {"name": path.name}
        )
    try:
        return datetime.datetime.strptime(path.name, "%Y%m%d").date()
    except ValueError:
        raise BatchProblem(_("%(name)s is not a real date.") % {"name": path.name}) from None


def is_complete(path: Path) -> bool:
    return (path / OK_FILE).is_file() and (path / CONTROL_FILE).is_file()


def parse_control(text: str) -> dict[str, ControlEntry]:
    """The entries of a control file; every problem at once, in one message."""
    problems: list[str] = []
    entries: dict[str, ControlEntry] = {}
    lines = [line.strip() for line in text.replace("\r\n", "\n").split("\n")]
    lines = [line for line in lines if line]
    if lines and lines[0].upper() == CONTROL_HEADER:
        lines = lines[1:]
    for number, line in enumerate(lines, start=1):
        parts = [p.strip() for p in line.split(SEPARATOR)]
        if len(parts) != 5:
            problems.append(_("control line %(n)s: expected FILE|ROWS|BYTES|MD5|ENCODING") % {"n": number})
            continue
        name, rows, size, md5, encoding = parts
        encoding = encoding.upper()
        if name not in FILES_BY_NAME:
            problems.append(
                _("control line %(n)s: “%(name)s” is not a file of the interface")
                % {"n": number, "name": name}
            )
        elif name in entries:
            problems.append(_("control line %(n)s: %(name)s is listed twice") % {"n": number, "name": name})
        elif not rows.isdigit() or not size.isdigit():
            problems.append(_("control line %(n)s: ROWS and BYTES must be whole numbers") % {"n": number})
        elif not _MD5.match(md5):
            problems.append(_("control line %(n)s: MD5 must be 32 hexadecimal characters") % {"n": number})
        elif encoding not in ENCODINGS:
            problems.append(
                _("control line %(n)s: encoding “%(encoding)s” is not UTF-8, GBK or GB18030")
                % {"n": number, "encoding": encoding}
            )
        else:
            entries[name] = ControlEntry(name, int(rows), int(size), md5.lower(), encoding)
    if problems:
        raise BatchProblem("; ".join(problems))
    return entries


def read_batch(path: Path) -> Batch:
    """The batch at `path` with its control entries (nothing read but the control file)."""
    if not path.is_dir():
        raise BatchProblem(_("There is no batch directory at %(path)s.") % {"path": path})
    business_date = business_date_of(path)
    if not (path / OK_FILE).is_file():
        raise BatchProblem(
            _("The batch is not complete yet (%(ok)s is missing).") % {"ok": OK_FILE}, refused=True
        )
    if not (path / CONTROL_FILE).is_file():
        raise BatchProblem(_("%(control)s is missing.") % {"control": CONTROL_FILE})
    try:
        text = (path / CONTROL_FILE).read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BatchProblem(_("%(control)s is not UTF-8.") % {"control": CONTROL_FILE}) from None
    entries = parse_control(text)
    unlisted = sorted(p.name for p in path.iterdir() if p.name in FILES_BY_NAME and p.name not in entries)
    if unlisted:
        raise BatchProblem(_("Not in the control file: %(files)s.") % {"files": ", ".join(unlisted)})
    return Batch(path=path, business_date=business_date, entries=entries)


def _header_problem(entry: ControlEntry, first_line: bytes) -> str:
    expected = FILES_BY_NAME[entry.name].header
    try:
        header = first_line.decode(entry.codec)
    except UnicodeDecodeError:
        return _("%(name)s: the header is not %(encoding)s") % {
            "name": entry.name,
            "encoding": entry.encoding,
        }
    header = header.lstrip("\ufeff").rstrip("\r\n").strip()
    if header != expected:
        return _("%(name)s: the header must be “%(expected)s”, not “%(header)s”") % {
            "name": entry.name,
            "expected": expected,
            "header": header[:200],
        }
    return ""


def _sample_lines(path: Path, size: int) -> list[bytes]:
    """Whole lines of a file's start, middle and end (at most SAMPLE_START +
    2 * SAMPLE_PIECE bytes read, whatever the file's size)."""
    pieces: list[tuple[bytes, bool, bool]] = []  # (bytes, starts a line, ends a line)
    with path.open("rb") as handle:
        start = handle.read(SAMPLE_START)
        pieces.append((start, True, len(start) == size))
        if size > SAMPLE_START:
            for offset in sorted({max(size // 2, SAMPLE_START), max(size - SAMPLE_PIECE, SAMPLE_START)}):
                handle.seek(offset)
                pieces.append((handle.read(SAMPLE_PIECE), False, offset + SAMPLE_PIECE >= size))
    lines: list[bytes] = []
    for data, whole_start, whole_end in pieces:
        split = data.split(b"\n")
        lines.extend(split[(0 if whole_start else 1) : (None if whole_end else -1)])
    return lines


def _suspect(lines: list[bytes], codec: str) -> tuple[int, int]:
    """(lines that do not decode, lines that do not decode or decode to unlikely
    characters) of `lines` read in `codec`."""
    failed = suspect = 0
    for line in lines:
        try:
            text = line.decode(codec)
        except UnicodeDecodeError:
            failed += 1
            suspect += 1
            continue
        if _UNLIKELY.search(text):
            suspect += 1
    return failed, suspect


def _encoding_problem(entry: ControlEntry, path: Path, size: int) -> str:
    """A file whose bytes are not in the declared encoding but in the other one (UTF-8
    and GBK/GB18030 are easy to mix up), judged on a sample of its non-ASCII lines:
    most of them do not read (or read as characters these files never hold) in the
    declared encoding, some do not decode at all, and nearly all read well in the
    other. A real file with a few broken lines is not refused for them (its rows
    are)."""
    lines = [line for line in _sample_lines(path, size) if not line.isascii()]
    if not lines:
        return ""
    other_codec, other_name = _OTHER_ENCODING[entry.codec]
    failed, suspect = _suspect(lines, entry.codec)
    _failed, other_suspect = _suspect(lines, other_codec)
    if failed and suspect * 2 > len(lines) and other_suspect * 10 <= suspect:
        return _("%(name)s is declared %(encoding)s but its bytes look like %(other)s") % {
            "name": entry.name,
            "encoding": entry.encoding,
            "other": other_name,
        }
    return ""


def verify(batch: Batch) -> None:
    """Read every data file once: size, MD5, row count and header against the control
    file; set `batch.digest`. Raises BatchProblem listing every disagreement."""
    digest = hashlib.sha256()
    digest.update(CONTROL_FILE.encode() + b"\n" + (batch.path / CONTROL_FILE).read_bytes())
    problems: list[str] = []
    for name in sorted(batch.entries):
        entry = batch.entries[name]
        path = batch.path / name
        if not path.is_file():
            problems.append(_("%(name)s is in the control file but not in the batch") % {"name": name})
            continue
        md5 = hashlib.md5(usedforsecurity=False)
        digest.update(name.encode() + b"\n")
        size = newlines = 0
        first_line: bytes | None = None
        last = b""
        with path.open("rb") as handle:
            while chunk := handle.read(READ_CHUNK):
                if first_line is None:
                    first_line = chunk.split(b"\n", 1)[0]
                md5.update(chunk)
                digest.update(chunk)
                size += len(chunk)
                newlines += chunk.count(b"\n")
                last = chunk[-1:]
        lines = newlines + (1 if size and last != b"\n" else 0)
        rows = max(lines - 1, 0)
        if size != entry.size:
            problems.append(
                _("%(name)s: %(size)s bytes, the control file says %(expected)s")
                % {"name": name, "size": size, "expected": entry.size}
            )
        if md5.hexdigest() != entry.md5:
            problems.append(
                _("%(name)s: MD5 %(md5)s, the control file says %(expected)s")
                % {"name": name, "md5": md5.hexdigest(), "expected": entry.md5}
            )
        if rows != entry.rows:
            problems.append(
                _("%(name)s: %(rows)s rows, the control file says %(expected)s")
                % {"name": name, "rows": rows, "expected": entry.rows}
            )
        if size:
            problem = _header_problem(entry, first_line or b"") or _encoding_problem(entry, path, size)
            if problem:
                problems.append(problem)
    if problems:
        raise BatchProblem(_("Control check failed: %(problems)s.") % {"problems": "; ".join(problems)})
    batch.digest = digest.hexdigest()


def waiting_batches(inbox: os.PathLike[str] | str) -> list[Path]:
    """Complete batch directories in the inbox, oldest business date first. The inbox
    may be any path-like: the INGEST_INBOX setting (`env.path`) is
    django-environ's `Path`, which has no `is_dir` or `iterdir`."""
    folder = Path(inbox)
    if not folder.is_dir():
        return []
    found = [p for p in folder.iterdir() if p.is_dir() and _DATE_DIR.match(p.name) and is_complete(p)]
    return sorted(found, key=lambda p: p.name)


def archive_batch(path: Path, inbox: os.PathLike[str] | str) -> Path:
    """Move a processed batch to inbox/archive/ (a suffix when the name is taken)."""
    archive = Path(inbox) / "archive"
    archive.mkdir(parents=True, exist_ok=True)
    target = archive / path.name
    n = 1
    while target.exists():
        target = archive / f"{path.name}-{n}"
        n += 1
    path.rename(target)
    return target
