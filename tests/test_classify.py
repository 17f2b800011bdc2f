"""Classifiers of the semantic check: labels, scene-disjoint splits, models, training, evaluation, figures."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import write_tif

from sardip.classes import PAPER_CLASSES
from sardip.classify import (
    OTHER,
    Normalisation,
    S1TileDataset,
    TrainSettings,
    accuracy_per_class,
    build_model,
    confusion_table,
    evaluate_from_tables,
    label_from_files,
    labels_from_inventory,
    load_checkpoint,
    predict,
    read_confusion,
    tile_label,
    train_from_tables,
    train_model,
    training_pool,
    write_confusion,
)
from sardip.classify.evaluate import ACCURACY_COLUMNS
from sardip.classify.splits import scene_of_tile, validation_scenes
from sardip.demo import NAN_TILE, write_demo
from sardip.figures.classify import fig20_accuracy, fig22_confusion
from sardip.io import write_table
from sardip.select import combine_inventories, scene_inventory, select_tiles
from sardip.sen12ms import TileRef, list_scenes, scene_files
from sardip.tile_images import IMAGES

SEASON = "ROIs1868_summer"
#: Demo scenes on the real SEN12MS hold-out list (see sardip.demo).
HOLDOUT = {"ROIs1158_spring/s1_63", "ROIs1970_fall/s1_39"}


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """One intra-op thread: on a shared 2-core runner two OpenMP threads wait on each other (30x slower)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> dict:
    """Demo tree (37 scenes x 4 tiles of 32 px), its inventory and one pure test tile per paper class."""
    root = tmp_path_factory.mktemp("demo")
    write_demo(root, tile_size=32, patches_per_side=2)
    inventory = combine_inventories(
        scene_inventory(scene_files(root, season, scene), HOLDOUT, 32) for season, scene in list_scenes(root)
    )
    test = select_tiles(inventory, PAPER_CLASSES, 0.9, 1, 0, include_holdout=False)
    return {"root": root, "inventory": inventory, "test": test}


@pytest.fixture(scope="module")
def trained(demo, tmp_path_factory) -> dict:
    """One small ResNet50 trained through the workflow entry point (32 px, 3 epochs).

    ResNet50 rather than the smaller EfficientNetB0: at 32 px the latter's loss jumps around for the
    first epochs (batch statistics over 8 tiles of 1x1 px feature maps), so "loss falls" would be luck.
    """
    out = tmp_path_factory.mktemp("classify")
    write_table(demo["inventory"], out / "inventory.parquet")
    write_table(demo["test"][["tile_id"]], out / "kept.tsv")
    settings = {"epochs": 3, "batch_size": 8, "input_size": 32, "patience": 3, "seed": 0, "val_fraction": 0.2}
    history = train_from_tables(out / "inventory.parquet", out / "kept.tsv", "resnet50", settings, out, "cpu")
    return {"out": out, "history": history}


def _lc_pair(root, scene: int, igbp: np.ndarray, s1: np.ndarray | None = None) -> TileRef:
    ref = TileRef(SEASON, scene, 1)
    write_tif(root / ref.relpath("lc"), np.stack([igbp] * 4).astype(np.uint8))
    write_tif(root / ref.relpath("s1"), np.full((2, *igbp.shape), -10.0, np.float32) if s1 is None else s1)
    return ref


