"""python -m assignments.data {list,download,verify} ..."""

from __future__ import annotations

import argparse
import sys

from .errors import DatasetError
from .registry import BUNDLED_DIR, DATASETS, data_dir, fetch, verify


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m assignments.data",
                                     description="List, download and verify the course datasets.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="show every dataset and whether it is on disk")
    dl = sub.add_parser("download", help="fetch a dataset from its official source")
    dl.add_argument("name", choices=sorted(DATASETS))
    dl.add_argument("--dest", help="folder to put it in (default: $COURSE_DATA_DIR, else a user data folder)")
    dl.add_argument("--from", dest="source", metavar="LOCAL_DIR",
                    help="import a local copy instead of downloading, e.g. "
                         "/usr/share/datasets/fashion-mnist from Debian's dataset-fashion-mnist")
    dl.add_argument("--quiet", action="store_true", help="no progress bar")
    vf = sub.add_parser("verify", help="re-check a dataset's files")
    vf.add_argument("name", choices=sorted(DATASETS))
    vf.add_argument("--dest")
    args = parser.parse_args(argv)

    try:
        if args.command == "list":
            for name, spec in DATASETS.items():
                where = BUNDLED_DIR / name if spec.bundled else data_dir() / name
                present = "present" if where.exists() else "not downloaded"
                print(f"{name:20s} {present:15s} {where}\n    {spec.description}")
        elif args.command == "download":
            folder = fetch(args.name, args.dest, args.source, progress=not args.quiet)
            print(f"{args.name}: verified and ready in {folder}")
        elif args.command == "verify":
            for line in verify(args.name, args.dest):
                print(line)
    except (DatasetError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
