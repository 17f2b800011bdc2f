"""Which tiles share a DIP job, and how a job's tiles reach their per-tile results.

The workflow fits the selected tiles in chunks of up to K (``inpaint.tiles_per_job``) tiles of one
class: one job, one batched fit on one device. A tile's result does not depend on its batch mates
(:mod:`sardip.inpaint`), so packing is scheduling only; what matters is that it is **stable**, so an
incremental run never refits a finished tile. The chunk **ledger** (``results/dip/ledger.tsv``) records
which chunk each tile belongs to, for the fit settings in force (their hash, :func:`settings_hash`):

- a chunk is immutable once its job has started (its checkpoint exists) or finished (its results
  exist): its tiles keep it in every later plan, whatever K is then, as long as its members' files
  exist (a chunk whose data was removed cannot be checked any more, and its tiles are packed anew);
- selected tiles in no such chunk are packed anew: per class, in tile-id order, K at a time, into
  chunks named by their content (:func:`chunk_id`), so the same situation always gives the same plan;
- chunks that never started are dropped from the ledger when the plan is made again: they hold no
  work, and a tile that left the selection in the meantime costs nothing.

The consequences, which ``tests/test_incremental.py`` checks: new scenes add only chunks of new tiles;
changing K alone changes no existing chunk and refits nothing; a tile displaced from the selection by
a newcomer keeps its finished results on disk and is simply no longer asked for; a crashed chunk
keeps its members and resumes from its checkpoint; changing a fit setting (preset, iterations, seed,
mask, grow, snapshots) starts a new ledger generation, so every tile is fitted again.

A chunk's job writes each tile's results under ``results/dip/chunks/<chunk>/<tile>/`` and a status
table (``status.tsv``: ``tile_id, status, reason``); a tile that fails (an unreadable file, a
diverged fit) is failed there alone. A per-tile rule links a finished tile's files to
``results/dip/<tile>/`` (hard links: no copy), the layout every later stage reads. Planning and
linking run in Snakemake's own process (a checkpoint and a local rule), so this module imports the
inpainting, and with it torch, only when a chunk is fitted.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from sardip.io import atomic_path, json_hash, read_table, write_table

if TYPE_CHECKING:
    from sardip.inpaint import FitSettings, OutputPaths
    from sardip.masks import MaskSpec

log = logging.getLogger(__name__)

#: Columns of the ledger and of a plan (a plan adds ``selected``: the tile is in the current selection).
LEDGER_COLUMNS: tuple[str, ...] = ("chunk", "tile_id", "land_cover", "s1_path", "settings")
#: Columns of a chunk's status table.
STATUS_COLUMNS: tuple[str, ...] = ("tile_id", "status", "reason")
#: The files of one tile's DIP result, relative to its folder (snapshots come on top).
TILE_FILES: tuple[str, ...] = ("inpainted.tif", "raw.tif", "mask.tif", "trajectory.tsv")


def settings_hash(fit: Mapping[str, object]) -> str:
    """16 hex digits of the sha256 of the settings that change a tile's result (sorted-key JSON)."""
    return json_hash(dict(fit))


def chunk_id(land_cover: str, settings: str, members: Sequence[str]) -> str:
    """``<class>-<8 hex>``: a name that only these members under these settings get."""
    digest = hashlib.sha256(f"{settings}|{','.join(members)}".encode()).hexdigest()[:8]
    return f"{land_cover}-{digest}"


def started_in(chunks_dir: str | Path, state_dir: str | Path) -> Callable[[str], bool]:
    """Whether a chunk's job finished (``<chunks_dir>/<chunk>/status.tsv``) or started
    (``<state_dir>/<chunk>.pt``, its checkpoint)."""
    return lambda chunk: (
        (Path(chunks_dir) / chunk / "status.tsv").exists() or (Path(state_dir) / f"{chunk}.pt").exists()
    )


