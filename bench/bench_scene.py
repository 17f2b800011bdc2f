"""Scene-scale anonymisation: peak memory and time against the scene's size and the hidden area, and
the unavoidable full copy against GDAL's own.

Scenes are written block by block as a data provider holds them: two float32 dB bands (VV, VH),
512 px tiles, DEFLATE, speckle over a slowly varying backscatter. Polygons are 64 x 64 px squares in
the scene's CRS (a GeoPackage), on a regular grid in the scene's interior.

- ``size``: 100 polygons in scenes of 2,048, 8,192 and 20,000 px, DIP (``credible``,
  ``--iterations`` iterations, CPU, one thread);
- ``polygons``: 1, 100 and 10,000 polygons in the 20,000 px scene with a classic fill (``gdal``),
  which costs the same per window whatever the iterations: planning, rasterising per window,
  reading, the audit per window and patching;
- ``copy``: the full copy of the 20,000 px scene with nothing hidden against GDAL's CreateCopy
  (what ``gdal_translate`` runs) with the same creation options, GTiff and COG.

Every case runs in its own process, which reports its peak resident memory (``ru_maxrss``) and the
seconds of planning, filling and writing. Writes ``bench/results/scene.json`` and ``scene.md``.

    python bench/bench_scene.py --iterations 5
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from areas import write_boxes
from common import RESULTS, SCRATCH, write_results

WORK = SCRATCH / "bench_scene"
ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
SIDE = 64
CRS = "EPSG:32632"


def write_scene(path: Path, size: int, seed: int = 0) -> Path:
    """A ``size`` px two-band dB scene, written one 512 px block row at a time."""
    import rasterio
    from rasterio.transform import from_origin
    from rasterio.windows import Window

    if path.exists():
        return path
    rng = np.random.default_rng(seed)
    profile = {"driver": "GTiff", "width": size, "height": size, "count": 2, "dtype": "float32", "nodata": np.nan,
               "crs": CRS, "transform": from_origin(500_000.0, 5_200_000.0, 10.0, 10.0), "tiled": True,
               "blockxsize": 512, "blockysize": 512, "compress": "deflate", "predictor": 3,
               "bigtiff": "IF_SAFER"}  # fmt: skip
    tmp = path.with_suffix(".part.tif")
    with rasterio.open(tmp, "w", **profile) as dst:
        cols = np.arange(size)[None, :]
        for r in range(0, size, 512):
            h = min(512, size - r)
            rows = np.arange(r, r + h)[:, None]
            level = -12.0 + 3.0 * np.sin(rows / 700.0) * np.cos(cols / 900.0)
            speckle = 10 * np.log10(rng.gamma(4.0, 0.25, (2, h, size)))
            block = np.stack([level, level - 6.0]) + speckle
            dst.write(block.astype(np.float32), window=Window(0, r, size, h))
        dst.descriptions = ("VV", "VH")
    tmp.rename(path)
    return path


def write_polygons(path: Path, size: int, count: int, side: int = SIDE) -> Path:
    """``count`` squares of ``side`` px on a regular grid that leaves every window apart."""
    from rasterio.transform import from_origin

    if path.exists():
        return path
    per_side = int(np.ceil(np.sqrt(count)))
    step = (size - 256) // per_side
    if step < side + 2 * 40:
        raise SystemExit(f"{count} polygons of {side} px do not fit apart in a {size} px scene")
    boxes = [(128 + (k // per_side) * step, 128 + (k % per_side) * step, side) for k in range(count)]
    return write_boxes(path, boxes, from_origin(500_000.0, 5_200_000.0, 10.0, 10.0), CRS)


def case(scene: str, mask: str, out: str, method: str, iterations: int, margin: int) -> dict:
    """One anonymisation, in this process: the stages of :func:`sardip.scene.anonymise_scene`, timed
    (any polygon side accepted)."""
    import torch

    from sardip.scene.anonymise import SceneSettings, fill_windows, plan_scene, publish, scene_provenance
    from sardip.scene.source import Scene

    torch.set_num_threads(1)
    settings = SceneSettings(method=method, iterations=iterations, device="cpu", batch=8, margin=margin, max_side=1024,
                             accept_detectable=True)  # fmt: skip
    t0 = time.perf_counter()
    with Scene.open([Path(scene)]) as source:
        plan = plan_scene(source, mask, settings)
        t1 = time.perf_counter()
        patches, figures, device = fill_windows(source, plan, plan.batches(settings.batch), settings)
        t2 = time.perf_counter()
        provenance = scene_provenance(source, mask, settings, plan, figures, device)
        publish(source, Path(out), patches, provenance, settings, t2 - t0)
        t3 = time.perf_counter()
    return {"windows": len(plan.windows), "hidden_pixels": int(sum(f["hidden_pixels"] for f in figures)),
            "plan_s": t1 - t0, "fill_s": t2 - t1, "write_s": t3 - t2, "total_s": t3 - t0}  # fmt: skip


def gdal_copy(scene: str, out: str, cog: bool) -> dict:
    """GDAL's CreateCopy of ``scene`` with the creation options sardip writes (its reference speed)."""
    import rasterio
    import rasterio.shutil

    t0 = time.perf_counter()
    with rasterio.Env(GDAL_CACHEMAX=64 * 2**20):
        if cog:
            rasterio.shutil.copy(scene, out, driver="COG", COMPRESS="DEFLATE", BLOCKSIZE=512, BIGTIFF="IF_SAFER",
                                 OVERVIEWS="IGNORE_EXISTING", RESAMPLING="AVERAGE")  # fmt: skip
        else:
            rasterio.shutil.copy(scene, out, driver="GTiff", TILED="YES", BLOCKXSIZE=512, BLOCKYSIZE=512,
                                 COMPRESS="DEFLATE", PREDICTOR=3, BIGTIFF="IF_SAFER")  # fmt: skip
    return {"total_s": time.perf_counter() - t0}


