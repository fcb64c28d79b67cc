"""Readers for the on-disk formats: IDX (MNIST family) and CIFAR-10 pickles.

Both readers validate what they read and raise ``CorruptDataset`` naming
the file and the problem, instead of failing deep inside numpy.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import io
import pickle
import zlib
from pathlib import Path

import numpy as np

from .errors import CorruptDataset

__all__ = ["read_idx", "read_idx_bytes", "read_cifar_batch", "file_digest"]

_IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def file_digest(path, algorithm="sha256", chunk=1 << 20) -> str:
    """Hex digest of a file, read in chunks."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def _read_maybe_gzip(path: Path) -> bytes:
    try:
        with open(path, "rb") as f:
            head = f.read(2)
        if head == b"\x1f\x8b":
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except (EOFError, gzip.BadGzipFile, zlib.error) as err:
        raise CorruptDataset(
            f"{path}: the gzip stream is damaged or truncated ({err}); "
            "delete the file and download it again"
        ) from None


def read_idx_bytes(raw: bytes, source="<bytes>") -> np.ndarray:
    """Parse the IDX format: 2 zero bytes, a dtype code, ndim, then big-endian dims."""
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise CorruptDataset(f"{source}: not an IDX file (bad magic number {raw[:4]!r})")
    code, ndim = raw[2], raw[3]
    if code not in _IDX_DTYPES:
        raise CorruptDataset(f"{source}: unknown IDX element type 0x{code:02x}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise CorruptDataset(f"{source}: file ends inside the IDX header")
    dims = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    dtype = _IDX_DTYPES[code]
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    found = len(raw) - header
    if found != expected:
        raise CorruptDataset(
            f"{source}: header promises {expected} bytes of data for shape {dims}, "
            f"found {found} ({'truncated download?' if found < expected else 'trailing garbage'})"
        )
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims).astype(dtype.newbyteorder("="))


def read_idx(path, content_sha256: str | None = None) -> np.ndarray:
    """Read an IDX file (optionally gzip-compressed) into a numpy array.

    If ``content_sha256`` is given, the decompressed bytes must hash to it.
    """
    path = Path(path)
    raw = _read_maybe_gzip(path)
    if content_sha256 is not None:
        digest = hashlib.sha256(raw).hexdigest()
        if digest != content_sha256:
            raise CorruptDataset(
                f"{path}: content checksum mismatch (sha256 {digest[:16]}..., expected "
                f"{content_sha256[:16]}...); delete it and download it again"
            )
    return read_idx_bytes(raw, str(path))


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickler that can rebuild numpy arrays and nothing else.

    The CIFAR-10 batches are Python pickles; loading an arbitrary pickle can
    run arbitrary code, so only the handful of numpy constructors the files
    use are allowed.
    """

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        # Python 3 writes bytes as _codecs.encode(str, 'latin1') in protocols <= 2
        ("_codecs", "encode"),
    }

    def find_class(self, module, name):
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        if module == "_codecs":
            return codecs.encode
        if module.startswith("numpy") and module.endswith("multiarray"):
            return getattr(_multiarray, name)
        return getattr(np, name)


try:  # numpy >= 2 moved the private module; old pickles name the old path
    from numpy._core import multiarray as _multiarray
except ImportError:  # pragma: no cover - numpy 1.x
    from numpy.core import multiarray as _multiarray


def read_cifar_batch(path):
    """Read one CIFAR-10 python batch.

    Returns ``(X, y)`` with X of shape (N, 3, 32, 32) uint8 and y of shape (N,).
    """
    path = Path(path)
    try:
        with open(path, "rb") as f:
            batch = _NumpyOnlyUnpickler(io.BufferedReader(f), encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError) as err:
        raise CorruptDataset(f"{path}: not a readable CIFAR-10 batch ({err}); "
                             "delete it and download again") from None
    if not isinstance(batch, dict):
        raise CorruptDataset(f"{path}: expected a dict, found {type(batch).__name__}")
    batch = {(k.decode() if isinstance(k, bytes) else k): v for k, v in batch.items()}
    if "data" not in batch or "labels" not in batch:
        raise CorruptDataset(f"{path}: missing 'data' or 'labels' (keys: {sorted(batch)})")
    data = np.asarray(batch["data"])
    labels = np.asarray(batch["labels"], dtype=np.int64)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        raise CorruptDataset(f"{path}: 'data' should be uint8 of shape (N, 3072), "
                             f"found {data.dtype} {data.shape}")
    if labels.shape != (data.shape[0],) or labels.min(initial=0) < 0 or labels.max(initial=0) > 9:
        raise CorruptDataset(f"{path}: labels do not match the images or lie outside 0..9")
    return data.reshape(-1, 3, 32, 32), labels
