"""The one registry of datasets the course knows.

Every loader returns a ``Dataset`` whose images have shape (N, C, H, W) and
dtype uint8, labels of dtype int64, and the class names.

Where downloaded data lives: the ``dest`` argument (``--dest`` on the
command line), else the environment variable ``COURSE_DATA_DIR``, else a
user data folder (``$XDG_DATA_HOME/numpy-deep-learning-course/datasets``,
by default under ``~/.local/share``).  The bundled ``fashion_mnist_small``
ships inside this package (``assignments/data/bundled/``, package data
found with ``importlib.resources``), so every installation has it.
"""

from __future__ import annotations

import os
import shutil
import sys
from importlib import resources
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from .download import RemoteFile, download_file, import_file, verify_file
from .errors import CorruptDataset, DatasetNotFound, DownloadError
from .readers import file_digest, read_cifar_batch, read_idx

__all__ = [
    "Dataset",
    "DatasetSpec",
    "DATASETS",
    "DEFAULT_DATASET",
    "BUNDLED_DIR",
    "default_data_dir",
    "data_dir",
    "load_dataset",
    "choose_dataset",
    "fetch",
    "fetch_command",
]

DEFAULT_DATASET = "fashion_mnist_small"
BUNDLED_DIR = Path(str(resources.files("assignments.data") / "bundled"))
APP_NAME = "numpy-deep-learning-course"

FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
MNIST_CLASSES = tuple(str(i) for i in range(10))
CIFAR_CLASSES = ("airplane", "automobile", "bird", "cat", "deer",
                 "dog", "frog", "horse", "ship", "truck")


@dataclass
class Dataset:
    """Images (N, C, H, W) uint8, labels (N,) int64, and class names."""

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    classes: tuple

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def __repr__(self) -> str:
        return (f"Dataset({self.name!r}: {len(self.y_train)} train / {len(self.y_test)} test, "
                f"images {self.X_train.shape[1:]}, {self.num_classes} classes)")


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    description: str
    classes: tuple
    files: tuple = ()
    loader: Callable | None = None
    bundled: bool = False
    extra: dict = field(default_factory=dict)


# --------------------------------------------------------------------------
# where things are
# --------------------------------------------------------------------------

