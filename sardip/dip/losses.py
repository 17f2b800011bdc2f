"""Masked DIP losses: MSE and SSIM between ``f(Z) * M`` and ``I * M``, one value per tile.

SSIM follows Wang et al. (2004) as pytorch-msssim computes it: an 11-tap Gaussian window
(sigma 1.5) applied separably without padding (a dimension shorter than the window is not filtered),
``C1 = (K1 L)^2``, ``C2 = (K2 L)^2`` with ``K1 = 0.01``, ``K2 = 0.03`` and data range ``L``;
``SSIM = mean over pixels and channels of l(x, y) cs(x, y)``. With ``padding="zero"`` the window is
applied as the authors' release does it (Po-Hsun Su's ``pytorch_ssim``): zero padding of 5 px, so the
map keeps the image's size and its border windows see zeros, and the mean runs over every pixel.
The statistics of the fixed target ``I * M`` are computed once per fit (:class:`MaskedTarget`), so
each iteration filters three maps (x, x^2, x y) instead of five.

The loss of tile ``b`` is ``mse_weight * mean((x_b - y_b)^2) - ssim_weight * SSIM(x_b, y_b)`` with
``x = f(Z) * M`` and ``y = I * M``: hidden and nodata pixels are zero in both, so they contribute
nothing the network can fit. The fit minimises the sum over tiles, whose gradient with respect to
tile ``b``'s parameters is that of tile ``b``'s own loss.

SSIM is defined for non-negative intensities. On signed values (normalised dB in [-1, 1]) the
luminance term ``l`` and the structure term ``cs`` both turn negative for the negated image, and
their product rewards it: a DIP fitted with ``-SSIM`` on [-1, 1] data converges to inverted tiles
(bright streets between dark blocks). :class:`MaskedTarget` therefore adds ``offset`` to output and
target before SSIM, chosen so the bottom of the value range maps to 0 (``offset = 2`` for dB mapped
by ``(x + 12.5) / 12.5``: -37.5 dB, below calm water in VH); MSE does not change under the shift.
"""

from __future__ import annotations

import torch
from torch.nn import functional

WIN_SIZE = 11
WIN_SIGMA = 1.5
K1, K2 = 0.01, 0.03


def gaussian_window(size: int = WIN_SIZE, sigma: float = WIN_SIGMA) -> torch.Tensor:
    """Normalised 1-D Gaussian ``g[i] ~ exp(-(i - size // 2)^2 / (2 sigma^2))``, shape (size,)."""
    coords = torch.arange(size, dtype=torch.float32) - size // 2
    g = torch.exp(-(coords**2) / (2 * sigma**2))
    return g / g.sum()


#: How the SSIM window meets the border: ``valid`` (pytorch-msssim) or ``zero`` (the release's pytorch_ssim).
SSIM_PADDINGS = ("valid", "zero")


def gaussian_filter(x: torch.Tensor, window: torch.Tensor, padding: str = "valid") -> torch.Tensor:
    """Separable filter of every channel of ``x`` (N, C, H, W): ``valid`` mode (sides shorter than the
    window are not filtered) or ``zero``-padded same-size output."""
    channels = x.shape[1]
    size = window.numel()
    pad = size // 2 if padding == "zero" else 0
    if pad or x.shape[2] >= size:
        x = functional.conv2d(x, window.view(1, 1, size, 1).expand(channels, 1, size, 1), padding=(pad, 0),
                              groups=channels)  # fmt: skip
    if pad or x.shape[3] >= size:
        x = functional.conv2d(x, window.view(1, 1, 1, size).expand(channels, 1, 1, size), padding=(0, pad),
                              groups=channels)  # fmt: skip
    return x


def ssim(x: torch.Tensor, y: torch.Tensor, data_range: float) -> torch.Tensor:
    """SSIM per image of ``x``, ``y`` (N, C, H, W) -> (N,), as ``pytorch_msssim.ssim(size_average=False)``."""
    return MaskedTarget(y, torch.ones_like(y), data_range).ssim(x)


def masked_ssim(output: torch.Tensor, target: MaskedTarget) -> torch.Tensor:
    """SSIM per tile of ``output * M`` (output in the target's units, before the offset) against ``target``."""
    return target.ssim((output + target.offset) * target.known)


class MaskedTarget:
    """The fixed target ``y = I * M`` of a fit with its SSIM statistics precomputed.

    ``target`` (B, C, H, W) in normalised units (any value where ``known`` is 0, NaN included);
    ``known`` (B, C, H, W) 1 for fitted pixels, 0 for hidden, nodata and padding pixels;
    ``offset`` added to output and target before masking so SSIM sees non-negative values;
    ``padding`` how the SSIM window meets the border (:data:`SSIM_PADDINGS`).
    """

    def __init__(
        self, target: torch.Tensor, known: torch.Tensor, data_range: float, offset: float = 0.0, padding: str = "valid"
    ) -> None:
        if padding not in SSIM_PADDINGS:
            raise ValueError(f"SSIM padding {padding!r}; choose from {list(SSIM_PADDINGS)}")
        self.known = known
        self.offset = offset
        self.padding = padding
        self.y = torch.where(known > 0, target + offset, torch.zeros_like(target))
        self.window = gaussian_window().to(target.device, target.dtype)
        self.c1 = (K1 * data_range) ** 2
        self.c2 = (K2 * data_range) ** 2
        channels = target.shape[1]
        stats = gaussian_filter(torch.cat([self.y, self.y * self.y], 1), self.window, padding)
        self.mu_y, yy = stats.split(channels, 1)
        self.var_y = yy - self.mu_y**2

    def ssim(self, x: torch.Tensor) -> torch.Tensor:
        """SSIM of ``x`` (already masked) against the target, per tile: (B, C, H, W) -> (B,)."""
        channels = x.shape[1]
        stats = gaussian_filter(torch.cat([x, x * x, x * self.y], 1), self.window, self.padding)
        mu_x, xx, xy = stats.split(channels, 1)
        var_x = xx - mu_x**2
        cov = xy - mu_x * self.mu_y
        cs = (2 * cov + self.c2) / (var_x + self.var_y + self.c2)
        lum = (2 * mu_x * self.mu_y + self.c1) / (mu_x**2 + self.mu_y**2 + self.c1)
        return (lum * cs).flatten(1).mean(1)

    def mse(self, x: torch.Tensor) -> torch.Tensor:
        """Mean squared error of ``x`` (already masked) against the target over all pixels, per tile (B,)."""
        return ((x - self.y) ** 2).flatten(1).mean(1)

    def loss(self, output: torch.Tensor, ssim_weight: float, mse_weight: float) -> torch.Tensor:
        """Per-tile loss ``mse_weight MSE - ssim_weight SSIM`` of ``output * M`` against the target, (B,)."""
        x = (output + self.offset) * self.known
        value = torch.zeros(x.shape[0], device=x.device, dtype=x.dtype)
        if ssim_weight:
            value = value - ssim_weight * self.ssim(x)
        if mse_weight:
            value = value + mse_weight * self.mse(x)
        return value
