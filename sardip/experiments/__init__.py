"""The paper's experiments (Sections 4.1-4.3) on the engine and the metrics: the Table 1 hyperparameter
search (:mod:`~sardip.experiments.search`, Fig. 9) and the loss, hole-size and EPI studies
(:mod:`~sardip.experiments.sweeps`, Figs. 7, 10, 11, 19). Pure functions on arrays and tables; the
workflow's scripts read tiles and write outputs around them.
"""

from sardip.experiments.common import SCORES, centred_box, score, score_batch, tile_masks
from sardip.experiments.search import (
    GRID,
    SearchSettings,
    best_table,
    load_study,
    open_study,
    paper_choice,
    run_worker,
    study_name,
    trial_preset,
    trials_table,
    with_loss,
    worker_share,
)
from sardip.experiments.sweeps import (
    epi_trajectory,
    fig07_panels,
    hole_size_sweep,
    loss_comparison,
    similar_mse_pair,
)

__all__ = [
    "GRID",
    "SCORES",
    "SearchSettings",
    "best_table",
    "centred_box",
    "epi_trajectory",
    "fig07_panels",
    "hole_size_sweep",
    "load_study",
    "loss_comparison",
    "open_study",
    "paper_choice",
    "run_worker",
    "score",
    "score_batch",
    "similar_mse_pair",
    "study_name",
    "tile_masks",
    "trial_preset",
    "trials_table",
    "with_loss",
    "worker_share",
]
