"""Paper figures, one function per figure, each writing one PNG.

Figures read tables and GeoTIFFs only, never models: :mod:`sardip.figures.images` draws tiles
(Fig. 4, Fig. 12), :mod:`sardip.figures.scores` draws the per-tile metric table of
:func:`sardip.metrics.tile_metrics_files` (Fig. 14, 15, 18), :mod:`sardip.figures.classify` the
classifier accuracy and confusion tables (Figs. 20-23), :mod:`sardip.figures.audit` the comparison of
fill methods by the forensic audit, :mod:`sardip.figures.experiments` the experiment tables of
:mod:`sardip.experiments` (Figs. 7, 9, 10, 11, 19). All use matplotlib's Agg renderer
through :class:`matplotlib.figure.Figure` (no pyplot state) and write atomically.
"""

from sardip.figures.audit import fig_audit_curve, fig_audit_methods
from sardip.figures.classify import fig20_accuracy, fig22_confusion
from sardip.figures.experiments import fig07_mse_vs_ssim, fig09_parallel, fig10_loss, fig11_hole_size, fig19_epi
from sardip.figures.images import fig04_progress, fig12_examples
from sardip.figures.scores import fig14_ssim, fig15_enl, fig18_epi

__all__ = [
    "fig04_progress",
    "fig07_mse_vs_ssim",
    "fig09_parallel",
    "fig10_loss",
    "fig11_hole_size",
    "fig12_examples",
    "fig14_ssim",
    "fig15_enl",
    "fig18_epi",
    "fig19_epi",
    "fig20_accuracy",
    "fig22_confusion",
    "fig_audit_curve",
    "fig_audit_methods",
]