def test_labels_known_modes_tie_and_inventory_agree(tmp_path):
    mode = np.full((17, 13), 12, np.uint8)  # croplands ...
    mode[:5] = 17  # ... with a water strip of 65 of 221 px
    tie = np.full((16, 16), 17, np.uint8)  # 128 water
    tie[:8] = 1  # 128 forest (IGBP 1 -> DFC2020 1): tie goes to the lowest code, Forest
    assert tile_label(mode) == "Croplands"
    assert tile_label(tie) == "Forest"
    # NaN pixels drop out, as in the inventory: 8 forest px lost make it 120 forest vs 128 water.
    s1 = np.full((2, 16, 16), -10.0, np.float32)
    s1[0, 0, :8] = np.nan
    refs = [_lc_pair(tmp_path, 1, mode), _lc_pair(tmp_path, 2, tie), _lc_pair(tmp_path, 3, tie, s1)]
    expected = ["Croplands", "Forest", "Water"]
    inventory = combine_inventories(scene_inventory(scene_files(tmp_path, SEASON, s), set(), None) for s in (1, 2, 3))
    by_tile = inventory.set_index("tile_id")
    for ref, label in zip(refs, expected, strict=True):
        from_files = label_from_files(tmp_path / ref.relpath("lc"), tmp_path / ref.relpath("s1"))
        assert from_files == by_tile.loc[ref.tile_id, "majority_class"] == label
    assert list(labels_from_inventory(by_tile)) == expected
    assert label_from_files(tmp_path / refs[2].relpath("lc")) == "Forest"  # without S1 every pixel counts
    with pytest.raises(ValueError, match="no valid pixel"):
        tile_label(tie, np.zeros(tie.shape, bool))


def test_training_pool_is_scene_disjoint_from_tests(demo):
    inventory, test = demo["inventory"], demo["test"]
    train, val = training_pool(inventory, test[["tile_id"]], val_fraction=0.2, seed=0)
    test_scenes = {scene_of_tile(t) for t in test["tile_id"]}
    assert test_scenes == set(test["scene_id"])
    assert len(test) == len(PAPER_CLASSES)
    assert not (set(train["scene_id"]) | set(val["scene_id"])) & test_scenes
    assert not (set(train["scene_id"]) | set(val["scene_id"])) & HOLDOUT
    assert not set(train["scene_id"]) & set(val["scene_id"]) and len(val) > 0
    ok = inventory[(inventory["status"] == "ok") & (inventory["split"] == "train")]
    assert len(train) + len(val) == (~ok["scene_id"].isin(test_scenes)).sum()
    again, again_val = training_pool(inventory, test[["tile_id"]], val_fraction=0.2, seed=0)
    pd.testing.assert_frame_equal(train, again)
    pd.testing.assert_frame_equal(val, again_val)
    assert validation_scenes(["a", "b"], 0.01, 0) and not validation_scenes(["a"], 0.5, 0)
    with pytest.raises(ValueError, match="no training tile"):
        training_pool(inventory, inventory[["tile_id"]], 0.2, 0)


def test_validation_is_stratified_so_every_class_keeps_training_scenes(demo):
    """Each paper class has 5 demo scenes, one holding its test tile: some go to validation, the rest train."""
    train, val = training_pool(demo["inventory"], demo["test"][["tile_id"]], val_fraction=0.5, seed=0)
    assert set(PAPER_CLASSES) <= set(train["label"])
    assert set(PAPER_CLASSES) <= set(val["label"])


@pytest.mark.parametrize(("name", "size"), [("resnet50", 64), ("inception_v3", 75), ("efficientnet_b0", 64)])
def test_models_build_and_backprop_on_two_bands(name, size):
    torch.manual_seed(0)
    model = build_model(name, num_classes=9, in_chans=2)
    logits = model(torch.randn(2, 2, size, size))
    assert logits.shape == (2, 9)
    logits.logsumexp(dim=1).sum().backward()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)


def test_unknown_model_and_bad_settings():
    with pytest.raises(ValueError, match=r"choose from.*efficientnet_b0.*inception_v3.*resnet50"):
        build_model("resnet_9000", 7)
    with pytest.raises(ValueError, match="75 px"):
        TrainSettings(input_size=74).check_model("inception_v3")
    TrainSettings(input_size=75).check_model("inception_v3")
    with pytest.raises(ValueError, match="unknown keys"):
        TrainSettings.from_dict({"epoch": 3})
    with pytest.raises(ValueError, match="batch_size"):
        TrainSettings.from_dict({"batch_size": 0})
    with pytest.raises(ValueError, match="val_fraction"):
        TrainSettings.from_dict({"val_fraction": 1.0})


