"""Unit tests for assignments/data: readers, registry, prep and the command line."""

import gzip
import hashlib
import io
import os
import pickle
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT

import assignments.data.registry as registry
from assignments.data import (CorruptDataset, DatasetNotFound, append_bias, choose_dataset,
                              fetch, fetch_command, flatten, load_dataset, read_cifar_batch,
                              read_idx, subsample, subtract_mean, train_val_split, verify)
from assignments.data.__main__ import main as cli
from assignments.data.download import RemoteFile
from assignments.data.readers import file_digest, read_idx_bytes
from assignments.data.registry import BUNDLED_FILE, BUNDLED_SHA256, DatasetSpec

_IDX_CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(">i2"): 0x0B,
              np.dtype(">i4"): 0x0C, np.dtype(">f4"): 0x0D, np.dtype(">f8"): 0x0E}


def idx_bytes(arr, dtype=None):
    """Encode an array in the IDX format (big-endian)."""
    arr = np.asarray(arr)
    dt = np.dtype(dtype or arr.dtype)
    if dt.itemsize > 1:
        dt = dt.newbyteorder(">")
    head = bytes([0, 0, _IDX_CODES[dt], arr.ndim])
    head += b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    return head + arr.astype(dt).tobytes()


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    monkeypatch.delenv("COURSE_DATASET", raising=False)


# --------------------------------------------------------------------------
# IDX reader
# --------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.uint8, np.int8, ">i2", ">i4", ">f4", ">f8"])
@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_roundtrip(tmp_path, dtype, compress):
    rng = np.random.default_rng(0)
    arr = (rng.normal(size=(3, 4, 5)) * 50).astype(np.dtype(dtype).newbyteorder("="))
    raw = idx_bytes(arr, dtype)
    path = tmp_path / ("x.idx" + (".gz" if compress else ""))
    path.write_bytes(gzip.compress(raw) if compress else raw)
    out = read_idx(path, content_sha256=hashlib.sha256(raw).hexdigest())
    assert out.shape == (3, 4, 5)
    assert out.dtype == np.dtype(dtype).newbyteorder("=")  # native byte order
    assert np.array_equal(out, arr)
    out[0, 0, 0] = 1  # writable, not a view of a read-only buffer


def test_read_idx_labels_1d(tmp_path):
    labels = np.array([3, 1, 4, 1, 5, 9, 2, 6], dtype=np.uint8)
    (tmp_path / "labels").write_bytes(idx_bytes(labels))
    assert np.array_equal(read_idx(tmp_path / "labels"), labels)


@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_truncated(tmp_path, compress):
    raw = idx_bytes(np.arange(60, dtype=np.uint8).reshape(3, 4, 5))[:-7]
    path = tmp_path / "short.idx"
    path.write_bytes(gzip.compress(raw) if compress else raw)
    with pytest.raises(CorruptDataset) as info:
        read_idx(path)
    assert str(info.value) == (f"{path}: header promises 60 bytes of data for shape (3, 4, 5), "
                               "found 53 (truncated download?)")


def test_read_idx_trailing_garbage(tmp_path):
    path = tmp_path / "long.idx"
    path.write_bytes(idx_bytes(np.zeros((2, 2), np.uint8)) + b"junk")
    with pytest.raises(CorruptDataset, match=r"long\.idx: .*promises 4 bytes.*found 8 \(trailing garbage\)"):
        read_idx(path)


def test_read_idx_bad_magic_and_type(tmp_path):
    path = tmp_path / "image.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    with pytest.raises(CorruptDataset) as info:
        read_idx(path)
    assert str(info.value).startswith(f"{path}: not an IDX file (bad magic number")
    with pytest.raises(CorruptDataset, match="unknown IDX element type 0x07"):
        read_idx_bytes(b"\x00\x00\x07\x01" + bytes(8), "weird")
    with pytest.raises(CorruptDataset, match="ends inside the IDX header"):
        read_idx_bytes(b"\x00\x00\x08\x03" + bytes(5), "short")
    with pytest.raises(CorruptDataset, match="not an IDX file"):
        read_idx_bytes(b"\x00", "tiny")