def sardip_copy(scene: str, out: str, cog: bool) -> dict:
    """sardip's block copy of ``scene`` with nothing hidden."""
    from sardip.scene.output import write_scene as write
    from sardip.scene.source import Scene

    t0 = time.perf_counter()
    with Scene.open([Path(scene)]) as source:
        write(source, Path(out), [], cog=cog)
    return {"total_s": time.perf_counter() - t0}


def child(kind: str, args: list[str]) -> dict:
    """Run one case in a fresh process; its figures and its peak RSS (MiB)."""
    cmd = [sys.executable, __file__, "--child", kind, *args]
    result = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **ENV})
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{result.stderr[-3000:]}")
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    out = Path(args[2] if kind == "case" else args[1])
    out.unlink(missing_ok=True)
    out.with_name(out.stem + ".provenance.json").unlink(missing_ok=True)
    return figures


def run_child(kind: str, args: list[str]) -> None:
    cogged = len(args) > 2 and args[2] == "cog"
    runners = {"case": lambda: case(args[0], args[1], args[2], args[3], int(args[4]), int(args[5])),
               "gdal": lambda: gdal_copy(args[0], args[1], cogged),
               "translate": lambda: translate(args[0], args[1], cogged),
               "sardip": lambda: sardip_copy(args[0], args[1], cogged)}  # fmt: skip
    figures = runners[kind]()
    figures["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(figures))


def _table(title: str, columns: dict[str, str], rows: list[dict]) -> list[str]:
    """A markdown section: ``columns`` maps each header to a format of a row's fields."""
    lines = ["", f"## {title}", "", "| " + " | ".join(columns) + " |", "|" + "---:|" * len(columns)]
    return lines + ["| " + " | ".join(fmt.format(**row) for fmt in columns.values()) + " |" for row in rows]


STAGES = {"plan (s)": "{plan_s:.1f}", "fill (s)": "{fill_s:.1f}", "write (s)": "{write_s:.1f}",
          "peak RSS (MiB)": "{peak_rss_mib:,.0f}"}  # fmt: skip


def markdown(report: dict) -> str:
    lines = [
        "# Scene-scale anonymisation: memory and time (`bench/bench_scene.py`)", "",
        f"{report['machine']}; torch and BLAS on one thread; DIP `credible` with {report['iterations']} iterations "
        "on the CPU (the fill column grows with the iterations; the paper-scale iterations run on GPUs).",
        "Scenes: two float32 dB bands, 512 px tiles, DEFLATE; polygons are squares in a GeoPackage.",
    ]  # fmt: skip
    sections = {
        "size": ("Against the scene's size (100 polygons of 64 px, DIP)",
                 {"scene (px)": "{size:,}", "file (MiB)": "{file_mib:,.0f}", "margin (px)": "{margin}",
                  "windows": "{windows}", **STAGES}),
        "area": ("Against the hidden area (8,192 px scene, 20 polygons, DIP)",
                 {"polygon side (px)": "{side}", "margin (px)": "{margin}", "hidden px": "{hidden_pixels:,}",
                  "windows": "{windows}", **STAGES}),
        "polygons": ("Against the polygon count (20,000 px scene, 64 px polygons, classic fill `gdal`)",
                     {"polygons": "{polygons:,}", "margin (px)": "{margin}", "hidden px": "{hidden_pixels:,}",
                      "windows": "{windows:,}", **STAGES}),
        "copy": ("The full copy against GDAL (20,000 px scene, nothing hidden; seconds and peak RSS in MiB)",
                 {"output": "{output}", "gdal_translate (s)": "{translate_s}", "GDAL CreateCopy (s)": "{gdal_s:.1f}",
                  "sardip (s)": "{sardip_s:.1f}", "sardip / CreateCopy": "{ratio:.2f}",
                  "gdal_translate RSS": "{translate_rss}", "CreateCopy RSS": "{gdal_rss_mib:,.0f}",
                  "sardip RSS": "{sardip_rss_mib:,.0f}"}),
    }  # fmt: skip
    for key, (title, columns) in sections.items():
        if report.get(key):
            lines += _table(title, columns, report[key])
    return "\n".join(lines) + "\n"


def translate(scene: str, out: str, cog: bool) -> dict:
    """``gdal_translate`` (GDAL's command line, when installed) with the same creation options."""
    options = (["-of", "COG", "-co", "BLOCKSIZE=512", "-co", "OVERVIEWS=IGNORE_EXISTING", "-co", "RESAMPLING=AVERAGE"]
               if cog else ["-of", "GTiff", "-co", "TILED=YES", "-co", "BLOCKXSIZE=512", "-co", "BLOCKYSIZE=512",
                            "-co", "PREDICTOR=3"])  # fmt: skip
    cmd = ["gdal_translate", "-q", "--config", "GDAL_CACHEMAX", "64", *options, "-co", "COMPRESS=DEFLATE",
           "-co", "BIGTIFF=IF_SAFER", scene, out]  # fmt: skip
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True)
    return {"total_s": time.perf_counter() - t0,
            "child_rss_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}  # fmt: skip


def copies(scene: Path) -> list[dict]:
    """GTiff and COG: gdal_translate (if on PATH), GDAL's CreateCopy and sardip, one after the other."""
    rows = []
    for output in ("GTiff", "COG"):
        flag = ["cog"] if output == "COG" else []
        gdal = child("gdal", [str(scene), str(WORK / "copy.tif"), *flag])
        ours = child("sardip", [str(scene), str(WORK / "copy.tif"), *flag])
        row = {"output": output, "gdal_s": gdal["total_s"], "sardip_s": ours["total_s"],
               "ratio": ours["total_s"] / gdal["total_s"], "gdal_rss_mib": gdal["peak_rss_mib"],
               "sardip_rss_mib": ours["peak_rss_mib"], "translate_s": "not installed",
               "translate_rss": "-"}  # fmt: skip
        if shutil.which("gdal_translate"):
            cli = child("translate", [str(scene), str(WORK / "copy.tif"), *flag])
            row.update(translate_s=f"{cli['total_s']:.1f}", translate_rss=f"{cli['child_rss_mib']:,.0f}")
        rows.append(row)
        print(row, flush=True)
    return rows


def kept_rows(earlier: dict, args: argparse.Namespace) -> int:
    """How many rows of an earlier ``scene.json`` this run keeps without measuring them again."""
    again = {"size": lambda row: row["size"] in args.sizes, "area": lambda row: True,
             "polygons": lambda row: row["polygons"] in args.counts, "copy": lambda row: True}  # fmt: skip
    return sum(part not in args.parts or not measured(row) for part, measured in again.items()
               for row in earlier.get(part, []))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=int, default=5)
    parser.add_argument("--margin", type=int, default=None, help="context margin (default: sardip's)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[2048, 8192, 20000])
    parser.add_argument("--sides", type=int, nargs="+", default=[32, 64, 128, 256])
    parser.add_argument("--counts", type=int, nargs="+", default=[1, 100, 10000])
    parser.add_argument("--parts", nargs="+", default=["size", "area", "polygons", "copy"],
                        help="what to measure (an earlier scene.json keeps the rest)")  # fmt: skip
    parser.add_argument("--child", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    if args.child:
        run_child(args.child[0], args.child[1:])
        return
    WORK.mkdir(parents=True, exist_ok=True)
    saved = RESULTS / "scene.json"
    earlier: dict = json.loads(saved.read_text()) if saved.exists() else {}
    report = dict(earlier)
    from sardip.scene.windows import MARGIN  # not sardip.scene.anonymise: torch in this process would
    # raise every child's ru_maxrss to this one's (Linux keeps the high-water mark across fork and exec)

    margin = MARGIN if args.margin is None else args.margin
    report.update(machine=f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
                  iterations=args.iterations)  # fmt: skip
    big, mid = max(args.sizes), sorted(args.sizes)[len(args.sizes) // 2]
    dip = [str(WORK / "out.tif"), "dip", str(args.iterations), str(margin)]
    if "size" in args.parts:
        report["size"] = [r for r in report.get("size", []) if r["size"] not in args.sizes]
        for size in args.sizes:
            scene = write_scene(WORK / f"scene_{size}.tif", size)
            mask = write_polygons(WORK / f"polygons_{size}_100.gpkg", size, 100)
            row = child("case", [str(scene), str(mask), *dip])
            report["size"].append({"size": size, "file_mib": scene.stat().st_size / 2**20, "margin": margin, **row})
            print(report["size"][-1], flush=True)
        report["size"].sort(key=lambda r: r["size"])
    if "area" in args.parts:
        report["area"] = []
        scene = write_scene(WORK / f"scene_{mid}.tif", mid)
        for side in args.sides:
            mask = write_polygons(WORK / f"polygons_{mid}_20_{side}.gpkg", mid, 20, side)
            report["area"].append({"side": side, "margin": margin, **child("case", [str(scene), str(mask), *dip])})
            print(report["area"][-1], flush=True)
    if "polygons" in args.parts:
        report["polygons"] = [r for r in report.get("polygons", []) if r["polygons"] not in args.counts]
        scene = write_scene(WORK / f"scene_{big}.tif", big)
        for count in args.counts:
            mask = write_polygons(WORK / f"polygons_{big}_{count}.gpkg", big, count)
            row = child("case", [str(scene), str(mask), str(WORK / "out.tif"), "gdal", "0", str(margin)])
            report["polygons"].append({"polygons": count, "margin": margin, **row})
            print(report["polygons"][-1], flush=True)
        report["polygons"].sort(key=lambda r: r["polygons"])
    if "copy" in args.parts:
        report["copy"] = copies(write_scene(WORK / f"scene_{big}.tif", big))
    kept_from = earlier.get("stamp") if kept_rows(earlier, args) else None
    write_results("scene", markdown(report), report, presets=["credible"], kept_from=kept_from)
    print(markdown(report))


if __name__ == "__main__":
    main()
