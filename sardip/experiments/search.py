"""The paper's Table 1 hyperparameter search: one Optuna study per land-cover class.

Search space (Table 1, 3 x 2 x 3 x 2 x 3 = 108 combinations): activation {tanh, relu, leaky_relu},
padding {reflection, zero}, upsampling {bilinear, nearest, deconvolution}, loss {mse, ssim}
(``mse``: minimise MSE; ``ssim``: minimise -SSIM) and input noise {gaussian, rayleigh, uniform}. Every
other parameter is the base preset's (the ``paper`` preset: widths, normalisation, optimiser, scaling).

A trial fits one DIP per sample tile of the class, batched (:func:`sardip.dip.engine.fit`), every tile
with its fixed seed ``tile_seed(tile_id, seed)``, so a trial's result depends on its parameters only.
Its **value** is the mean over tiles (and over VV, VH) of the FI SSIM of the network output against
the original (:mod:`sardip.experiments.common`); the study maximises it.

Pruning: Optuna's :class:`~optuna.pruners.HyperbandPruner` with DIP iterations as the resource
(``min_resource`` to ``iterations``, reduction factor ``eta``). Every ``report_every`` iterations the
trial reports the mean over tiles of the engine's ``ssim_known`` (SSIM of the output on the known pixels,
the only pixels a fit may look at while it runs), and Hyperband stops the trial when that is not among
the best ``1/eta`` of its bracket at a rung. Pruned trials stay in the study as ``PRUNED``.

Sampling: :class:`~optuna.samplers.GridSampler` seeded with ``seed`` shuffles the grid once; trial
number ``n < 108`` gets the ``n``-th combination of that order whichever worker runs it, so workers
sharing a study never repeat a combination, and a budget of ``trials`` (at most 108) covers the first
``trials`` combinations of the shuffled grid; 108 covers all of it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import sqlalchemy.exc
from optuna.trial import TrialState

from sardip.dip.engine import fit
from sardip.dip.presets import ACTIVATIONS, NOISES, PADDINGS, PAPER_ACTIVATION, UPSAMPLINGS, Preset
from sardip.experiments.common import score_batch

log = logging.getLogger(__name__)

LOSSES: tuple[str, ...] = ("mse", "ssim")
#: Attempts at opening a storage whose tables another worker may be creating at the same moment.
STORAGE_TRIES = 5
#: Table 1 of the paper: parameter -> values.
GRID: dict[str, tuple[str, ...]] = {
    "activation": ACTIVATIONS,
    "padding": PADDINGS,
    "upsampling": UPSAMPLINGS,
    "loss": LOSSES,
    "noise": NOISES,
}
PARAMS: tuple[str, ...] = tuple(GRID)
#: Columns of :func:`trials_table`.
TRIAL_COLUMNS: tuple[str, ...] = (
    "land_cover", "study", "number", "state", "value", *PARAMS,
    "iterations_run", "last_ssim_known", "worker", "seconds",
)  # fmt: skip


def paper_choice(land_cover: str) -> dict[str, str]:
    """The configuration the paper selected for ``land_cover`` (Section 3): reflection padding,
    deconvolution upsampling, SSIM loss, uniform noise, and the class's activation."""
    return {
        "activation": PAPER_ACTIVATION[land_cover],
        "padding": "reflection",
        "upsampling": "deconvolution",
        "loss": "ssim",
        "noise": "uniform",
    }


def with_loss(preset: Preset, loss: str) -> Preset:
    """``preset`` minimising ``-SSIM`` (``loss="ssim"``) or ``MSE`` (``loss="mse"``) alone."""
    if loss not in LOSSES:
        raise ValueError(f"loss {loss!r}: choose from {list(LOSSES)}")
    return preset.replace(ssim_weight=float(loss == "ssim"), mse_weight=float(loss == "mse"))


def trial_preset(base: Preset, params: Mapping[str, str]) -> Preset:
    """``base`` with the Table 1 switches of ``params`` (keys :data:`PARAMS`) applied."""
    switches = {k: params[k] for k in ("activation", "padding", "upsampling", "noise")}
    return with_loss(base.replace(**switches), params["loss"])


@dataclass(frozen=True)
class SearchSettings:
    """What decides a study's trials: budget, resource and pruning.

    ``trials``: trials per class in all workers together (clamped to the grid size); ``iterations``:
    DIP iterations of a trial that is never pruned; ``report_every``: iterations between intermediate
    values; ``min_resource`` / ``reduction_factor``: Hyperband's smallest budget (iterations) and eta;
    ``seed``: grid order and tile seeds.
    """

    trials: int
    iterations: int
    report_every: int
    min_resource: int
    reduction_factor: int = 3
    seed: int = 0

    def __post_init__(self) -> None:
        if min(self.trials, self.iterations, self.report_every, self.min_resource) < 1:
            raise ValueError(f"search settings must be positive: {self}")
        if self.min_resource > self.iterations or self.reduction_factor < 2:
            raise ValueError(f"need min_resource <= iterations and reduction_factor >= 2: {self}")


