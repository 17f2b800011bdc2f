"""Can anyone tell where an image was edited? The forensic audit of inpainted areas.

:mod:`sardip.audit.detectors` holds the audit of one tile: the statistics of the hidden area against
its ring, the registry of blind detectors (:data:`DETECTORS`) and the pass targets (:data:`TARGETS`).
:mod:`sardip.audit.stage` is the workflow's audit stage: every fill method on the same tiles, their
verdicts, the per-class comparison and the time-to-quality curve. It runs the fills, so it is not
imported here: the detectors stay free of the inpainting they judge.
"""

from sardip.audit.detectors import (
    COLUMNS,
    DETECTORS,
    TARGETS,
    WINDOWS,
    AuditError,
    Baseline,
    Detector,
    audit,
    audit_files,
    baseline,
    enl_window,
    missed_targets,
    target_checks,
    verdict,
    window_enl,
)
from sardip.audit.roc import roc_auc

__all__ = [
    "COLUMNS",
    "DETECTORS",
    "TARGETS",
    "WINDOWS",
    "AuditError",
    "Baseline",
    "Detector",
    "audit",
    "audit_files",
    "baseline",
    "enl_window",
    "missed_targets",
    "roc_auc",
    "target_checks",
    "verdict",
    "window_enl",
]