def test_dataset_normalises_fills_nan_and_resizes(demo):
    path = demo["root"] / NAN_TILE.relpath("s1")
    item, label = S1TileDataset([path], [3], Normalisation(), 40)[0]
    assert item.shape == (2, 40, 40) and item.dtype == torch.float32 and int(label) == 3
    assert torch.isfinite(item).all()
    same, _ = S1TileDataset([path], None, Normalisation(), 32)[0]
    assert (same[:, :, :4] == 0).all()  # the demo's NaN strip, 1/8 of the width, becomes 0 (the band mean)
    stats = Normalisation.from_tiles([path], seed=0)
    z, _ = S1TileDataset([path], None, stats, 32)[0]
    finite = z[:, :, 4:]
    assert finite.mean(dim=(1, 2)).abs().max() < 0.1


def test_training_loss_falls_and_checkpoint_round_trips(trained, demo):
    history, out = trained["history"], trained["out"]
    assert list(history.columns) == ["epoch", "train_loss", "train_acc", "val_loss", "val_acc", "seconds"]
    assert len(history) == 3 and history["train_loss"].iloc[-1] < history["train_loss"].iloc[0]
    assert history["val_loss"].notna().all()
    written = pd.read_csv(out / "history.tsv", sep="\t")
    assert len(written) == len(history)
    pool = pd.read_csv(out / "pool.tsv", sep="\t")
    assert set(pool["subset"]) == {"train", "val"}
    checkpoint = torch.load(out / "checkpoint.pt", weights_only=True)
    assert checkpoint["model_name"] == "resnet50" and checkpoint["input_size"] == 32
    assert checkpoint["classes"] == [c for c in checkpoint["classes"] if c in set(pool["label"])]
    assert checkpoint["epoch"] == int(history.loc[history["val_loss"].idxmin(), "epoch"])
    assert load_checkpoint(out / "checkpoint.pt")["normalisation"] == Normalisation().as_dict()
    paths = list(demo["test"]["s1_path"])
    predicted = predict(out / "checkpoint.pt", paths, "cpu", batch_size=4)
    assert len(predicted) == len(paths) and set(predicted) <= set(checkpoint["classes"])


def test_empty_validation_monitors_training_loss(demo, tmp_path):
    train, _ = training_pool(demo["inventory"], demo["test"][["tile_id"]], 0.0, 0)
    train = train.head(5)  # 5 % 4 == 1: the lone last tile is dropped, not fed to batch norm
    settings = {"epochs": 1, "batch_size": 4, "input_size": 32}
    history = train_model(
        "efficientnet_b0", train, train.head(0), sorted(set(train["label"])), settings, tmp_path, "cpu"
    )
    assert math.isnan(history.loc[0, "val_loss"]) and math.isfinite(history.loc[0, "train_loss"])
    assert load_checkpoint(tmp_path / "checkpoint.pt")["monitor"] == "train_loss"


def test_evaluate_from_tables(trained, demo, tmp_path):
    """Originals and both DIP images are classified; a version identical to the original scores alike,
    one whose every tile is another class's tile does not."""
    test = demo["test"].rename(columns={"s1_path": "original_path"})
    test["generated_path"] = list(test["original_path"].iloc[::-1])  # every tile is another one
    test["published_path"] = test["original_path"]
    evaluation = evaluate_from_tables(trained["out"] / "checkpoint.pt", test, "cpu")
    predictions, accuracy, confusion = evaluation.predictions, evaluation.accuracy, evaluation.confusion
    assert list(predictions.columns) == ["tile_id", "class", "pred_original", "pred_generated", "pred_published"]
    assert (predictions["pred_original"] == predictions["pred_published"]).all()
    assert list(predictions["pred_generated"]) == list(predictions["pred_original"].iloc[::-1])
    assert list(accuracy.columns) == list(ACCURACY_COLUMNS) and list(accuracy["image"].unique()) == list(IMAGES)
    published = accuracy[accuracy["image"] == "published"]
    assert (published["abs_delta"].fillna(0) == 0).all() and list(published["class"]) == list(PAPER_CLASSES)
    assert set(confusion) == {"original", "generated", "published"}
    np.testing.assert_allclose(confusion["original"].dropna().sum(axis=1), 100.0)
    pd.testing.assert_frame_equal(confusion["original"], confusion["published"])
    with pytest.raises(ValueError, match="generated_path"):
        evaluate_from_tables(trained["out"] / "checkpoint.pt", test.drop(columns="generated_path"), "cpu")


