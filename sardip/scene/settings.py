"""How a scene is anonymised (:class:`SceneSettings`): plain data, shared by the CLI, the workflow's
scene sheet and :mod:`sardip.scene.anonymise`. It loads neither torch nor the engine, so the workflow
can read its sheet when it starts without paying for them; the fill itself is the
:class:`sardip.fill.spec.FillSpec` the tile path uses too."""

from __future__ import annotations

from dataclasses import dataclass

from sardip.fill.spec import FillSpec
from sardip.scene.source import SceneError
from sardip.scene.windows import MARGIN, MAX_SIDE

#: Grain draws a window whose fill fails the audit gets by default, the first included
#: (:mod:`sardip.scene.escalation`): at most three times the paste and audit of one attempt.
ATTEMPTS = 3


@dataclass(frozen=True)
class SceneSettings(FillSpec):
    """How a scene is anonymised: a :class:`sardip.fill.spec.FillSpec` (``method``, ``preset``,
    ``land_cover``, ``iterations``, ``speckle``, ``seed``; the seed also places ``random:SIZE``), and
    ``margin`` (px of context, at least 1), ``grow`` (px added to each hidden area), ``max_side`` (the
    widest hidden area accepted, :data:`sardip.scene.windows.MAX_SIDE`), ``invert_mask``, ``batch``
    (windows per engine call), ``device``, ``units`` (``auto`` or given), and what to write: ``cog``,
    ``overwrite``, ``provenance_tags`` (provenance in the raster's tags too); ``allow_no_crs`` accepts a
    raster without georeference (box and raster masks only); ``detector_model`` the weights of the
    audit's learned detector (``None``: the model shipped with the package); ``accept_detectable``
    publishes a scene whose audit finds an edit (:mod:`sardip.scene.gate`; the sidecar records it);
    ``review`` a folder for the candidate raster and its pictures, written whatever the verdict;
    ``attempts`` the grain draws a window whose fill fails the audit gets, the first included
    (:mod:`sardip.scene.escalation`)."""

    margin: int = MARGIN
    grow: int = 0
    max_side: int = MAX_SIDE
    invert_mask: bool = False
    batch: int = 8
    device: str = "auto"
    units: str = "auto"
    cog: bool = False
    overwrite: bool = False
    provenance_tags: bool = False
    allow_no_crs: bool = False
    detector_model: str | None = None
    accept_detectable: bool = False
    review: str | None = None
    attempts: int = ATTEMPTS

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.batch < 1:
            raise SceneError(f"batch={self.batch}: at least 1 window per engine call")
        if self.margin < 1:
            raise SceneError(
                f"margin={self.margin}: at least 1 px of context around each hidden area (every fill draws on "
                f"the known pixels around it; the default is {MARGIN})"
            )
        if self.attempts < 1:
            raise SceneError(f"attempts={self.attempts}: at least 1 fill per window")
        if self.max_side < 1:
            raise SceneError(f"max_side={self.max_side}: at least 1 px")