def test_read_idx_truncated_gzip_stream(tmp_path):
    raw = idx_bytes(np.random.default_rng(1).integers(0, 255, (50, 28, 28), dtype=np.uint8))
    path = tmp_path / "cut.gz"
    path.write_bytes(gzip.compress(raw)[:-100])
    with pytest.raises(CorruptDataset) as info:
        read_idx(path)
    assert str(info.value).startswith(f"{path}: the gzip stream is damaged or truncated")
    assert "download it again" in str(info.value)


def test_read_idx_content_checksum_mismatch(tmp_path):
    raw = idx_bytes(np.arange(10, dtype=np.uint8))
    path = tmp_path / "labels.gz"
    path.write_bytes(gzip.compress(raw))
    wrong = hashlib.sha256(b"other").hexdigest()
    with pytest.raises(CorruptDataset) as info:
        read_idx(path, content_sha256=wrong)
    msg = str(info.value)
    assert msg.startswith(f"{path}: content checksum mismatch")
    assert hashlib.sha256(raw).hexdigest()[:16] in msg and wrong[:16] in msg


# --------------------------------------------------------------------------
# CIFAR-10 reader
# --------------------------------------------------------------------------

def cifar_batch(n, seed):
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
    labels = [int(v) for v in rng.integers(0, 10, size=n)]
    return data, labels


def write_cifar(path, data, labels, protocol=2, **extra):
    batch = {b"batch_label": b"testing batch", b"data": data, b"labels": labels,
             b"filenames": [b"f%d.png" % i for i in range(len(labels))], **extra}
    path.write_bytes(pickle.dumps(batch, protocol=protocol))


@pytest.mark.parametrize("protocol", [2, 3, 4])
def test_read_cifar_batch(tmp_path, protocol):
    data, labels = cifar_batch(5, seed=protocol)
    write_cifar(tmp_path / "data_batch_1", data, labels, protocol)
    X, y = read_cifar_batch(tmp_path / "data_batch_1")
    assert X.shape == (5, 3, 32, 32) and X.dtype == np.uint8
    assert y.dtype == np.int64 and y.tolist() == labels
    # row layout: 1024 red values, then green, then blue, each row-major 32x32
    assert np.array_equal(X[2, 1, 3, 4], data[2, 1024 + 3 * 32 + 4])
    assert np.array_equal(X[4, 2].ravel(), data[4, 2048:])


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_malicious_cifar_pickle_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    payload = {b"data": _Evil(marker), b"labels": [0]}
    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps(payload, protocol=2))
    # the payload really would run the command if loaded normally
    assert b"system" in path.read_bytes()
    with pytest.raises(CorruptDataset) as info:
        read_cifar_batch(path)
    msg = str(info.value)
    assert msg.startswith(f"{path}: not a readable CIFAR-10 batch")
    assert "refusing to load" in msg and "system" in msg
    assert not marker.exists()


def test_cifar_pickle_with_builtins_eval_is_refused(tmp_path):
    class EvalPayload:
        def __reduce__(self):
            return (eval, ("1 + 1",))

    path = tmp_path / "b"
    path.write_bytes(pickle.dumps({b"data": EvalPayload(), b"labels": []}, protocol=2))
    with pytest.raises(CorruptDataset, match=r"refusing to load (__builtin__|builtins)\.eval"):
        read_cifar_batch(path)


def test_cifar_bad_contents(tmp_path):
    data, labels = cifar_batch(4, seed=0)
    cases = {
        "wrong_shape": ({b"data": data[:, :100], b"labels": labels}, r"shape \(N, 3072\)"),
        "wrong_dtype": ({b"data": data.astype(np.int64), b"labels": labels}, "uint8"),
        "bad_labels": ({b"data": data, b"labels": [0, 1, 2, 10]}, "outside 0..9"),
        "few_labels": ({b"data": data, b"labels": [0, 1]}, "labels do not match"),
        "no_labels": ({b"data": data}, "missing 'data' or 'labels'"),
        "not_dict": ([data, labels], "expected a dict, found list"),
    }
    for name, (obj, pattern) in cases.items():
        path = tmp_path / name
        path.write_bytes(pickle.dumps(obj, protocol=2))
        with pytest.raises(CorruptDataset, match=pattern) as info:
            read_cifar_batch(path)
        assert str(info.value).startswith(str(path))
    path = tmp_path / "cut"
    write_cifar(path, data, labels)
    path.write_bytes(path.read_bytes()[:500])
    with pytest.raises(CorruptDataset, match="not a readable CIFAR-10 batch"):
        read_cifar_batch(path)


