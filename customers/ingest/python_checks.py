"""What SQL cannot do, done in Python in batches: the resident ID check (check digit,
region, birth date; gender and birth date agreeing with the number — one parser,
`customers.idnumbers.parse_resident_id`, the portal's own), the encryption, blind
index and suffix of ID numbers, mobiles and contact values (`customers.crypto`,
AES-GCM per value), and the name-search columns (`customers.search_text`).

The functions here are pure: rows in, rows and errors out, no database, so that a
pool of processes can run them while the loader streams the results back with
COPY. Rows and results are plain tuples (cheap to pass between processes)."""

from __future__ import annotations

import ctypes
import functools
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from django.core.exceptions import ValidationError

from .. import crypto
from ..choices import ContactType, IdType
from ..crypto import cipher
from ..idnumbers import parse_resident_id
from ..search_text import name_search
from .spec import MASK_ID

logger = logging.getLogger(__name__)

# error tuple: (line_no, column, value, code, reason, mask)
Error = tuple[int, str, str | None, str, str, str]

ID_PROBLEMS = {
    "id_length": "a resident ID number has 18 characters",
    "id_chars": "a resident ID number is 17 digits and a digit or X",
    "id_region": "the region code is not a place of registration",
    "id_birth_date": "the birth date in the ID number is not a valid date",
    "id_check_digit": "the check digit is wrong",
}


@functools.lru_cache(maxsize=300_000)
def _name_columns(name: str) -> tuple[str, str, str]:
    derived = name_search(name)
    return derived.pinyin, derived.initials, derived.tokens


def _iso(yyyymmdd: str) -> str:
    return f"{yyyymmdd[:4]}-{yyyymmdd[4:6]}-{yyyymmdd[6:8]}"


def check_customers(rows: list[tuple]) -> tuple[list[tuple], list[Error]]:
    """rows: (line_no, id_type, id_no, gender, birth_yyyymmdd, name, stored_id_type,
    stored_id_hash, stored_name) — the last three from the customer of the same
    number when there is one.

    out: (line_no, id_type, id_number_enc, id_hash, id_suffix, keep_id, gender,
    birth_date ISO, keep_name, name_pinyin, name_initials, search_tokens). `keep_id` /
    `keep_name`: the stored identity / name is unchanged, keep its columns (no new
    ciphertext, no pinyin)."""
    c = cipher()
    out: list[tuple] = []
    errors: list[Error] = []
    for line_no, id_type, id_no, gender, birth, name, stored_type, stored_hash, stored_name in rows:
        line_no = int(line_no)
        gender = gender or ""
        if id_type == IdType.RESIDENT_ID:
            try:
                parsed = parse_resident_id(id_no)
            except ValidationError as exc:
                reason = ID_PROBLEMS.get(exc.code or "", "not a valid resident ID number")
                errors.append((line_no, "ID_NO", id_no, "bad_id", reason, MASK_ID))
                continue
            number = parsed.number
            derived_birth = number[6:14]  # YYYYMMDD, a real date (parse_resident_id checked it)
            bad = False
            if gender and gender != parsed.gender:
                errors.append(
                    (line_no, "GENDER", gender, "gender_mismatch", "does not agree with the ID number", "")
                )
                bad = True
            if birth and birth != derived_birth:
                errors.append(
                    (line_no, "BIRTH_DATE", birth, "birth_mismatch", "does not agree with the ID number", "")
                )
                bad = True
            if bad:
                continue
            gender = gender or parsed.gender
            birth = birth or derived_birth
        else:
            number = id_no.strip().upper()
        id_hash = c.blind_index(number, context=crypto.ID_NUMBER)
        keep_id = stored_hash == id_hash and stored_type == id_type
        id_enc = "" if keep_id else c.encrypt(number, context=crypto.ID_NUMBER)
        keep_name = stored_name == name
        pinyin, initials, tokens = ("", "", "") if keep_name else _name_columns(name)
        out.append(
            (
                line_no,
                id_type,
                id_enc,
                id_hash,
                number[-6:],
                keep_id,
                gender,
                _iso(birth) if birth else None,
                keep_name,
                pinyin,
                initials,
                tokens,
            )
        )
    return out, errors


