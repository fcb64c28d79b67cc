"""Build the bundled offline dataset assignments/data/bundled/fashion_mnist_small/.

A stratified subset of Fashion-MNIST: 1,000 training and 200 test images of
each of the 10 classes, drawn with a fixed seed from the official IDX files,
stored as a compressed .npz written byte-for-byte reproducibly (fixed zip
timestamps), so rebuilding gives the same sha256.

Where the official files come from:
  * Debian / Ubuntu: `apt-get install dataset-fashion-mnist` puts them in
    /usr/share/datasets/fashion-mnist/ (the default --from);
  * anywhere: `python -m assignments.data download fashion_mnist`, then
    --from ~/.local/share/numpy-deep-learning-course/datasets/fashion_mnist.
Every input file is verified against the checksums in assignments/data.

Usage:
    python scripts/build_fashion_mnist_small.py [--from DIR] [--out DIR]
"""

from __future__ import annotations

import argparse
import io
import zipfile
from pathlib import Path

import numpy as np

from assignments.data.download import verify_file
from assignments.data.readers import file_digest, read_idx
from assignments.data.registry import BUNDLED_DIR, BUNDLED_FILE, DATASETS

SEED = 20261123
TRAIN_PER_CLASS = 1000
TEST_PER_CLASS = 200


def stratified_indices(y, per_class, rng):
    picked = [rng.choice(np.flatnonzero(y == c), size=per_class, replace=False)
              for c in range(10)]
    return rng.permutation(np.concatenate(picked))


def write_npz_reproducibly(path: Path, arrays: dict) -> None:
    """Like np.savez_compressed, but with fixed timestamps so the bytes are stable."""
    tmp = path.with_suffix(".npz.part")
    with zipfile.ZipFile(tmp, "w") as zf:
        for name, arr in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(arr), allow_pickle=False)
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, buf.getvalue(), compresslevel=9)
    tmp.replace(path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--from", dest="source", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--out", default=str(BUNDLED_DIR / "fashion_mnist_small"))
    args = parser.parse_args(argv)

    src = Path(args.source)
    spec = DATASETS["fashion_mnist"]
    raw = {}
    for f in spec.files:
        verify_file(src / f.filename, f)
        raw[f.filename[: f.filename.index("-idx")]] = read_idx(src / f.filename, f.content_sha256)

    rng = np.random.default_rng(SEED)
    train_idx = stratified_indices(raw["train-labels"], TRAIN_PER_CLASS, rng)
    test_idx = stratified_indices(raw["t10k-labels"], TEST_PER_CLASS, rng)
    arrays = {
        "X_train": raw["train-images"][train_idx][:, None],
        "y_train": raw["train-labels"][train_idx].astype(np.uint8),
        "X_test": raw["t10k-images"][test_idx][:, None],
        "y_test": raw["t10k-labels"][test_idx].astype(np.uint8),
        # positions in the official files, for provenance
        "train_index": train_idx.astype(np.int32),
        "test_index": test_idx.astype(np.int32),
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / BUNDLED_FILE
    write_npz_reproducibly(path, arrays)
    digest = file_digest(path)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB)")
    print(f"train {arrays['X_train'].shape}, test {arrays['X_test'].shape}")
    print(f"sha256 {digest}")
    print("(BUNDLED_SHA256 in assignments/data/registry.py must equal this)")


if __name__ == "__main__":
    main()
