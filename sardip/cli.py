"""The ``sardip`` command: one-off use of the package without Snakemake.

Each sub-command lives in ``sardip.commands.<name>`` and exposes ``register(subparsers)``, which adds
its parser and sets ``func`` to a callable taking the parsed arguments and returning an exit code.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import signal
import sys
from pathlib import Path

from sardip import __version__
from sardip.io import exit_on_sigterm

#: Sub-command modules, in the order ``sardip --help`` lists them.
COMMANDS = ("demo_data", "metrics", "inpaint", "audit")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sardip", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"sardip {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"sardip.commands.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    exit_on_sigterm()
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(levelname)s %(message)s"
    )
    before = _output_state(args)
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError, OSError) as err:
        print(f"sardip {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"sardip {args.command}: interrupted (Ctrl-C); {_left_behind(args, before)}", file=sys.stderr)
        return 128 + signal.SIGINT
    except SystemExit as err:
        if err.code == 128 + signal.SIGTERM:  # exit_on_sigterm's
            print(f"sardip {args.command}: terminated (SIGTERM); {_left_behind(args, before)}", file=sys.stderr)
        raise


def _output_state(args: argparse.Namespace) -> tuple[int, int] | None:
    """(size, mtime in ns) of the command's ``--out`` file if it exists, to tell afterwards whether it was written."""
    out = Path(args.out) if getattr(args, "out", None) else None
    if out is None or not out.exists():
        return None
    stat = out.stat()
    return stat.st_size, stat.st_mtime_ns


def _left_behind(args: argparse.Namespace, before: tuple[int, int] | None) -> str:
    """What an interrupted command left at its output: every file is written under a temporary name and
    renamed when complete (:func:`sardip.io.atomic_path`), so there is no partial file."""
    if not getattr(args, "out", None):
        return "no partial file was left"
    now = _output_state(args)
    if now == before:
        return f"nothing was written at {args.out}" + (" (the earlier file there is unchanged)" if before else "")
    return f"{args.out} had been written before the interruption; its sidecar may be missing"


if __name__ == "__main__":
    sys.exit(main())
