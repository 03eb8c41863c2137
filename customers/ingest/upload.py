"""An uploaded batch: a zip of the batch directory (`YYYYMMDD/` and its files, or the
files themselves in `YYYYMMDD.zip`). Refused with a clear message, before anything is
unpacked, when the upload is too big, is not a zip, would expand past the limit or
by a suspicious ratio (a zip bomb), holds a path outside its folder, a link, or a
file that is not part of the interface. Unpacking then counts the bytes it really
writes, so a zip that lies about its sizes is stopped too."""

from __future__ import annotations

import re
import secrets
import shutil
import stat
import zipfile
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from .spec import CONTROL_FILE, FILES_BY_NAME, OK_FILE

ALLOWED = frozenset({CONTROL_FILE, OK_FILE, *FILES_BY_NAME})
_DATE = re.compile(r"^[0-9]{8}$")
_COPY_CHUNK = 1024 * 1024


class UploadRefused(Exception):
    """The message is for the user."""


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:,.0f} MB"


def check_size(size: int) -> None:
    limit = settings.INGEST_UPLOAD_MAX_BYTES
    if size > limit:
        raise UploadRefused(
            _("The file is %(size)s; uploads are limited to %(limit)s.")
            % {"size": _megabytes(size), "limit": _megabytes(limit)}
        )


def _members(archive: zipfile.ZipFile, filename: str) -> tuple[str, list[zipfile.ZipInfo]]:
    """(business date, the files to unpack); every check that needs no unpacking."""
    files: list[zipfile.ZipInfo] = []
    folders: set[str] = set()
    expanded = compressed = 0
    for info in archive.infolist():
        name = info.filename
        path = PurePosixPath(name)
        if name.startswith("/") or "\\" in name or ".." in path.parts or ":" in name:
            raise UploadRefused(_("The archive holds a path outside its folder (%(name)s).") % {"name": name})
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise UploadRefused(
                _("The archive holds a link (%(name)s); only plain files are accepted.") % {"name": name}
            )
        if info.flag_bits & 0x1:
            raise UploadRefused(_("The archive is encrypted."))
        if info.is_dir():
            continue
        if len(path.parts) > 2:
            raise UploadRefused(
                _("The archive holds a nested folder (%(name)s): zip the batch folder itself.")
                % {"name": name}
            )
        if path.name not in ALLOWED:
            raise UploadRefused(
                _("%(name)s is not a file of the core-banking interface (expected %(files)s).")
                % {"name": path.name, "files": ", ".join(sorted(ALLOWED))}
            )
        if len(path.parts) == 2:
            folders.add(path.parts[0])
        files.append(info)
        expanded += info.file_size
        compressed += info.compress_size
    if not files:
        raise UploadRefused(_("The archive is empty."))
    limit = settings.INGEST_UPLOAD_MAX_EXPANDED
    if expanded > limit:
        raise UploadRefused(
            _("The archive would expand to %(size)s; the limit is %(limit)s.")
            % {"size": _megabytes(expanded), "limit": _megabytes(limit)}
        )
    ratio = settings.INGEST_UPLOAD_MAX_RATIO
    if expanded > 1024 * 1024 and expanded > ratio * max(compressed, 1):
        raise UploadRefused(
            _(
                "The archive expands %(times)s times its size (more than %(ratio)s): "
                "refused as a possible zip bomb."
            )
            % {"times": f"{expanded / max(compressed, 1):,.0f}", "ratio": ratio}
        )
    at_root = [f for f in files if len(PurePosixPath(f.filename).parts) == 1]
    if folders and at_root or len(folders) > 1:
        raise UploadRefused(_("The archive must hold one batch folder (YYYYMMDD/) and nothing else."))
    date = folders.pop() if folders else PurePosixPath(filename).stem
    if not _DATE.match(date):
        raise UploadRefused(
            _("Zip the batch folder, named after its business date (YYYYMMDD), or name the zip YYYYMMDD.zip.")
        )
    names = [PurePosixPath(f.filename).name for f in files]
    if len(names) != len(set(names)):
        raise UploadRefused(_("The archive holds the same file twice."))
    return date, files


def unpack_upload(uploaded) -> Path:
    """Check the uploaded zip and unpack it to a new folder under INGEST_UPLOAD_DIR;
    return the batch directory. Raises UploadRefused."""
    filename = uploaded.name or ""
    if not filename.lower().endswith(".zip"):
        raise UploadRefused(_("Upload the batch as a .zip file."))
    check_size(uploaded.size)
    uploaded.seek(0)
    if not zipfile.is_zipfile(uploaded):
        raise UploadRefused(_("The file is not a zip archive."))
    uploaded.seek(0)
    try:
        archive = zipfile.ZipFile(uploaded)
    except zipfile.BadZipFile as exc:
        raise UploadRefused(_("The zip archive is damaged (%(error)s).") % {"error": exc}) from None
    with archive:
        date, members = _members(archive, filename)
        folder = Path(settings.INGEST_UPLOAD_DIR) / f"{timezone.now():%Y%m%d%H%M%S}-{secrets.token_hex(4)}"
        target = folder / date
        target.mkdir(parents=True)
        try:
            for info in members:
                _extract(archive, info, target / PurePosixPath(info.filename).name)
        except Exception:
            shutil.rmtree(folder, ignore_errors=True)
            raise
    return target


def _extract(archive: zipfile.ZipFile, info: zipfile.ZipInfo, destination: Path) -> None:
    written = 0
    try:
        with archive.open(info) as source, destination.open("wb") as sink:
            while chunk := source.read(_COPY_CHUNK):
                written += len(chunk)
                if written > info.file_size:
                    raise UploadRefused(
                        _("%(name)s is bigger than the archive says: refused.") % {"name": info.filename}
                    )
                sink.write(chunk)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError) as exc:
        raise UploadRefused(
            _("%(name)s could not be unpacked (%(error)s).") % {"name": info.filename, "error": exc}
        ) from None