# --------------------------------------------------------------------------
# the bundled dataset
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def bundled():
    return load_dataset("fashion_mnist_small")


def test_bundled_dataset_shapes_and_balance(bundled):
    assert bundled.name == "fashion_mnist_small"
    assert bundled.X_train.shape == (10000, 1, 28, 28)
    assert bundled.X_test.shape == (2000, 1, 28, 28)
    assert bundled.X_train.dtype == np.uint8 and bundled.X_test.dtype == np.uint8
    assert bundled.y_train.dtype == np.int64 and bundled.y_test.dtype == np.int64
    assert np.bincount(bundled.y_train).tolist() == [1000] * 10
    assert np.bincount(bundled.y_test).tolist() == [200] * 10
    assert bundled.classes[0] == "T-shirt/top" and bundled.num_classes == 10
    assert 200 < bundled.X_train.max() <= 255  # real images, not blank
    assert repr(bundled) == ("Dataset('fashion_mnist_small': 10000 train / 2000 test, "
                             "images (1, 28, 28), 10 classes)")


def test_bundled_file_checksum():
    assert file_digest(registry.BUNDLED_DIR / "fashion_mnist_small" / BUNDLED_FILE) == BUNDLED_SHA256


def _copy_bundled(tmp_path):
    dest = tmp_path / "datasets" / "fashion_mnist_small"
    dest.mkdir(parents=True)
    shutil.copy(registry.BUNDLED_DIR / "fashion_mnist_small" / BUNDLED_FILE, dest / BUNDLED_FILE)
    return dest / BUNDLED_FILE


def test_corrupted_bundled_copy_is_detected(tmp_path, monkeypatch):
    path = _copy_bundled(tmp_path)
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    path.write_bytes(bytes(raw))
    monkeypatch.setattr(registry, "BUNDLED_DIR", tmp_path / "datasets")
    with pytest.raises(CorruptDataset) as info:
        load_dataset("fashion_mnist_small")
    msg = str(info.value)
    assert msg.startswith(f"{path}: checksum mismatch")
    assert BUNDLED_SHA256[:16] in msg
    assert "reinstall the course" in msg


def test_missing_bundled_file(tmp_path, monkeypatch):
    monkeypatch.setattr(registry, "BUNDLED_DIR", tmp_path / "datasets")
    with pytest.raises(DatasetNotFound, match="ships inside the package"):
        load_dataset("fashion_mnist_small")


def test_intact_copy_loads_and_verifies(tmp_path, monkeypatch):
    _copy_bundled(tmp_path)
    monkeypatch.setattr(registry, "BUNDLED_DIR", tmp_path / "datasets")
    assert verify("fashion_mnist_small") == ["fashion_mnist_small: bundled file checksum ok"]


@pytest.mark.skipif(not Path("/usr/share/datasets/fashion-mnist").is_dir(),
                    reason="needs Debian's dataset-fashion-mnist in /usr/share/datasets")
def test_build_script_reproduces_the_bundled_file(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_fashion_mnist_small.py"),
         "--from", "/usr/share/datasets/fashion-mnist", "--out", str(tmp_path)],
        capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert file_digest(tmp_path / BUNDLED_FILE) == BUNDLED_SHA256
    assert f"sha256 {BUNDLED_SHA256}" in result.stdout


# --------------------------------------------------------------------------
# missing datasets, choosing datasets
# --------------------------------------------------------------------------

def test_missing_dataset_names_the_command(tmp_path, monkeypatch):
    monkeypatch.setattr(registry, "default_data_dir", lambda: tmp_path)
    with pytest.raises(DatasetNotFound) as info:
        load_dataset("mnist")
    msg = str(info.value)
    assert msg.startswith(f"dataset 'mnist' is not in {tmp_path / 'mnist'}")
    assert msg.endswith("Fetch it with:\n    python -m assignments.data download mnist")
    assert isinstance(info.value, FileNotFoundError)