def test_confusion_rows_sum_to_100_and_other_collects():
    true = ["Water", "Water", "Water", "Water", "Forest", "Forest", "Wetlands"]
    pred = ["Water", "Grassland", "Wetlands", "SnowIce", "Forest", "Forest", "Water"]
    table = confusion_table(true, pred)
    assert list(table.columns) == [*PAPER_CLASSES, OTHER] and list(table.index) == list(PAPER_CLASSES)
    assert table.loc["Water", "Water"] == 25 and table.loc["Water", "Grassland"] == 25
    assert table.loc["Water", OTHER] == 50  # Wetlands and SnowIce are outside the 7 classes
    assert table.loc["Forest", "Forest"] == 100
    np.testing.assert_allclose(table.loc[["Water", "Forest"]].sum(axis=1), 100.0)
    assert table.loc["Barren"].isna().all()  # no Barren tile: no percentage
    accuracy = accuracy_per_class(true, pred, ["Water", "Water", "Water", "Water", "Urban", "Forest", "Water"])
    row = accuracy.set_index("class").loc["Water"]
    assert (row["acc_original"], row["acc_result"], row["abs_delta"], row["n_tiles"]) == (25, 100, 75, 4)
    assert accuracy.set_index("class").loc["Forest", "abs_delta"] == 50
    assert math.isnan(accuracy.set_index("class").loc["Urban", "acc_original"])


def test_confusion_csv_round_trip(tmp_path):
    table = confusion_table(["Water", "Urban"], ["Water", "Water"])
    write_confusion(table, tmp_path / "confusion_original.csv")
    back = read_confusion(tmp_path / "confusion_original.csv")
    assert list(back.index) == list(PAPER_CLASSES) and list(back.columns) == [*PAPER_CLASSES, OTHER]
    pd.testing.assert_frame_equal(back, table, check_names=False)


def test_figures_written_with_missing_classes(tmp_path):
    true = ["Water"] * 3 + ["Forest"] * 2 + ["Urban"]
    a = accuracy_per_class(true, ["Water", "Water", "Barren", "Forest", "Forest", "Urban"], ["Grassland"] * 6)
    b = accuracy_per_class(true, true, true)
    out = fig20_accuracy({"ResNet50": a, "EfficientNetB0": b}, tmp_path / "fig20.png")
    assert out.stat().st_size > 10_000
    original = confusion_table(true, ["Water", "Water", "Barren", "Forest", "Wetlands", "Urban"])
    generated = confusion_table(true, ["Grassland"] * 6)
    out = fig22_confusion(original, generated, "ResNet50", tmp_path / "fig22.png")
    assert out.stat().st_size > 10_000
    assert fig22_confusion(original, original, "ResNet50", tmp_path / "p.png", "published").stat().st_size > 10_000


def test_accuracy_figure_draws_one_image_only(tmp_path):
    true = ["Water"] * 3
    table = accuracy_per_class(true, true, true)
    both = pd.concat([table.assign(image="generated"), table.assign(image="published")])
    with pytest.raises(ValueError, match="published image, not only generated"):
        fig20_accuracy({"ResNet50": both}, tmp_path / "fig20.png", "generated")
    with pytest.raises(ValueError, match="image 'raw'"):
        fig20_accuracy({"ResNet50": table}, tmp_path / "fig20.png", "raw")
