"""python -m strata_results export ARCHIVE -o DIR [--format csv|parquet]

Exit codes: 0 written, 2 bad input (one line on stderr naming the file)."""
import argparse
import sys
from pathlib import Path

from .archive import Archive
from .catalog import NotAnArchive
from .export import FORMATS, ExportError, export


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2, as every strata command
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        sys.exit(2)


def parse_args(argv):
    ap = Parser(prog="strata export", description="Write the tables of a strata archive as CSV or Parquet files.")
    sub = ap.add_subparsers(dest="command", required=True, parser_class=Parser)
    ex = sub.add_parser("export", help="the archive's tables as files")
    ex.add_argument("archive", help="the archive (.h5)")
    ex.add_argument("-o", "--out", required=True, help="output folder")
    ex.add_argument("--format", default="csv", choices=FORMATS, help="csv (default) or parquet")
    return ap.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    path = Path(args.archive)
    if not path.is_file():
        print(f"export: {path}: no such file", file=sys.stderr)
        return 2
    try:
        with Archive(path) as archive:
            written = export(archive, args.out, args.format)
    except (NotAnArchive, ExportError) as e:
        print(f"export: {e}", file=sys.stderr)
        return 2
    except (KeyError, ValueError, OSError) as e:
        print(f"export: {path}: {type(e).__name__}: {e}", file=sys.stderr)
        return 2
    print(f"export: {len(written)} tables in {args.out} ({', '.join(p.name for p in written)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
