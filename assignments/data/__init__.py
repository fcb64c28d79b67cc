"""Datasets for the course: one registry, loaders, downloader, preprocessing.

    from assignments.data import load_dataset, choose_dataset
    data = load_dataset(choose_dataset("fashion_mnist_small"))

Command line (see ``python -m assignments.data --help``)::

    python -m assignments.data list
    python -m assignments.data download fashion_mnist [--dest DIR] [--from LOCAL_DIR]
"""

from .errors import CorruptDataset, DatasetError, DatasetNotFound, DownloadError
from .prep import append_bias, flatten, prepare_data, subsample, subtract_mean, train_val_split
from .readers import read_cifar_batch, read_idx
from .toy import make_clusters, make_gaussian_mixture, make_spiral
from .registry import (DATASETS, DEFAULT_DATASET, Dataset, choose_dataset, data_dir, fetch,
                       fetch_command, load_dataset, verify)

__all__ = [
    "CorruptDataset", "DatasetError", "DatasetNotFound", "DownloadError",
    "append_bias", "flatten", "prepare_data", "subsample", "subtract_mean", "train_val_split",
    "make_clusters", "make_gaussian_mixture", "make_spiral",
    "read_cifar_batch", "read_idx",
    "DATASETS", "DEFAULT_DATASET", "Dataset", "choose_dataset", "data_dir", "fetch",
    "fetch_command", "load_dataset", "verify",
]
