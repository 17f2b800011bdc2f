"""Sub-commands of the ``sardip`` CLI, one module each (see :mod:`sardip.cli`)."""

import argparse

from sardip.masks import SPEC_HELP


def add_comparison_arguments(parser: argparse.ArgumentParser, mask_help: str, json_help: str) -> None:
    """The arguments of commands that compare a result with its original under a mask (metrics, audit)."""
    parser.add_argument("original", help="untouched GeoTIFF (dB or linear power)")
    parser.add_argument("result", help="edited GeoTIFF on the same grid")
    parser.add_argument("--mask", required=True, help=f"{mask_help}: {SPEC_HELP}")
    parser.add_argument("--invert-mask", action="store_true", help="raster mask marks the target (nonzero = hide)")
    parser.add_argument("--json", action="store_true", help=json_help)