def plan_chunks(
    selected: pd.DataFrame,
    ledger: pd.DataFrame | None,
    settings: str,
    tiles_per_job: int,
    started: Callable[[str], bool],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The chunks of the selected tiles (``tile_id``, ``class``, ``s1_path``) and the ledger to keep
    (module docstring).

    ``ledger``: the previous one (``None`` at first). ``started(chunk)`` says whether a chunk's job has
    started or finished (:func:`started_in`). Returns (plan, ledger): the
    plan lists every chunk that holds a selected tile, with all its members (:data:`LEDGER_COLUMNS`
    plus ``selected``); the ledger is the old one without never-started chunks and chunks with a
    member file gone, plus the new chunks.
    """
    if tiles_per_job < 1:
        raise ValueError(f"tiles_per_job={tiles_per_job}: must be at least 1")
    if ledger is None or not len(ledger):
        ledger = pd.DataFrame(columns=list(LEDGER_COLUMNS))
    ledger = ledger.loc[:, list(LEDGER_COLUMNS)]
    gone = set(ledger.loc[[not Path(p).exists() for p in ledger["s1_path"]], "chunk"]) if len(ledger) else set()
    kept = ledger[[c not in gone and started(c) for c in ledger["chunk"]]] if len(ledger) else ledger
    current = kept[kept["settings"] == settings]
    placed = set(current["tile_id"])
    rows = []
    fresh = selected[~selected["tile_id"].isin(placed)].sort_values("tile_id")
    for land_cover, tiles in fresh.groupby("class", sort=True):
        ids, paths = tiles["tile_id"].tolist(), tiles["s1_path"].tolist()
        for start in range(0, len(ids), tiles_per_job):
            members = ids[start : start + tiles_per_job]
            chunk = chunk_id(str(land_cover), settings, members)
            rows += [
                {"chunk": chunk, "tile_id": t, "land_cover": land_cover, "s1_path": p, "settings": settings}
                for t, p in zip(members, paths[start : start + tiles_per_job], strict=True)
            ]
    new = pd.DataFrame(rows, columns=list(LEDGER_COLUMNS))
    ledger = pd.concat([kept, new], ignore_index=True) if len(new) else kept.reset_index(drop=True)
    chosen = set(selected["tile_id"])
    generation = ledger[ledger["settings"] == settings]
    wanted = set(generation.loc[generation["tile_id"].isin(chosen), "chunk"])
    plan = generation[generation["chunk"].isin(wanted)].assign(selected=lambda f: f["tile_id"].isin(chosen))
    return plan.sort_values(["chunk", "tile_id"], ignore_index=True), ledger


def tile_outputs(folder: Path, snapshots: Sequence[int]) -> OutputPaths:
    """Where one tile's DIP results go in ``folder`` (the chunk's or the tile's own)."""
    from sardip.inpaint import OutputPaths

    inpainted, raw, mask, trajectory = (folder / name for name in TILE_FILES)
    return OutputPaths(inpainted, raw=raw, mask=mask, trajectory=trajectory, snapshot_dir=folder / "snapshots",
                       snapshots=tuple(snapshots))  # fmt: skip


def run_chunk(
    members: Mapping[str, str | Path],
    mask: MaskSpec,
    settings: FitSettings,
    snapshots: Sequence[int],
    out_dir: Path,
    checkpoint: Path,
) -> pd.DataFrame:
    """Fit a chunk's tiles (tile id -> S1 file, one class) as one batch and write their results.

    Each tile's files go to ``out_dir/<tile>/`` (:func:`tile_outputs`), the status table to
    ``out_dir/status.tsv`` (written last, so it marks a finished chunk). The fit resumes from, and
    saves its state to, ``checkpoint``. Returns the status table.
    """
    # Imported here: planning and linking run inside Snakemake's own process, which need not load torch.
    from sardip.inpaint import TileJob, inpaint_tiles

    jobs = [
        TileJob((Path(path),), mask, tile_outputs(out_dir / tile, snapshots), tile) for tile, path in members.items()
    ]
    log.info("fitting %d tiles: %s", len(jobs), ", ".join(members))
    outcomes = inpaint_tiles(jobs, settings, checkpoint=checkpoint, isolate_failures=True)
    status = pd.DataFrame(
        [{"tile_id": o.tile_id, "status": "ok" if o.ok else "failed", "reason": o.error} for o in outcomes],
        columns=list(STATUS_COLUMNS),
    )
    write_table(status, out_dir / "status.tsv")
    return status


def tile_results(plan: pd.DataFrame, chunk_dirs: Sequence[str | Path]) -> pd.DataFrame:
    """Where each selected tile's DIP result is: ``tile_id``, ``folder`` (in its chunk), ``status``
    (``ok`` or ``failed``) and ``reason``, from the finished chunks' status tables."""
    folders = {Path(d).name: Path(d) for d in chunk_dirs}
    rows = []
    for tile, chunk in zip(plan.loc[plan["selected"], "tile_id"], plan.loc[plan["selected"], "chunk"], strict=True):
        status = read_status(folders[chunk]).set_index("tile_id")
        state, why = status.loc[tile, ["status", "reason"]] if tile in status.index else ("failed", "not fitted")
        rows.append({"tile_id": tile, "folder": str(folders[chunk] / tile), "status": state, "reason": why})
    return pd.DataFrame(rows, columns=["tile_id", "folder", "status", "reason"])


def read_status(chunk_dir: str | Path) -> pd.DataFrame:
    """A finished chunk's status table; ``ValueError`` naming the folder when it has none."""
    path = Path(chunk_dir) / "status.tsv"
    if not path.is_file():
        raise ValueError(f"{chunk_dir}: no status.tsv, the chunk did not finish")
    return read_table(path).fillna({"reason": ""})


def link_tile(chunk_dir: str | Path, tile_id: str, files: Sequence[str | Path]) -> None:
    """Give one finished tile its per-tile files: ``files`` (``results/dip/<tile>/...`` paths, in
    :data:`TILE_FILES` order, then the snapshots) become hard links to the chunk's copies (a copy where
    the file system has no hard links), stamped with the current time. ``ValueError`` when the tile
    failed in its chunk."""
    status = read_status(chunk_dir).set_index("tile_id")
    if tile_id not in status.index or status.loc[tile_id, "status"] != "ok":
        reason = status.loc[tile_id, "reason"] if tile_id in status.index else "not a member"
        raise ValueError(f"{tile_id} has no result in {chunk_dir}: {reason}")
    source = Path(chunk_dir) / tile_id
    for target in map(Path, files):
        relative = Path(target.parent.name, target.name) if target.parent.name == "snapshots" else Path(target.name)
        with atomic_path(target) as tmp:
            tmp.unlink()
            try:
                os.link(source / relative, tmp)
            except OSError:
                shutil.copy(source / relative, tmp)
            os.utime(tmp)  # newer than the chunk's own timestamp, so Snakemake sees the link as up to date