def test_missing_dataset_with_course_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "store"))
    with pytest.raises(DatasetNotFound) as info:
        load_dataset("mnist")
    assert str(info.value).endswith(
        f"python -m assignments.data download mnist --dest {tmp_path / 'store'}")
    assert f"is not in {tmp_path / 'store' / 'mnist'}" in str(info.value)


def test_missing_dataset_with_dest_argument(tmp_path):
    with pytest.raises(DatasetNotFound) as info:
        load_dataset("fashion_mnist", dest=tmp_path)
    assert str(info.value).endswith(
        f"python -m assignments.data download fashion_mnist --dest {tmp_path}")


def test_missing_cifar_lists_batches(tmp_path):
    with pytest.raises(DatasetNotFound) as info:
        load_dataset("cifar10", dest=tmp_path)
    msg = str(info.value)
    assert "missing: data_batch_1, data_batch_2, data_batch_3, data_batch_4, data_batch_5, " \
           "test_batch" in msg
    assert msg.endswith(f"python -m assignments.data download cifar10 --dest {tmp_path}")


def test_fetch_command():
    assert fetch_command("mnist") == "python -m assignments.data download mnist"
    assert fetch_command("mnist", "/d") == "python -m assignments.data download mnist --dest /d"


def test_choose_dataset(capsys, monkeypatch):
    assert choose_dataset() == "fashion_mnist_small"
    out = capsys.readouterr().out
    assert out.startswith("dataset: fashion_mnist_small - bundled stratified subset")
    assert choose_dataset("cifar10") == "cifar10"
    assert capsys.readouterr().out.startswith("dataset: cifar10 - CIFAR-10")
    monkeypatch.setenv("COURSE_DATASET", " mnist ")
    assert choose_dataset("cifar10") == "mnist"
    assert capsys.readouterr().out.startswith(
        "dataset: mnist (set by the COURSE_DATASET environment variable) - MNIST")


def test_unknown_dataset_lists_choices(monkeypatch):
    choices = "choose one of: fashion_mnist_small, fashion_mnist, mnist, cifar10"
    with pytest.raises(ValueError, match=f"unknown dataset 'imagenet'; {choices}"):
        choose_dataset("imagenet")
    with pytest.raises(ValueError, match=f"unknown dataset 'svhn'; {choices}"):
        load_dataset("svhn")
    monkeypatch.setenv("COURSE_DATASET", "fashion")
    with pytest.raises(ValueError, match="unknown dataset 'fashion'"):
        choose_dataset()


# --------------------------------------------------------------------------
# preprocessing
# --------------------------------------------------------------------------

def _labelled(counts):
    y = np.concatenate([np.full(n, c) for c, n in enumerate(counts)])
    X = np.arange(len(y) * 2).reshape(len(y), 2)  # row i holds 2i, 2i+1: identifies the example
    return X, y


