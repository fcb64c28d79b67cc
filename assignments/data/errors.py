"""Errors raised by the data layer; each message says what to do next."""

from __future__ import annotations


class DatasetError(Exception):
    """Base class for every data problem."""


class DatasetNotFound(DatasetError, FileNotFoundError):
    """A dataset is not on disk; the message holds the command that fetches it."""


class CorruptDataset(DatasetError, ValueError):
    """A file exists but is truncated, has the wrong checksum or wrong format."""


class DownloadError(DatasetError, OSError):
    """Every mirror failed; the message lists what each one said."""
