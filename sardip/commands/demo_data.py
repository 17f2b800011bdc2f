"""``sardip demo-data OUT``: write the embedded demo SEN12MS tree."""

from __future__ import annotations

import argparse

from sardip.demo import DEMO_SCENES, write_demo


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("demo-data", help="write the seeded demo SEN12MS tree", description=__doc__)
    parser.add_argument("out", help="output folder (the SEN12MS root)")
    parser.add_argument("--tile-size", type=int, default=64, help="tile side in px (SEN12MS: 256)")
    parser.add_argument("--patches-per-side", type=int, default=3, help="patches per scene side")
    parser.add_argument("--seed", type=int, default=0)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    tiles = write_demo(args.out, args.tile_size, args.patches_per_side, args.seed)
    print(f"wrote {len(tiles)} tiles in {len(DEMO_SCENES)} scenes under {args.out}")
    return 0
