# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Model staging: a download that resumes, retries a bounded number of times and proves the bytes.

``fetch`` downloads ``url`` to ``dest`` through ``dest.part``: a partial file is resumed with
``Range: bytes=N-``; a response that breaks off is resumed by the next try; a finished file whose sha256 is not
the expected one is deleted and fetched again; after ``tries`` failed tries it raises ``FetchError`` with one
message (the partial file stays for the next run). A file already verified (its marker ``.dest.sha256`` matches
size and mtime) costs no request at all. The HTTP opener is passed in (``open_url`` in the module), so the loop is
tested against a real local server.
"""

from __future__ import annotations

import hashlib
import os
import re
import time

CHUNK = 1024 * 1024
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
CONTENT_RANGE_RE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")


class FetchError(Exception):
    """The download did not succeed within its tries; the message says what happened on the last one."""


def marker_path(dest: str) -> str:
    folder, name = os.path.split(dest)
    return os.path.join(folder, "." + name + ".sha256")


def marker_text(sha256: str, stat) -> str:
    return "%s %d %d\n" % (sha256, stat.st_size, stat.st_mtime_ns)


def verified(dest: str, sha256: str) -> bool:
    """Whether ``dest`` is the verified file: its marker names this sha256 and the file's size and mtime."""
    try:
        with open(marker_path(dest), encoding="ascii") as handle:
            return handle.read() == marker_text(sha256, os.stat(dest))
    except (OSError, UnicodeDecodeError):
        return False


def file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def mark(dest: str, sha256: str) -> None:
    with open(marker_path(dest), "w", encoding="ascii") as handle:
        handle.write(marker_text(sha256, os.stat(dest)))


def resume_start(status: int, content_range, offset: int) -> int:
    """Where the response's body starts in the file: ``offset`` for a 206 that continues the partial file, 0 for
    a 200 (the server ignored the Range: start over). Anything else raises FetchError."""
    if status == 200:
        return 0
    if status == 206:
        match = CONTENT_RANGE_RE.match((content_range or "").strip())
        if not match or int(match.group(1)) != offset:
            raise FetchError("the server answered Range: bytes=%d- with Content-Range %r" % (offset, content_range))
        return offset
    raise FetchError("HTTP %d" % status)


class Satisfied:
    """A 416 answer to a Range from the end of the partial file: every byte is there already."""

    status = 416

    def __init__(self):
        self.headers = {}


def call(opener, url, headers, timeout, offset):
    """The opener's response; a 416 raised for a Range at the partial file's end comes back as ``Satisfied``."""
    try:
        return opener(url, headers, timeout)
    except Exception as exc:  # pylint: disable=broad-except  # urllib raises HTTP statuses
        if offset and getattr(exc, "code", None) == 416:
            return Satisfied()
        raise


def fetch(opener, url: str, dest: str, sha256: str, tries: int = 5, timeout: float = 30.0, backoff: float = 2.0,
          headers=None, sleep=time.sleep, clock=time.monotonic) -> dict:
    """Download ``url`` to ``dest`` (see the module docstring). ``opener(url, headers, timeout)`` returns a
    response with ``status``, ``headers`` (``.get``) and ``read(n)``, or raises; an HTTP error status may also
    come back as an exception with a ``code``. Returns {changed, attempts, requests: [{range, status, bytes}],
    bytes_fetched, seconds}."""
    if not SHA256_RE.match(sha256 or ""):
        raise FetchError("sha256 must be 64 lower-case hex digits, got %r" % (sha256,))
    if os.path.exists(dest) and verified(dest, sha256):
        return {"changed": False, "attempts": 0, "requests": [], "bytes_fetched": 0, "seconds": 0.0}
    start = clock()
    if os.path.exists(dest) and file_sha256(dest) == sha256:
        mark(dest, sha256)
        return {"changed": True, "attempts": 0, "requests": [], "bytes_fetched": 0, "seconds": clock() - start}
    part = dest + ".part"
    requests, last_error, fetched = [], "", 0
    for attempt in range(1, tries + 1):
        offset = os.path.getsize(part) if os.path.exists(part) else 0
        request_headers = dict(headers or {})
        if offset:
            request_headers["Range"] = "bytes=%d-" % offset
        record = {"range": request_headers.get("Range"), "status": None, "bytes": 0}
        requests.append(record)
        try:
            response = call(opener, url, request_headers, timeout, offset)
            record["status"] = status = int(getattr(response, "status", None) or response.getcode())
            if status == 416 and offset:  # the partial file already holds every byte: check it below
                begin = offset
            else:
                begin = resume_start(status, response.headers.get("Content-Range"), offset)
            length = response.headers.get("Content-Length")
            expected_end = begin + int(length) if length is not None and status != 416 else None
            with open(part, "r+b" if begin and os.path.exists(part) else "wb") as handle:
                handle.seek(begin)
                handle.truncate()
                while status != 416:
                    block = response.read(CHUNK)
                    if not block:
                        break
                    handle.write(block)
                    record["bytes"] += len(block)
                    fetched += len(block)
            size = os.path.getsize(part)
            if expected_end is not None and size < expected_end:
                raise FetchError("the connection closed after %d of %d bytes" % (size, expected_end))
            got = file_sha256(part)
            if got != sha256:
                os.unlink(part)
                raise FetchError("the file's sha256 is %s, not %s (%d bytes): deleted, fetched again" % (
                    got, sha256, size))
            os.replace(part, dest)
            mark(dest, sha256)
            return {"changed": True, "attempts": attempt, "requests": requests, "bytes_fetched": fetched,
                    "seconds": clock() - start}
        except FetchError as exc:
            last_error = str(exc)
        except Exception as exc:  # pylint: disable=broad-except  # any network failure counts as one try
            code = getattr(exc, "code", None)
            if code is not None:
                record["status"] = code
            last_error = "%s: %s" % (type(exc).__name__, exc)
        if attempt < tries:
            sleep(min(backoff * 2 ** (attempt - 1), 60.0))
    kept = os.path.getsize(part) if os.path.exists(part) else 0
    raise FetchError("gave up on %s after %d tries in %.0f s; last: %s%s" % (
        url, tries, clock() - start, last_error,
        "; the %d bytes fetched stay in %s and are resumed on the next run" % (kept, part) if kept else ""))