def grid_size(grid: Mapping[str, Sequence[str]] = GRID) -> int:
    """Number of combinations of ``grid``."""
    return int(np.prod([len(v) for v in grid.values()]))


def study_name(prefix: str, land_cover: str, settings: SearchSettings, tile_ids: Sequence[str], base: Preset) -> str:
    """``{prefix}-{land_cover}-{hash}``: the hash (12 hex digits of SHA-256) covers the settings, the
    tiles and the base preset, so a changed search starts a new study instead of mixing results."""
    text = json.dumps(
        {"settings": asdict(settings), "tiles": list(tile_ids), "base": base.config_hash()}, sort_keys=True
    )
    return f"{prefix}-{land_cover}-{hashlib.sha256(text.encode()).hexdigest()[:12]}"


def open_study(
    storage: str | None, name: str, settings: SearchSettings, grid: Mapping[str, Sequence[str]] = GRID
) -> optuna.Study:
    """Create or load the study ``name`` in ``storage`` (any Optuna storage URL: ``sqlite:///file.db``,
    ``postgresql://user@host:port/db``; ``None`` keeps it in memory), with the seeded grid sampler and
    the Hyperband pruner."""
    return optuna.create_study(
        storage=_storage(storage),
        study_name=name,
        direction="maximize",
        sampler=optuna.samplers.GridSampler({k: list(v) for k, v in grid.items()}, seed=settings.seed),
        pruner=optuna.pruners.HyperbandPruner(
            min_resource=settings.min_resource,
            max_resource=settings.iterations,
            reduction_factor=settings.reduction_factor,
        ),
        load_if_exists=True,
    )


def _storage(url: str | None) -> optuna.storages.RDBStorage | None:
    """An RDB storage for ``url`` (``None``: Optuna's in-memory storage, one process only); an SQLite
    file gets its folder created and waits up to 120 s for a lock (several workers write to it)
    instead of SQLite's default 5 s."""
    if url is None:
        return None
    kwargs: dict = {}
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        kwargs = {"engine_kwargs": {"connect_args": {"timeout": 120}}}
    # Workers started together on an empty database race to create Optuna's tables (PostgreSQL refuses
    # the second CREATE TYPE); the loser finds them there on its next try.
    attempt = 1
    while True:
        try:
            return optuna.storages.RDBStorage(url, **kwargs)
        except sqlalchemy.exc.DBAPIError:
            if attempt == STORAGE_TRIES:
                raise
            log.warning("creating the Optuna tables in %s collided with another worker: retrying", url)
            time.sleep(0.5 * attempt)
            attempt += 1


def load_study(storage: str, name: str) -> optuna.Study:
    """The existing study ``name`` in ``storage``, for reading its trials."""
    return optuna.load_study(study_name=name, storage=_storage(storage))


def worker_share(budget: int, workers: int, worker: int) -> int:
    """Trials worker ``worker`` (0-based) of ``workers`` runs: the budget split as evenly as possible."""
    if not 0 <= worker < workers:
        raise ValueError(f"worker {worker} of {workers}")
    return budget // workers + (worker < budget % workers)


def _worker_trials(study: optuna.Study, worker: int) -> list[optuna.trial.FrozenTrial]:
    return [t for t in study.get_trials(deepcopy=False) if t.user_attrs.get("worker") == worker]