def encrypt_contacts(rows: list[tuple]) -> tuple[list[tuple], list[tuple]]:
    """rows: (line_no, customer number, type, value, becomes the customer's mobile).
    out: (line_no, value_enc, value_hash), and for the contacts that become their
    customer's mobile (customer number, mobile_enc, mobile_hash, mobile_suffix): the
    value encrypted again under the customer column's context (a ciphertext never
    moves between columns)."""
    c = cipher()
    out: list[tuple] = []
    mobiles: list[tuple] = []
    for line_no, customer_no, type_, value, chosen in rows:
        value_enc = c.encrypt(value, context=crypto.CONTACT)
        value_hash = ""
        if type_ == ContactType.MOBILE:
            value_hash = c.blind_index(value, context=crypto.MOBILE)
            if chosen in (True, 1, "1", "t", "true"):
                mobiles.append((customer_no, c.encrypt(value, context=crypto.MOBILE), value_hash, value[-4:]))
        out.append((int(line_no), value_enc, value_hash))
    return out, mobiles


class PythonPass:
    """Runs one of the functions above over chunks of rows, in a pool of worker
    processes when there is enough work and more than one CPU, else in this
    process. Results come back in order; at most `ahead` chunks are in flight, so
    memory stays bounded whatever the file size.

    The pool forks: the children inherit the configured keys (and any test
    settings) without a second Django start-up, and never touch the parent's
    database connection (they only compute and exit with os._exit). They die with
    the loader (`_die_with_parent`)."""

    def __init__(self, workers: int):
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> PythonPass:
        return self

    def __exit__(self, *exc_info) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _get_pool(self) -> ProcessPoolExecutor | None:
        if self.workers <= 1:
            return None
        if self._pool is None:
            try:
                self._pool = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=multiprocessing.get_context("fork"),
                    initializer=_die_with_parent,
                    initargs=(os.getpid(),),
                )
            except (OSError, ValueError, AssertionError) as exc:  # e.g. inside a daemonic worker
                logger.warning("ingest: no process pool (%s); checking in this process", exc)
                self.workers = 1
                return None
        return self._pool

    def map(
        self, fn: Callable[[list[tuple]], tuple[list[tuple], list]], chunks: Iterable[list[tuple]]
    ) -> Iterator[tuple[list[tuple], list]]:
        pool = self._get_pool()
        if pool is None:
            for chunk in chunks:
                yield fn(chunk)
            return
        ahead = self.workers * 2
        pending: list[Future] = []
        for chunk in chunks:
            pending.append(pool.submit(fn, chunk))
            if len(pending) >= ahead:
                yield pending.pop(0).result()
        for future in pending:
            yield future.result()


# prctl(2) option: the signal a process gets when its parent ends (Linux)
PR_SET_PDEATHSIG = 1
PARENT_CHECK_SECONDS = 0.5


def _die_with_parent(parent: int) -> None:
    """Pool initializer: a worker ends when the loader that started it does. A
    killed loader never shuts its pool down, and its workers would wait on their
    queue for ever: each holds the queue's pipe (and the loader's database socket)
    open, so none of them sees it close, and the database keeps the dead load's
    session (its locks) while they live.

    On Linux the kernel kills the worker when the loader ends (PR_SET_PDEATHSIG:
    strictly, when the thread that forked it ends, which is the thread using the
    pool for its whole life). Everywhere, a daemon thread notices the end within
    PARENT_CHECK_SECONDS (the worker is given another parent): the fallback where
    prctl is missing or fails."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
                logger.warning("ingest: prctl(PR_SET_PDEATHSIG) failed: errno %s", ctypes.get_errno())
        except (OSError, AttributeError) as exc:
            logger.warning("ingest: no prctl (%s)", exc)
    if os.getppid() != parent:  # the loader died before the signal was asked for
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent,), name="ingest-parent-watch", daemon=True).start()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(1)


def default_workers(rows: int, setting: Any) -> int:
    """INGEST_PYTHON_WORKERS: 0 = automatic (every CPU, when the file is big enough
    to pay for starting the pool); 1 = in this process; n = n processes."""
    if setting:
        return max(1, int(setting))
    cpus = os.cpu_count() or 1
    return cpus if rows >= 20_000 and cpus > 1 else 1
