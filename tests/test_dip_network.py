"""The DIP U-Net: every Table 1 option, the release's size, the presets registry, the SSIM loss."""

from __future__ import annotations

import itertools

import pytest
import torch
from pytorch_msssim import ssim as reference_ssim
from torch import nn

from sardip.classes import PAPER_CLASSES
from sardip.dip.losses import ssim
from sardip.dip.network import BatchedUNet, UNet, count_parameters
from sardip.dip.presets import (
    ACTIVATIONS,
    NORMS,
    PADDINGS,
    PRESETS,
    UPSAMPLINGS,
    PresetError,
    get_preset,
)

torch.set_num_threads(1)
TINY = (4, 8, 8)


def _filled(net: BatchedUNet, seed: int = 0) -> BatchedUNet:
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        net.flat.copy_(torch.stack([net.init_tile(gen) for _ in range(net.batch)]))
    return net


def test_release_parameter_count() -> None:
    # UNet(feature_scale=8, more_layers=1) of the release, 2 bands in and out.
    assert count_parameters(get_preset("authors-release"), 2) == 1_616_378
    assert BatchedUNet(get_preset("authors-release"), 2, 3).flat.shape == (3, 1_616_378)


def test_release_structure() -> None:
    net = UNet(get_preset("authors-release"), 2)
    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d)]
    deconvs = [m for m in net.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert [m.out_channels for m in (net.start.layers[0], *(d.layers[0] for d in net.downs))] == [
        8,
        16,
        32,
        64,
        128,
        128,
    ]
    assert all(d.kernel_size == (4, 4) and d.stride == (2, 2) and d.padding == (1, 1) for d in deconvs)
    assert len(deconvs) == 5 and net.final.kernel_size == (1, 1) and net.final.out_channels == 2
    assert all(m.padding_mode == "reflect" for m in convs if m.kernel_size == (3, 3))
    assert sum(isinstance(m, nn.InstanceNorm2d) for m in net.modules()) == 12  # encoder only
    assert sum(isinstance(m, nn.ReLU) for m in net.modules()) == 22
    assert net(torch.zeros(1, 2, 64, 64)).shape == (1, 2, 64, 64)


@pytest.mark.parametrize(
    ("activation", "padding", "upsampling", "norm"), list(itertools.product(ACTIVATIONS, PADDINGS, UPSAMPLINGS, NORMS))
)
def test_every_option_matches_plain_module(activation: str, padding: str, upsampling: str, norm: str) -> None:
    preset = get_preset("authors-release").replace(
        activation=activation, padding=padding, upsampling=upsampling, norm=norm, widths=TINY
    )
    net = _filled(BatchedUNet(preset, 2, 3))
    z = torch.randn(3, 2, 40, 32, generator=torch.Generator().manual_seed(1))
    out = net(z)
    assert out.shape == z.shape
    out.square().sum().backward()
    assert all(leaf.grad is not None and torch.isfinite(leaf.grad).all() for leaf in net.leaves)
    plain = UNet(preset, 2)
    for b in range(3):
        net.load_tile_into(plain, b)
        torch.testing.assert_close(plain(z[b : b + 1]), out[b : b + 1].detach(), atol=1e-5, rtol=1e-5)


def test_grouped_and_split_paths_agree() -> None:
    preset = get_preset("authors-release").replace(widths=TINY)
    grouped, split = (_filled(BatchedUNet(preset, 1, 4, split_pixels=px)) for px in (1 << 40, 0))
    z = torch.randn(4, 1, 32, 32)
    torch.testing.assert_close(grouped(z), split(z), atol=1e-5, rtol=1e-5)


def test_paper_activation_per_class_changes_the_network() -> None:
    expected = {"tanh": nn.Tanh, "leaky_relu": nn.LeakyReLU, "relu": nn.ReLU}
    seen = {}
    for land_cover in PAPER_CLASSES:
        preset = get_preset("paper", land_cover)
        kinds = {type(m) for m in UNet(preset, 2).modules() if isinstance(m, tuple(expected.values()))}
        assert kinds == {expected[preset.activation]}, land_cover
        seen[land_cover] = preset.activation
    assert seen == {
        "Barren": "tanh",
        "Forest": "tanh",
        "Water": "tanh",
        "Croplands": "leaky_relu",
        "Grassland": "leaky_relu",
        "Shrubland": "relu",
        "Urban": "relu",
    }
    z = torch.randn(1, 2, 64, 64)
    outs = {}
    for land_cover in ("Barren", "Croplands", "Urban"):
        outs[land_cover] = _filled(BatchedUNet(get_preset("paper", land_cover), 2, 1))(z)
    assert not torch.allclose(outs["Barren"], outs["Urban"])
    assert not torch.allclose(outs["Croplands"], outs["Urban"])


def test_presets() -> None:
    paper = get_preset("paper", "Water")
    assert (paper.padding, paper.upsampling, paper.loss_name, paper.noise) == (
        "reflection",
        "deconvolution",
        "ssim",
        "uniform",
    )
    release = get_preset("authors-release", "Water")
    assert release.activation == "relu" and release.loss_name == "0.5*mse-0.5*ssim" and release.jitter == 0.1
    assert (release.plateau_factor, release.plateau_patience, release.plateau_min_lr) == (0.1, 250, 1e-8)
    assert release.config_hash() != get_preset("authors-release").config_hash()  # class recorded
    assert paper.config_hash() == get_preset("paper", "Water").config_hash()
    assert paper.config_hash() != get_preset("paper", "Barren").config_hash()
    assert len({get_preset("paper", c).config_hash() for c in PAPER_CLASSES}) == 7
    assert set(PRESETS) == {"paper", "authors-release", "credible"}
    with pytest.raises(PresetError, match="authors-release"):
        get_preset("nope")
    with pytest.raises(PresetError, match="land-cover"):
        get_preset("paper")
    with pytest.raises(PresetError, match="Savanna"):
        get_preset("paper", "Savanna")
    with pytest.raises(PresetError, match="activation"):
        paper.replace(activation="sigmoid")
    with pytest.raises(PresetError, match="unknown parameter"):
        paper.replace(colour="red")


def test_ssim_matches_pytorch_msssim() -> None:
    gen = torch.Generator().manual_seed(3)
    x = torch.rand(3, 2, 37, 31, generator=gen)
    y = (x + 0.2 * torch.rand(3, 2, 37, 31, generator=gen)).clamp(0, 1)
    ours = ssim(x, y, data_range=1.0)
    ref = reference_ssim(x, y, data_range=1.0, size_average=False)
    torch.testing.assert_close(ours, ref, atol=1e-5, rtol=1e-5)
    ref2 = reference_ssim(2 * x - 1, 2 * y - 1, data_range=2.0, size_average=False)
    torch.testing.assert_close(ssim(2 * x - 1, 2 * y - 1, data_range=2.0), ref2, atol=1e-5, rtol=1e-5)