def run_worker(
    study: optuna.Study,
    images_db: np.ndarray,
    hidden: np.ndarray,
    base: Preset,
    seeds: Sequence[int],
    settings: SearchSettings,
    *,
    worker: int = 0,
    workers: int = 1,
    device: str = "cpu",
    grid: Mapping[str, Sequence[str]] = GRID,
) -> list[int]:
    """Run worker ``worker``'s share of the study's trials; return the numbers of the trials it ran.

    ``images_db`` (B, C, H, W) dB, ``hidden`` (H, W) or (B, H, W) True = hidden, ``seeds`` one per tile.
    A rerun of the same worker (after a crash) first marks its trials left ``RUNNING`` as ``FAIL``,
    then runs only what its share still lacks, so the study never exceeds its budget.
    """
    budget = min(settings.trials, grid_size(grid))
    mine = _worker_trials(study, worker)
    for trial in mine:
        if trial.state == TrialState.RUNNING:
            log.warning("trial %d of worker %d was left running: marked FAIL", trial.number, worker)
            study.tell(trial.number, state=TrialState.FAIL)
    done = sum(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in mine)
    todo = max(worker_share(budget, workers, worker) - done, 0)
    log.info("worker %d/%d: %d trials done, %d to run", worker, workers, done, todo)

    def objective(trial: optuna.Trial) -> float:
        params = {k: trial.suggest_categorical(k, list(v)) for k, v in grid.items()}
        preset = trial_preset(base, params)
        trial.set_user_attr("worker", worker)
        trial.set_user_attr("config_hash", preset.config_hash())
        start = time.perf_counter()

        def on_report(done: int, total: int, rows: list[dict]) -> None:
            value = float(np.mean([r["ssim_known"] for r in rows]))
            trial.report(value, done)
            # A trial that reached its last iteration has paid for its result: score it, never prune it.
            if done < total and trial.should_prune():
                trial.set_user_attr("seconds", time.perf_counter() - start)
                raise optuna.TrialPruned(f"pruned at iteration {done} (ssim_known {value:.4f})")

        result = fit(
            images_db,
            hidden,
            preset,
            seeds,
            iterations=settings.iterations,
            device=device,
            report_every=settings.report_every,
            progress=on_report,
        )
        tiles = [s["ssim_fi"] for s in score_batch(images_db, result.output_db, hidden)]
        trial.set_user_attr("ssim_fi_tiles", tiles)
        trial.set_user_attr("seconds", time.perf_counter() - start)
        value = float(np.mean(tiles))
        log.info("trial %d %s: mean FI SSIM %.4f", trial.number, params, value)
        return value

    before = {t.number for t in study.get_trials(deepcopy=False)}
    if todo:
        study.optimize(objective, n_trials=todo, catch=())
    return sorted(t.number for t in _worker_trials(study, worker) if t.number not in before)


def trials_table(study: optuna.Study, land_cover: str) -> pd.DataFrame:
    """Every trial of ``study`` (columns :data:`TRIAL_COLUMNS`), states ``COMPLETE``, ``PRUNED``,
    ``FAIL`` or ``RUNNING`` as recorded; ``iterations_run`` is the last iteration reported,
    ``last_ssim_known`` the intermediate value there, ``seconds`` the fit time."""
    rows = []
    for t in study.get_trials(deepcopy=False):
        last = max(t.intermediate_values) if t.intermediate_values else 0
        rows.append(
            {
                "land_cover": land_cover,
                "study": study.study_name,
                "number": t.number,
                "state": t.state.name,
                "value": t.value if t.state == TrialState.COMPLETE else np.nan,
                **{k: t.params.get(k) for k in PARAMS},
                "iterations_run": last,
                "last_ssim_known": t.intermediate_values.get(last, np.nan),
                "worker": t.user_attrs.get("worker"),
                "seconds": t.user_attrs.get("seconds", np.nan),
            }
        )
    return pd.DataFrame(rows, columns=list(TRIAL_COLUMNS)).sort_values("number", ignore_index=True)


def best_table(trials: pd.DataFrame) -> pd.DataFrame:
    """Per class, the best completed trial beside the paper's choice (``source`` = ``search`` / ``paper``).

    The paper row carries the value of the trial that ran the paper's combination when the budget
    reached it (NaN otherwise, or when it was pruned), and ``rank`` its place among completed trials.
    ``agrees`` on the search row counts the switches on which the best trial and the paper agree.
    """
    rows = []
    for land_cover, group in trials.groupby("land_cover", sort=True):
        done = group[group["state"] == "COMPLETE"].sort_values("value", ascending=False, ignore_index=True)
        paper = paper_choice(str(land_cover)) if land_cover in PAPER_ACTIVATION else dict.fromkeys(PARAMS)
        match = group[np.logical_and.reduce([group[k] == v for k, v in paper.items()])]
        paper_row = {"land_cover": land_cover, "source": "paper", **paper, "value": np.nan, "state": "NOT_RUN"}
        if len(match):
            hit = match.iloc[0]
            paper_row.update(number=hit["number"], state=hit["state"], value=hit["value"])
            ranks = done.index[done["number"] == hit["number"]]
            paper_row["rank"] = int(ranks[0]) + 1 if len(ranks) else np.nan
        if len(done):
            best = done.iloc[0]
            rows.append(
                {
                    "land_cover": land_cover,
                    "source": "search",
                    **{k: best[k] for k in PARAMS},
                    "value": best["value"],
                    "state": best["state"],
                    "number": best["number"],
                    "rank": 1,
                    "agrees": sum(best[k] == v for k, v in paper.items()),
                    "completed": len(done),
                    "pruned": int((group["state"] == "PRUNED").sum()),
                }
            )
        rows.append(paper_row)
    columns = ["land_cover", "source", *PARAMS, "value", "state", "number", "rank", "agrees", "completed", "pruned"]
    table = pd.DataFrame(rows, columns=columns)
    return table.astype(dict.fromkeys(("number", "rank", "agrees", "completed", "pruned"), "Int64"))