def test_subsample_stratified_counts():
    X, y = _labelled([50, 30, 20])
    Xs, ys = subsample(X, y, 10, np.random.default_rng(0))
    assert np.bincount(ys).tolist() == [5, 3, 2]
    assert np.array_equal(y[Xs[:, 0] // 2], ys)  # labels stay with their images
    assert len(set(Xs[:, 0])) == 10  # without replacement
    # remainders: shares 4, 3.5, 2.5 -> 4 + 3 + 2 = 9, the 10th to a class with remainder .5
    _, ys = subsample(*_labelled([40, 35, 25]), 10, np.random.default_rng(0))
    assert np.bincount(ys, minlength=3).tolist() in ([4, 4, 2], [4, 3, 3])
    # order is shuffled, not grouped by class
    _, ys = subsample(*_labelled([500, 500]), 100, np.random.default_rng(0))
    assert np.bincount(ys).tolist() == [50, 50]
    assert not np.all(np.diff(ys) >= 0)


def test_subsample_deterministic_per_seed():
    X, y = _labelled([30, 30, 30])
    a = subsample(X, y, 20, np.random.default_rng(7))
    b = subsample(X, y, 20, np.random.default_rng(7))
    c = subsample(X, y, 20, np.random.default_rng(8))
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_subsample_unstratified_and_errors():
    X, y = _labelled([5, 5])
    Xs, ys = subsample(X, y, 7, np.random.default_rng(0), stratified=False)
    assert len(set(Xs[:, 0])) == 7 and np.array_equal(y[Xs[:, 0] // 2], ys)
    with pytest.raises(ValueError, match="cannot pick 11 examples out of 10"):
        subsample(X, y, 11, np.random.default_rng(0))
    with pytest.raises(ValueError, match="cannot pick 0 examples"):
        subsample(X, y, 0, np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"X has shape \(10, 2\), y has shape \(9,\)"):
        subsample(X, y[:9], 3, np.random.default_rng(0))


def test_train_val_split():
    X, y = _labelled([20, 20])
    Xt, yt, Xv, yv = train_val_split(X, y, 15, np.random.default_rng(0))
    assert Xt.shape == (25, 2) and yt.shape == (25,) and Xv.shape == (15, 2) and yv.shape == (15,)
    train_ids, val_ids = set(Xt[:, 0] // 2), set(Xv[:, 0] // 2)
    assert not train_ids & val_ids
    assert train_ids | val_ids == set(range(40))
    assert np.array_equal(y[Xv[:, 0] // 2], yv)
    again = train_val_split(X, y, 15, np.random.default_rng(0))
    assert np.array_equal(again[2], Xv)
    other = train_val_split(X, y, 15, np.random.default_rng(1))
    assert not np.array_equal(other[2], Xv)
    for bad in (0, 40):
        with pytest.raises(ValueError, match=f"num_val must lie between 1 and 39, got {bad}"):
            train_val_split(X, y, bad, np.random.default_rng(0))


def test_subtract_mean_uses_the_training_mean_only():
    X_train = np.array([[0, 2], [4, 6]], dtype=np.uint8)
    X_val = np.array([[100, 100]], dtype=np.uint8)
    X_test = np.array([[1, 1], [3, 3]], dtype=np.uint8)
    mean, Xt, Xv, Xte = subtract_mean(X_train, X_val, X_test)
    assert np.array_equal(mean, [2.0, 4.0])
    assert Xt.dtype == np.float64  # no uint8 wrap-around
    assert np.array_equal(Xt, [[-2, -2], [2, 2]])
    assert np.array_equal(Xv, [[98, 96]])
    assert np.array_equal(Xte, [[-1, -3], [1, -1]])
    assert np.array_equal(X_train, [[0, 2], [4, 6]])  # inputs untouched
    with pytest.raises(ValueError, match=r"mean of shape \(2,\) from examples of shape \(3,\)"):
        subtract_mean(X_train, np.zeros((1, 3)))
    only = subtract_mean(X_train)
    assert len(only) == 2


def test_append_bias_and_flatten():
    X = np.arange(6.0).reshape(3, 2)
    Xb = append_bias(X)
    assert Xb.shape == (3, 3)
    assert np.array_equal(Xb[:, :2], X) and np.array_equal(Xb[:, 2], [1, 1, 1])
    assert append_bias(np.zeros((2, 2), np.float32)).dtype == np.float32
    with pytest.raises(ValueError, match=r"rows of features \(N, D\), got shape \(2, 2, 2\)"):
        append_bias(np.zeros((2, 2, 2)))
    imgs = np.arange(2 * 3 * 4 * 5, dtype=np.uint8).reshape(2, 3, 4, 5)
    flat = flatten(imgs)
    assert flat.shape == (2, 60) and flat.dtype == np.float64
    assert flat[1, 0] == 60 and flat[0, 21] == imgs[0, 1, 0, 1]
    assert flatten(imgs, dtype=np.float32).dtype == np.float32


# --------------------------------------------------------------------------
# fetching from a local folder, and the command line
# --------------------------------------------------------------------------

def _fake_mnist(src):
    """Tiny IDX .gz files and a spec whose checksums match them."""
    rng = np.random.default_rng(3)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (12, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte.gz": rng.integers(0, 10, 12).astype(np.uint8),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (4, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, 4).astype(np.uint8),
    }
    files = []
    src.mkdir(parents=True, exist_ok=True)
    for name, arr in arrays.items():
        raw = idx_bytes(arr)
        gz = gzip.compress(raw, mtime=0)
        (src / name).write_bytes(gz)
        files.append(RemoteFile(name, ("http://127.0.0.1:9/unused/" + name,),
                                hashlib.md5(gz).hexdigest(), len(gz),
                                hashlib.sha256(raw).hexdigest()))
    spec = DatasetSpec(**{**registry.DATASETS["mnist"].__dict__, "files": tuple(files)})
    return spec, arrays


def test_cli_list(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    (tmp_path / "mnist").mkdir()
    assert cli(["list"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    names = [line.split()[0] for line in lines if not line.startswith(" ")]
    assert names == ["fashion_mnist_small", "fashion_mnist", "mnist", "cifar10"]
    assert "present" in lines[0] and str(registry.BUNDLED_DIR / "fashion_mnist_small") in lines[0]
    mnist = next(line for line in lines if line.startswith("mnist "))
    assert "present" in mnist and str(tmp_path / "mnist") in mnist
    cifar = next(line for line in lines if line.startswith("cifar10 "))
    assert "not downloaded" in cifar


def test_cli_list_as_a_subprocess(tmp_path):
    env = {**os.environ, "COURSE_DATA_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "assignments.data", "list"],
                            capture_output=True, text=True, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "fashion_mnist_small" in result.stdout and "cifar10" in result.stdout


def test_cli_download_from_local_folder(tmp_path, monkeypatch, capsys):
    spec, arrays = _fake_mnist(tmp_path / "src")
    monkeypatch.setitem(registry.DATASETS, "mnist", spec)
    dest = tmp_path / "store"
    code = cli(["download", "mnist", "--dest", str(dest), "--from", str(tmp_path / "src"),
                "--quiet"])
    assert code == 0
    assert capsys.readouterr().out == f"mnist: verified and ready in {dest / 'mnist'}\n"
    assert sorted(p.name for p in (dest / "mnist").iterdir()) == sorted(arrays)
    data = load_dataset("mnist", dest=dest)
    assert data.X_train.shape == (12, 1, 28, 28) and data.X_test.shape == (4, 1, 28, 28)
    assert np.array_equal(data.X_train[:, 0], arrays["train-images-idx3-ubyte.gz"])
    assert np.array_equal(data.y_test, arrays["t10k-labels-idx1-ubyte.gz"])
    assert data.y_train.dtype == np.int64
    assert cli(["verify", "mnist", "--dest", str(dest)]) == 0
    assert capsys.readouterr().out.count(": ok\n") == 4


def test_cli_download_reports_a_bad_copy(tmp_path, monkeypatch, capsys):
    spec, _ = _fake_mnist(tmp_path / "src")
    monkeypatch.setitem(registry.DATASETS, "mnist", spec)
    bad = tmp_path / "src" / "t10k-labels-idx1-ubyte.gz"
    bad.write_bytes(bad.read_bytes()[:-3])
    code = cli(["download", "mnist", "--dest", str(tmp_path / "store"),
                "--from", str(tmp_path / "src"), "--quiet"])
    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert "checksum mismatch for t10k-labels-idx1-ubyte.gz" in err
    assert not (tmp_path / "store" / "mnist" / "t10k-labels-idx1-ubyte.gz").exists()
    # a missing source folder is reported too, not a traceback
    assert cli(["download", "mnist", "--dest", str(tmp_path / "store"),
                "--from", str(tmp_path / "nowhere")]) == 1
    assert "--from must point at a folder" in capsys.readouterr().err


def test_verify_missing_file_names_the_command(tmp_path, capsys):
    assert cli(["verify", "mnist", "--dest", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"python -m assignments.data download mnist --dest {tmp_path}" in err


def test_fetch_bundled_is_a_no_op(capsys):
    folder = fetch("fashion_mnist_small")
    assert folder == registry.BUNDLED_DIR / "fashion_mnist_small"
    assert "bundled with the course" in capsys.readouterr().out


def _cifar_tarball(path, skip=(), extra=()):
    batches = {}
    with tarfile.open(path, "w:gz") as tar:
        names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
        for seed, name in enumerate(names):
            if name in skip:
                continue
            data, labels = cifar_batch(3, seed=10 + seed)
            batches[name] = (data, labels)
            blob = pickle.dumps({b"data": data, b"labels": labels}, protocol=2)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
        for name, blob in extra:
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    return batches


def _patch_cifar_md5(monkeypatch, tarball):
    spec = registry.DATASETS["cifar10"]
    tar_spec = RemoteFile(spec.files[0].filename, spec.files[0].urls,
                          hashlib.md5(tarball.read_bytes()).hexdigest(), tarball.stat().st_size)
    monkeypatch.setitem(registry.DATASETS, "cifar10",
                        DatasetSpec(**{**spec.__dict__, "files": (tar_spec,)}))


def test_fetch_cifar_from_a_local_tarball(tmp_path, monkeypatch, capsys):
    src = tmp_path / "src"
    src.mkdir()
    tarball = src / "cifar-10-python.tar.gz"
    batches = _cifar_tarball(tarball, extra=[("cifar-10-batches-py/readme.html", b"<html>"),
                                             ("../escape.txt", b"outside")])
    _patch_cifar_md5(monkeypatch, tarball)
    dest = tmp_path / "store"
    assert cli(["download", "cifar10", "--dest", str(dest), "--from", str(src), "--quiet"]) == 0
    folder = dest / "cifar10"
    assert sorted(p.name for p in folder.iterdir()) == ["cifar-10-batches-py"]  # tarball removed
    assert sorted(p.name for p in (folder / "cifar-10-batches-py").iterdir()) == sorted(batches)
    assert not (tmp_path / "escape.txt").exists() and not (dest / "escape.txt").exists()
    assert tarball.exists()  # the user's copy is left alone
    data = load_dataset("cifar10", dest=dest)
    assert data.X_train.shape == (15, 3, 32, 32) and data.X_test.shape == (3, 3, 32, 32)
    assert np.array_equal(data.X_train[3:6].reshape(3, -1), batches["data_batch_2"][0])
    assert data.y_test.tolist() == batches["test_batch"][1]
    assert data.classes[0] == "airplane"
    assert verify("cifar10", dest) == [
        f"cifar10: all six batches readable in {folder / 'cifar-10-batches-py'}"]
    capsys.readouterr()
    assert cli(["download", "cifar10", "--dest", str(dest), "--from", str(src)]) == 0
    assert "already present" in capsys.readouterr().out


def test_fetch_cifar_tarball_missing_a_batch(tmp_path, monkeypatch):
    src = tmp_path / "src"
    src.mkdir()
    tarball = src / "cifar-10-python.tar.gz"
    _cifar_tarball(tarball, skip=("test_batch",))
    _patch_cifar_md5(monkeypatch, tarball)
    with pytest.raises(CorruptDataset, match="archive has no member cifar-10-batches-py/test_batch"):
        fetch("cifar10", tmp_path / "store", source=src, progress=False)
    assert not (tmp_path / "store" / "cifar10" / "cifar-10-batches-py").exists()
    leftovers = [p.name for p in (tmp_path / "store" / "cifar10").iterdir()]
    assert not any(name.startswith(".cifar-extract-") for name in leftovers)


def test_fetch_cifar_tarball_with_wrong_checksum(tmp_path, monkeypatch):
    src = tmp_path / "src"
    src.mkdir()
    _cifar_tarball(src / "cifar-10-python.tar.gz")
    with pytest.raises(CorruptDataset, match="checksum mismatch for cifar-10-python.tar.gz"):
        fetch("cifar10", tmp_path / "store", source=src, progress=False)
    assert not (tmp_path / "store" / "cifar10" / "cifar-10-batches-py").exists()


def test_fetch_cifar_from_a_folder_of_batches(tmp_path):
    src = tmp_path / "src" / "cifar-10-batches-py"
    src.mkdir(parents=True)
    for seed, name in enumerate([f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]):
        write_cifar(src / name, *cifar_batch(2, seed))
    folder = fetch("cifar10", tmp_path / "store", source=tmp_path / "src", progress=False)
    data = load_dataset("cifar10", dest=tmp_path / "store")
    assert folder == tmp_path / "store" / "cifar10"
    assert data.X_train.shape == (10, 3, 32, 32)
    (src / "test_batch").write_bytes(b"not a pickle")
    with pytest.raises(CorruptDataset, match="test_batch: not a readable CIFAR-10 batch"):
        fetch("cifar10", tmp_path / "other", source=tmp_path / "src", progress=False)