def default_data_dir() -> Path:
    """The user's data folder for downloads (XDG on POSIX, LOCALAPPDATA on Windows)."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / APP_NAME / "datasets"


def data_dir(dest=None) -> Path:
    """The folder that holds downloaded datasets (see module docstring)."""
    if dest is not None:
        return Path(dest)
    env = os.environ.get("COURSE_DATA_DIR")
    if env:
        return Path(env)
    return default_data_dir()


def fetch_command(name: str, dest=None) -> str:
    cmd = f"python -m assignments.data download {name}"
    if dest is not None:
        cmd += f" --dest {dest}"
    elif os.environ.get("COURSE_DATA_DIR"):
        cmd += f" --dest {os.environ['COURSE_DATA_DIR']}"
    return cmd


# --------------------------------------------------------------------------
# loaders
# --------------------------------------------------------------------------

def _idx_loader(spec: DatasetSpec, folder: Path) -> Dataset:
    arrays = {}
    for f in spec.files:
        path = folder / f.filename
        if not path.exists():
            raise DatasetNotFound(
                f"dataset '{spec.name}' is not in {folder} ({f.filename} is missing).\n"
                f"Fetch it with:\n    {fetch_command(spec.name, spec.extra.get('dest'))}"
            )
        role = f.filename[: f.filename.index("-idx")]  # e.g. "train-images"
        arrays[role] = read_idx(path, f.content_sha256)
    X_train = arrays["train-images"][:, None, :, :]
    X_test = arrays["t10k-images"][:, None, :, :]
    y_train = arrays["train-labels"].astype(np.int64)
    y_test = arrays["t10k-labels"].astype(np.int64)
    if len(X_train) != len(y_train) or len(X_test) != len(y_test):
        raise CorruptDataset(f"{folder}: number of images and labels differ")
    return Dataset(spec.name, X_train, y_train, X_test, y_test, spec.classes)


CIFAR_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch",)


def _cifar_folder(folder: Path) -> Path:
    return folder / "cifar-10-batches-py"


def _cifar_loader(spec: DatasetSpec, folder: Path) -> Dataset:
    batches = _cifar_folder(folder)
    missing = [b for b in CIFAR_BATCHES if not (batches / b).exists()]
    if missing:
        raise DatasetNotFound(
            f"dataset 'cifar10' is not in {batches} (missing: {', '.join(missing)}).\n"
            f"Fetch it with:\n    {fetch_command('cifar10', spec.extra.get('dest'))}"
        )
    train = [read_cifar_batch(batches / b) for b in CIFAR_BATCHES[:5]]
    X_test, y_test = read_cifar_batch(batches / "test_batch")
    X_train = np.concatenate([x for x, _ in train])
    y_train = np.concatenate([y for _, y in train])
    return Dataset("cifar10", X_train, y_train, X_test, y_test, spec.classes)


BUNDLED_FILE = "fashion_mnist_small.npz"
# sha256 of bundled/fashion_mnist_small/fashion_mnist_small.npz as written by
# scripts/build_fashion_mnist_small.py (a test checks the two agree).
BUNDLED_SHA256 = "8fa336e3dc9ab0401e016cbc13a08d916a85a19640d6cfc1cb747b4ba9a5ebbd"


def _repo_path(path: Path) -> str:
    """``path`` as a checkout names it (assignments/data/bundled/...)."""
    try:
        return str(path.relative_to(BUNDLED_DIR.parents[2]))
    except ValueError:
        return str(path)


def _bundled_loader(spec: DatasetSpec, folder: Path) -> Dataset:
    path = BUNDLED_DIR / spec.name / BUNDLED_FILE
    if not path.exists():
        raise DatasetNotFound(
            f"the bundled dataset {path} is missing; it ships inside the package. Reinstall "
            f"the course (pip install --force-reinstall), or in a checkout restore it with "
            f"`git checkout -- {_repo_path(path)}`"
        )
    digest = file_digest(path)
    if digest != BUNDLED_SHA256:
        raise CorruptDataset(
            f"{path}: checksum mismatch (sha256 {digest[:16]}..., expected "
            f"{BUNDLED_SHA256[:16]}...); reinstall the course, or in a checkout restore it "
            f"with `git checkout -- {_repo_path(path)}`"
        )
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in ("X_train", "y_train", "X_test", "y_test")}
    return Dataset(spec.name, arrays["X_train"], arrays["y_train"].astype(np.int64),
                   arrays["X_test"], arrays["y_test"].astype(np.int64), spec.classes)


# --------------------------------------------------------------------------
# the registry
# --------------------------------------------------------------------------

_FASHION_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
_MNIST_URLS = ("https://ossci-datasets.s3.amazonaws.com/mnist/",
               "http://yann.lecun.com/exdb/mnist/")


def _mirrors(bases, filename):
    return tuple(base + filename for base in bases)


DATASETS: dict[str, DatasetSpec] = {
    "fashion_mnist_small": DatasetSpec(
        name="fashion_mnist_small",
        description="bundled stratified subset of Fashion-MNIST: 10,000 train / 2,000 test, "
                    "28x28 grayscale, 10 classes (offline default)",
        classes=FASHION_CLASSES,
        loader=_bundled_loader,
        bundled=True,
    ),
    "fashion_mnist": DatasetSpec(
        name="fashion_mnist",
        description="Fashion-MNIST (Zalando, MIT licence): 60,000 train / 10,000 test, 28x28 grayscale",
        classes=FASHION_CLASSES,
        loader=_idx_loader,
        files=(
            RemoteFile("train-images-idx3-ubyte.gz", (_FASHION_URL + "train-images-idx3-ubyte.gz",),
                       "8d4fb7e6c68d591d4c3dfef9ec88bf0d", 26421880,
                       "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
            RemoteFile("train-labels-idx1-ubyte.gz", (_FASHION_URL + "train-labels-idx1-ubyte.gz",),
                       "25c81989df183df01b3e8a0aad5dffbe", 29515,
                       "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
            RemoteFile("t10k-images-idx3-ubyte.gz", (_FASHION_URL + "t10k-images-idx3-ubyte.gz",),
                       "bef4ecab320f06d8554ea6380940ec79", 4422102,
                       "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
            RemoteFile("t10k-labels-idx1-ubyte.gz", (_FASHION_URL + "t10k-labels-idx1-ubyte.gz",),
                       "bb300cfdad3c16e7a12a480ee83cd310", 5148,
                       "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
        ),
    ),
    "mnist": DatasetSpec(
        name="mnist",
        description="MNIST handwritten digits: 60,000 train / 10,000 test, 28x28 grayscale",
        classes=MNIST_CLASSES,
        loader=_idx_loader,
        files=(
            RemoteFile("train-images-idx3-ubyte.gz", _mirrors(_MNIST_URLS, "train-images-idx3-ubyte.gz"),
                       "f68b3c2dcbeaaa9fbdd348bbdeb94873", 9912422,
                       "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
            RemoteFile("train-labels-idx1-ubyte.gz", _mirrors(_MNIST_URLS, "train-labels-idx1-ubyte.gz"),
                       "d53e105ee54ea40749a09fcbcd1e9432", 28881,
                       "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
            RemoteFile("t10k-images-idx3-ubyte.gz", _mirrors(_MNIST_URLS, "t10k-images-idx3-ubyte.gz"),
                       "9fb629c4189551a2d022fa330f9573f3", 1648877,
                       "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
            RemoteFile("t10k-labels-idx1-ubyte.gz", _mirrors(_MNIST_URLS, "t10k-labels-idx1-ubyte.gz"),
                       "ec29112dd5afa0611ce80d1b7f02629c", 4542,
                       "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
        ),
    ),
    "cifar10": DatasetSpec(
        name="cifar10",
        description="CIFAR-10 (python batches): 50,000 train / 10,000 test, 32x32 colour",
        classes=CIFAR_CLASSES,
        loader=_cifar_loader,
        files=(
            RemoteFile("cifar-10-python.tar.gz",
                       ("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",),
                       "c58f30108f718f92721af3b95e74349a", 170498071),
        ),
    ),
}


def _spec(name: str) -> DatasetSpec:
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of: {', '.join(DATASETS)}")
    return DATASETS[name]


def load_dataset(name: str = DEFAULT_DATASET, dest=None) -> Dataset:
    """Load a dataset by name (see ``DATASETS``); raises with the fetch command if absent."""
    spec = _spec(name)
    if dest is not None:
        spec = DatasetSpec(**{**spec.__dict__, "extra": {**spec.extra, "dest": dest}})
    return spec.loader(spec, data_dir(dest) / name)


def choose_dataset(setting: str = DEFAULT_DATASET) -> str:
    """The dataset a notebook uses: its own setting unless COURSE_DATASET overrides it.

    Prints the choice, so a reader always knows which data produced the numbers.
    """
    env = os.environ.get("COURSE_DATASET", "").strip()
    name = env or setting
    spec = _spec(name)
    source = " (set by the COURSE_DATASET environment variable)" if env else ""
    print(f"dataset: {name}{source} - {spec.description}")
    return name


# --------------------------------------------------------------------------
# fetching
# --------------------------------------------------------------------------

def _extract_cifar(tarball: Path, folder: Path) -> None:
    """Extract the six batches (only them) into folder/cifar-10-batches-py atomically."""
    target = _cifar_folder(folder)
    tmp = Path(tempfile.mkdtemp(prefix=".cifar-extract-", dir=folder))
    try:
        out = tmp / "cifar-10-batches-py"
        out.mkdir()
        wanted = {f"cifar-10-batches-py/{b}" for b in CIFAR_BATCHES + ("batches.meta",)}
        with tarfile.open(tarball, "r:gz") as tar:
            for member in tar:
                if member.name in wanted and member.isfile():
                    src = tar.extractfile(member)
                    with open(out / Path(member.name).name, "wb") as f:
                        shutil.copyfileobj(src, f)
        for b in CIFAR_BATCHES:
            if not (out / b).exists():
                raise CorruptDataset(f"{tarball}: archive has no member cifar-10-batches-py/{b}")
            read_cifar_batch(out / b)
        if target.exists():
            shutil.rmtree(target)
        os.replace(out, target)
    except (tarfile.TarError, EOFError, OSError) as err:
        raise CorruptDataset(f"{tarball}: cannot extract ({err})") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _import_cifar_folder(source: Path, folder: Path) -> None:
    src = source / "cifar-10-batches-py" if (source / "cifar-10-batches-py").is_dir() else source
    for b in CIFAR_BATCHES:
        if not (src / b).exists():
            raise FileNotFoundError(f"{src / b} not found; --from must point at a folder holding "
                                    "cifar-10-python.tar.gz or the cifar-10-batches-py batches")
        read_cifar_batch(src / b)  # validates
    tmp = Path(tempfile.mkdtemp(prefix=".cifar-import-", dir=folder))
    try:
        for b in CIFAR_BATCHES:
            shutil.copyfile(src / b, tmp / b)
        target = _cifar_folder(folder)
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def fetch(name: str, dest=None, source=None, progress=True) -> Path:
    """Download (or, with ``source``, import from a local folder) a dataset.

    Returns the dataset's folder.  Every file is verified before it gets its
    final name; already-present verified files are skipped.
    """
    spec = _spec(name)
    if spec.bundled:
        path = BUNDLED_DIR / spec.name / BUNDLED_FILE
        print(f"{name} is bundled with the course ({path}); nothing to download.")
        return path.parent
    folder = data_dir(dest) / name
    folder.mkdir(parents=True, exist_ok=True)
    if name == "cifar10":
        if _cifar_folder(folder).exists() and all(
                (_cifar_folder(folder) / b).exists() for b in CIFAR_BATCHES):
            print(f"cifar10 already present in {_cifar_folder(folder)}")
            return folder
        tar_spec = spec.files[0]
        if source is not None and not (Path(source) / tar_spec.filename).exists():
            _import_cifar_folder(Path(source), folder)
            return folder
        tarball = (import_file(tar_spec, source, folder) if source is not None
                   else _download(name, tar_spec, folder, progress))
        _extract_cifar(tarball, folder)
        tarball.unlink()
        return folder
    for f in spec.files:
        if source is not None:
            import_file(f, source, folder)
        else:
            _download(name, f, folder, progress)
    return folder


def _download(name, spec, folder, progress) -> Path:
    try:
        return download_file(spec, folder, progress=progress)
    except DownloadError as err:
        raise DownloadError(f"{err}\n{_offline_hint(name)}") from None


# where a machine without the network can get a dataset's files
LOCAL_COPIES = {
    "fashion_mnist": "on Debian or Ubuntu: `apt-get install dataset-fashion-mnist`, then "
                     "--from /usr/share/datasets/fashion-mnist",
}


def _offline_hint(name: str) -> str:
    local = LOCAL_COPIES.get(name)
    return (f"No network? Copy the files from a machine that has it and import them with "
            f"`python -m assignments.data download {name} --from DIR`"
            + (f" ({local})." if local else "."))


def verify(name: str, dest=None) -> list[str]:
    """Re-check the files of a dataset; returns one line per file."""
    spec = _spec(name)
    lines = []
    if spec.bundled:
        load_dataset(name)
        return [f"{name}: bundled file checksum ok"]
    folder = data_dir(dest) / name
    if name == "cifar10":
        load_dataset(name, dest)
        return [f"cifar10: all six batches readable in {_cifar_folder(folder)}"]
    for f in spec.files:
        path = folder / f.filename
        if not path.exists():
            raise DatasetNotFound(f"{path} is missing; fetch it with\n    {fetch_command(name, dest)}")
        verify_file(path, f)
        lines.append(f"{path}: ok")
    return lines

