"""Fetching files: resumable HTTP download and import of a local copy.

A file is written to ``<name>.part`` and renamed to its final name only
after its checksum is verified, so a final name never holds half a file.
An interrupted transfer leaves the ``.part`` file behind and the next
attempt continues from where it stopped (HTTP Range request).  A file whose
checksum is wrong is deleted.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from .errors import CorruptDataset, DownloadError

__all__ = ["RemoteFile", "download_file", "import_file", "verify_file"]

_CHUNK = 1 << 16


@dataclass(frozen=True)
class RemoteFile:
    """A file of a dataset as published.

    - filename: name on disk.
    - urls: mirrors, tried in order.
    - md5: checksum of the file as published.
    - size: published size in bytes (None if unknown).
    - content_sha256: sha256 of the decompressed content of a ``.gz`` file;
      lets a re-compressed copy of the same data (e.g. Debian's package) be
      accepted.
    """

    filename: str
    urls: tuple
    md5: str
    size: int | None = None
    content_sha256: str | None = None


def _md5(path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def _gzip_content_sha256(path) -> str | None:
    import gzip
    import zlib

    h = hashlib.sha256()
    try:
        with gzip.open(path, "rb") as f:
            while block := f.read(1 << 20):
                h.update(block)
    except (OSError, EOFError, zlib.error):
        return None
    return h.hexdigest()


def verify_file(path, spec: RemoteFile) -> None:
    """Raise ``CorruptDataset`` unless ``path`` is the file ``spec`` describes."""
    path = Path(path)
    md5 = _md5(path)
    if md5 == spec.md5:
        return
    if spec.content_sha256 and spec.filename.endswith(".gz"):
        if _gzip_content_sha256(path) == spec.content_sha256:
            return
    size = path.stat().st_size
    hint = ""
    if spec.size and size < spec.size:
        hint = f" (only {size} of {spec.size} bytes: truncated)"
    raise CorruptDataset(
        f"{path}: checksum mismatch for {spec.filename}: md5 {md5}, expected {spec.md5}{hint}"
    )


def _progress(total, initial, desc, enabled):
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, unit="B", unit_scale=True, unit_divisor=1024,
                desc=desc, disable=not enabled, leave=False)


def _fetch_once(url, part: Path, desc, progress, timeout) -> None:
    """One HTTP attempt, appending to ``part`` when the server honours Range."""
    offset = part.stat().st_size if part.exists() else 0
    headers = {"User-Agent": "numpy-dl-course/0.1"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=timeout) as resp:
        status = getattr(resp, "status", 200)
        if offset and status != 206:
            offset = 0  # the server ignored Range: start over
        length = resp.headers.get("Content-Length")
        total = offset + int(length) if length is not None else None
        mode = "ab" if offset else "wb"
        received = 0
        with open(part, mode) as out, _progress(total, offset, desc, progress) as bar:
            while block := resp.read(_CHUNK):
                out.write(block)
                received += len(block)
                bar.update(len(block))
        if length is not None and received < int(length):
            raise urllib.error.ContentTooShortError(
                f"connection closed after {offset + received} of {total} bytes", None)


def _offline(reason) -> bool:
    """A failure that says this machine cannot reach the host at all (not a hiccup)."""
    import errno
    import socket

    return isinstance(reason, (socket.gaierror, ConnectionRefusedError)) or (
        isinstance(reason, OSError) and reason.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH))


def download_file(spec: RemoteFile, dest_dir, progress=True, attempts=3, timeout=60,
                  backoff=1.0) -> Path:
    """Download ``spec`` into ``dest_dir`` and return the verified path.

    Tries each mirror up to ``attempts`` times, resuming a partial file; a
    complete file with the wrong checksum is deleted and the next mirror
    tried.  Raises ``DownloadError`` listing what each mirror said (including
    both checksums for a corrupt file).  An already-present final file that
    fails verification raises ``CorruptDataset``.
    """
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    final = dest_dir / spec.filename
    if final.exists():
        verify_file(final, spec)
        return final
    part = dest_dir / (spec.filename + ".part")
    problems = []
    for url in spec.urls:
        for attempt in range(attempts):
            try:
                _fetch_once(url, part, spec.filename, progress, timeout)
            except urllib.error.HTTPError as err:
                if err.code == 416 and part.exists():  # range past the end: we have it all
                    pass
                else:
                    problems.append(f"{url}: HTTP {err.code} {err.reason}")
                    if err.code in (403, 404, 410):
                        break  # this mirror does not have it
                    time.sleep(backoff * attempt)
                    continue
            except (urllib.error.URLError, OSError, http.client.HTTPException) as err:
                reason = getattr(err, "reason", err)
                problems.append(f"{url}: {reason}")
                if _offline(reason):
                    break  # no network: trying this mirror again cannot help
                time.sleep(backoff * attempt)
                continue
            try:
                verify_file(part, spec)
            except CorruptDataset as err:
                part.unlink(missing_ok=True)
                problems.append(f"{url}: {err}")
                break
            os.replace(part, final)
            return final
    if part.exists():
        kept = f"; the partial file {part} is kept so the next attempt resumes"
    else:
        kept = ""
    raise DownloadError(
        f"could not download {spec.filename}:\n  " + "\n  ".join(problems) + kept
    )


def import_file(spec: RemoteFile, source_dir, dest_dir) -> Path:
    """Copy ``spec.filename`` from a local folder, verifying it on the way.

    The copy goes to a ``.part`` name first, so a failed copy or a file with
    the wrong checksum never lands under the final name.
    """
    src = Path(source_dir) / spec.filename
    if not src.exists():
        raise FileNotFoundError(f"{src} not found; --from must point at a folder holding "
                                f"{spec.filename}")
    verify_file(src, spec)
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    final = dest_dir / spec.filename
    if final.exists() and final.resolve() == src.resolve():
        return final
    part = dest_dir / (spec.filename + ".part")
    shutil.copyfile(src, part)
    os.replace(part, final)
    return final
