"""What fills a hidden area, the same for a tile and for a scene window (:class:`FillSpec`).

The tile path's :class:`sardip.inpaint.FitSettings` and the scene path's
:class:`sardip.scene.settings.SceneSettings` both are a :class:`FillSpec` with settings of their own
(device and reporting; windows, masks and output), so the fields, their checks and the rule for
speckle-consistent filling are written once. The preset is looked up only when asked for
(:meth:`FillSpec.dip_preset` loads the engine's presets), so a spec stays light to build.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sardip.fill import FillError, FillMethod, parse_variant
from sardip.grain import CLASSIC_GRAIN, GrainModel

if TYPE_CHECKING:
    from sardip.dip.presets import Preset


@dataclass(frozen=True)
class FillSpec:
    """How a hidden area is filled.

    ``method``: a name of :data:`sardip.fill.METHODS`, optionally with ``+speckle``; ``dip`` fits
    ``preset`` for ``land_cover`` (``None``: the preset's class-free activation), the classic fills
    ignore both. ``iterations``: the DIP's (``None``: the preset's). ``speckle``: speckle-consistent
    filling of the hole (``None``: ``+speckle`` in the method's name, else the preset's for ``dip``,
    else off). ``seed``: the base seed; each tile or window derives its own from it and its id.
    """

    method: str = "dip"
    preset: str = "credible"
    land_cover: str | None = None
    iterations: int | None = None
    speckle: bool | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if self.iterations is not None and self.iterations < 1 and self.fill_method().is_dip:
            raise FillError(
                f"iterations={self.iterations}: a DIP needs at least 1 iteration (with 0 the hole would get the "
                "untrained network's output, a flat fake patch)"
            )

    def fill_method(self) -> FillMethod:
        """The fill method (:class:`sardip.fill.FillError` for an unknown name)."""
        return parse_variant(self.method)[0]

    def dip_preset(self) -> Preset | None:
        """The DIP preset for ``land_cover`` (``None`` for a classic fill)."""
        if not self.fill_method().is_dip:
            return None
        from sardip.dip.presets import get_preset

        return get_preset(self.preset, self.land_cover)

    def dip_iterations(self) -> int:
        """The iterations a DIP fit runs (0 for a classic fill)."""
        preset = self.dip_preset()
        if preset is None:
            return 0
        return preset.iterations if self.iterations is None else self.iterations

    def grain_model(self) -> GrainModel:
        """The grain model of the hole's speckle-consistent filling: the DIP preset's, else the classic
        fills' (:data:`sardip.grain.CLASSIC_GRAIN`)."""
        preset = self.dip_preset()
        return preset.grain if preset is not None else CLASSIC_GRAIN

    def adds_speckle(self) -> bool:
        """Whether the hole gets speckle-consistent filling (the class docstring's rule)."""
        if self.speckle is not None:
            return self.speckle
        if parse_variant(self.method)[1]:
            return True
        preset = self.dip_preset()
        return preset is not None and preset.speckle
