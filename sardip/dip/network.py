"""The DIP U-Net, as one ordinary module and as B independent networks evaluated together.

Architecture (Ulyanov et al.'s DIP ``UNet`` with ``unetConv2``/``unetUp``, generalised to any widths):
level 0 is a block ``in -> widths[0]`` at full resolution; level ``i >= 1`` is ``MaxPool(2)`` then a
block ``widths[i-1] -> widths[i]``; a block is ``2 x (conv3x3, norm, activation)``. The decoder goes
back up level by level: upsample ``widths[i] -> widths[i-1]`` (``ConvTranspose2d(k=4, s=2, p=1)``,
or bilinear/nearest interpolation followed by a conv3x3), concatenate the encoder output of level
``i-1``, then a block ``2 widths[i-1] -> widths[i-1]`` without normalisation. A final 1x1 conv
``widths[0] -> out`` with no activation gives an unconstrained output. With
``widths = (8, 16, 32, 64, 128, 128)`` this is the release's ``UNet(feature_scale=8, more_layers=1)``:
1,616,378 parameters for 2 bands.

:class:`UNet` is that network written the usual way (one tile, ``nn`` layers). :class:`BatchedUNet`
holds B such networks as one ``(B, P)`` parameter tensor whose row ``b`` is tile ``b``'s flat parameter
vector in :class:`UNet`'s ``parameters()`` order, and runs them so that each tile's output and gradient
depend only on its own row and input, one of four ways (:data:`CONV_MODES`): ``grouped`` (one grouped
convolution over all tiles per layer), ``split`` (one convolution per tile), ``streams`` (``split`` with
each tile's convolutions on its own CUDA stream) or ``vmap`` (:func:`torch.func.vmap` of :class:`UNet`
over the stacked parameters); ``auto`` takes ``split`` on the CPU (grouped convolutions with few
channels per group are slower there) and ``grouped`` on CUDA, or splits maps above ``split_pixels``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.func import functional_call, vmap
from torch.nn import functional

from sardip.dip.presets import Preset


def _activation(preset: Preset) -> nn.Module:
    if preset.activation == "tanh":
        return nn.Tanh()
    if preset.activation == "leaky_relu":
        return nn.LeakyReLU(preset.leaky_slope)
    return nn.ReLU()


def _conv3(cin: int, cout: int, preset: Preset) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 3, padding=1, padding_mode="reflect" if preset.padding == "reflection" else "zeros")


class _Block(nn.Module):
    def __init__(self, cin: int, cout: int, preset: Preset, norm: bool) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for a, b in ((cin, cout), (cout, cout)):
            layers.append(_conv3(a, b, preset))
            if norm and preset.norm == "instance":
                layers.append(nn.InstanceNorm2d(b))
            elif norm and preset.norm == "batch":
                layers.append(nn.BatchNorm2d(b))
            layers.append(_activation(preset))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class _Up(nn.Module):
    def __init__(self, cin: int, cout: int, preset: Preset) -> None:
        super().__init__()
        if preset.upsampling == "deconvolution":
            self.up: nn.Module = nn.ConvTranspose2d(cin, cout, 4, stride=2, padding=1)
        else:
            self.up = nn.Sequential(nn.Upsample(scale_factor=2, mode=preset.upsampling), _conv3(cin, cout, preset))
        self.block = _Block(2 * cout, cout, preset, norm=False)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return self.block(torch.cat([self.up(x), skip], 1))


class UNet(nn.Module):
    """One DIP U-Net for ``channels`` bands: ``(N, channels, H, W) -> (N, channels, H, W)``.

    H and W must be multiples of ``2 ** preset.depth``. PyTorch's default initialisation.
    """

    def __init__(self, preset: Preset, channels: int) -> None:
        super().__init__()
        w = preset.widths
        self.start = _Block(channels, w[0], preset, norm=True)
        self.downs = nn.ModuleList(_Block(w[i - 1], w[i], preset, norm=True) for i in range(1, len(w)))
        self.ups = nn.ModuleList(_Up(w[i], w[i - 1], preset) for i in range(1, len(w)))
        self.final = nn.Conv2d(w[0], channels, 1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        skips = [self.start(z)]
        for down in self.downs:
            skips.append(down(functional.max_pool2d(skips[-1], 2)))
        x = skips.pop()
        for up in reversed(self.ups):
            x = up(x, skips.pop())
        return self.final(x)


def count_parameters(preset: Preset, channels: int) -> int:
    """Number of trainable parameters of one network."""
    return sum(p.numel() for p in UNet(preset, channels).parameters())


@dataclass(frozen=True)
class _Slot:
    """Where one tensor of a network sits in the flat parameter vector, and how to initialise it."""

    name: str
    offset: int
    shape: tuple[int, ...]
    kind: str  # conv, deconv, bias, norm_weight, norm_bias
    fan_in: int

    @property
    def size(self) -> int:
        return math.prod(self.shape)


def _layout(preset: Preset, channels: int) -> dict[str, _Slot]:
    template = UNet(preset, channels).to("meta")
    slots: dict[str, _Slot] = {}
    offset = 0
    modules = dict(template.named_modules())
    for name, p in template.named_parameters():
        owner = modules[name.rsplit(".", 1)[0]]
        leaf = name.rsplit(".", 1)[1]
        if isinstance(owner, nn.ConvTranspose2d):
            kind, fan_in = ("deconv" if leaf == "weight" else "bias"), owner.weight.shape[1] * 16
        elif isinstance(owner, nn.Conv2d):
            kind, fan_in = ("conv" if leaf == "weight" else "bias"), owner.weight[0].numel()
        else:
            kind, fan_in = f"norm_{leaf}", 0
        slots[name] = _Slot(name, offset, tuple(p.shape), kind, fan_in)
        offset += p.numel()
    return slots


#: How :class:`BatchedUNet` runs its B networks (see the module docstring).
CONV_MODES = ("auto", "grouped", "split", "streams", "vmap")


class BatchedUNet(nn.Module):
    """B independent :class:`UNet` s in one module: ``(B, channels, H, W) -> (B, channels, H, W)``.

    ``flat`` (B, P) holds all parameters, row ``b`` being tile ``b``'s network; ``leaves`` are views
    of it, one ``(B, *shape)`` tensor per :class:`UNet` parameter, and are what autograd
    differentiates (updating ``flat`` in place updates them). Tile ``b``'s network is initialised
    by :meth:`init_tile` from its own generator, exactly as PyTorch initialises ``nn.Conv2d`` /
    ``nn.ConvTranspose2d`` (weights and biases ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))) and norms
    (weight 1, bias 0). Convolutions on maps of more than ``split_pixels`` pixels run one tile at a
    time (on CPU, grouped convolutions with few channels per group are slower than a loop); smaller
    maps run as one grouped convolution over all tiles. Both give each tile the result of its own
    network; only the floating-point summation order may differ between the two paths.
    """

    def __init__(
        self,
        preset: Preset,
        channels: int,
        batch: int,
        split_pixels: int | None = None,
        device: str = "cpu",
        conv: str = "auto",
    ) -> None:
        super().__init__()
        if conv not in CONV_MODES:
            raise ValueError(f"conv={conv!r}; choose from {list(CONV_MODES)}")
        if conv == "streams" and not str(device).startswith("cuda"):
            raise ValueError("conv='streams' needs a CUDA device")
        self.preset = preset
        self.channels = channels
        self.batch = batch
        self.slots = _layout(preset, channels)
        self.n_params = sum(s.size for s in self.slots.values())
        self.split_pixels = split_pixels
        self.conv = conv
        self._template = UNet(preset, channels).to("meta") if conv == "vmap" else None
        self._streams = [torch.cuda.Stream(device) for _ in range(batch)] if conv == "streams" else []
        self.flat = torch.zeros(batch, self.n_params, device=device)
        self.leaves = [
            self.flat[:, s.offset : s.offset + s.size].view(batch, *s.shape).requires_grad_()
            for s in self.slots.values()
        ]
        self._by_name = dict(zip(self.slots, self.leaves, strict=True))

    def init_tile(self, generator: torch.Generator) -> torch.Tensor:
        """A fresh flat parameter vector (P,) on the CPU drawn from ``generator``."""
        out = torch.empty(self.n_params)
        for slot in self.slots.values():
            view = out[slot.offset : slot.offset + slot.size]
            if slot.kind == "norm_weight":
                view.fill_(1.0)
            elif slot.kind == "norm_bias":
                view.zero_()
            else:
                fan_in = slot.fan_in if slot.kind != "bias" else self._bias_fan_in(slot.name)
                bound = 1.0 / math.sqrt(fan_in)
                view.uniform_(-bound, bound, generator=generator)
        return out

    def _bias_fan_in(self, name: str) -> int:
        return self.slots[name.rsplit(".", 1)[0] + ".weight"].fan_in

    def load_tile_into(self, module: UNet, b: int) -> None:
        """Copy tile ``b``'s parameters into an ordinary :class:`UNet` (for tests and benchmarks)."""
        with torch.no_grad():
            for name, p in module.named_parameters():
                slot = self.slots[name]
                p.copy_(self.flat[b, slot.offset : slot.offset + slot.size].view(slot.shape))

    def _split(self, x: torch.Tensor) -> bool:
        if self.conv != "auto":
            return self.batch > 1 and self.conv in ("split", "streams")
        limit = self.split_pixels
        if limit is None:
            limit = 0 if x.device.type == "cpu" else 1 << 62
        return self.batch > 1 and x.shape[-2] * x.shape[-1] > limit

    def _param(self, name: str) -> torch.Tensor:
        return self._by_name[name]

    def _conv(self, x: torch.Tensor, prefix: str, pad: int) -> torch.Tensor:
        w, b = self._param(prefix + ".weight"), self._param(prefix + ".bias")
        if pad and self.preset.padding == "reflection":
            x, pad = functional.pad(x, (pad,) * 4, mode="reflect"), 0
        return self._grouped(functional.conv2d, x, w, b, padding=pad)

    def _deconv(self, x: torch.Tensor, prefix: str) -> torch.Tensor:
        w, b = self._param(prefix + ".weight"), self._param(prefix + ".bias")
        return self._grouped(functional.conv_transpose2d, x, w, b, stride=2, padding=1)

    def _grouped(self, op, x: torch.Tensor, w: torch.Tensor, b: torch.Tensor, **kw: int) -> torch.Tensor:
        B = self.batch
        if self._split(x):
            parts = zip(x.split(1), w.unbind(0), b.unbind(0), strict=True)
            if not self._streams:
                return torch.cat([op(xi, wi, bi, **kw) for xi, wi, bi in parts], 0)
            current = torch.cuda.current_stream(x.device)
            outs = []
            for stream, (xi, wi, bi) in zip(self._streams, parts, strict=True):
                stream.wait_stream(current)
                with torch.cuda.stream(stream):
                    outs.append(op(xi, wi, bi, **kw))
            for stream, out in zip(self._streams, outs, strict=True):
                current.wait_stream(stream)
                out.record_stream(current)
            return torch.cat(outs, 0)
        y = op(x.reshape(1, -1, *x.shape[2:]), w.reshape(-1, *w.shape[2:]), b.reshape(-1), groups=B, **kw)
        return y.view(B, -1, *y.shape[2:])

    def _act(self, x: torch.Tensor) -> torch.Tensor:
        if self.preset.activation == "tanh":
            return torch.tanh(x)
        if self.preset.activation == "leaky_relu":
            return functional.leaky_relu(x, self.preset.leaky_slope)
        return functional.relu(x)

    def _block(self, x: torch.Tensor, prefix: str, norm: bool) -> torch.Tensor:
        norm = norm and self.preset.norm != "none"
        index = 0
        for _ in range(2):
            x = self._conv(x, f"{prefix}.layers.{index}", 1)
            index += 1
            if norm:
                x = functional.instance_norm(x)
                if self.preset.norm == "batch":
                    wt = self._param(f"{prefix}.layers.{index}.weight")
                    bs = self._param(f"{prefix}.layers.{index}.bias")
                    x = x * wt[:, :, None, None] + bs[:, :, None, None]
                index += 1
            x = self._act(x)
            index += 1
        return x

    def _vmapped(self, z: torch.Tensor) -> torch.Tensor:
        """The B networks as :func:`torch.func.vmap` of one :class:`UNet` over the stacked parameters."""
        params = dict(zip(self.slots, self.leaves, strict=True))

        def one(tile_params: dict[str, torch.Tensor], zi: torch.Tensor) -> torch.Tensor:
            return functional_call(self._template, tile_params, (zi[None],))[0]

        return vmap(one)(params, z)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if self.conv == "vmap":
            return self._vmapped(z)
        skips = [self._block(z, "start", True)]
        for i in range(len(self.preset.widths) - 1):
            skips.append(self._block(functional.max_pool2d(skips[-1], 2), f"downs.{i}", True))
        x = skips.pop()
        for i in reversed(range(len(self.preset.widths) - 1)):
            if self.preset.upsampling == "deconvolution":
                up = self._deconv(x, f"ups.{i}.up")
            else:
                up = self._conv(
                    functional.interpolate(x, scale_factor=2, mode=self.preset.upsampling), f"ups.{i}.up.1", 1
                )
            x = self._block(torch.cat([up, skips.pop()], 1), f"ups.{i}.block", False)
        return self._grouped(functional.conv2d, x, self._param("final.weight"), self._param("final.bias"))
