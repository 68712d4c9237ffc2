"""One recipe for runs and the estimator: components "all", the reducer, the stem's start."""

import json

import numpy as np
import pytest
import torch

from spectranet.cli import main
from spectranet.config import make_config
from spectranet.errors import ConfigError
from spectranet.hsi import HSIClassifier, load_scene
from spectranet.hsi.models import StemFast3DCNN
from spectranet.hsi.recipe import resolve_components


def test_all_components_resolve_to_the_cubes_bands():
    config = make_config("hsi", "quick", scene="indian_pines", components="all", pca=False)
    assert resolve_components(config, 103, "pavia.mat").components == 103
    same = make_config("hsi", "quick", scene="indian_pines", components=30)
    assert resolve_components(same, 200, "ip.mat") is same
    with pytest.raises(ConfigError, match=r"components must be <= the cube's 20 bands "
                                          r"\(ip.mat\), got 30"):
        resolve_components(same, 20, "ip.mat")
    no_pca = make_config("hsi", "quick", scene="indian_pines", components=30, pca=False)
    with pytest.raises(ConfigError, match=r"equal the cube's number of bands \(200\), got 30"):
        resolve_components(no_pca, 200, "ip.mat")


def test_cli_components_all_trains_on_every_band(tmp_path, user_scene):
    out = tmp_path / "run"
    code = main(["hsi", "train", "--cube", user_scene["cube"], "--gt", user_scene["gt"],
                 "--preset", "quick", "--window", "9", "--components", "all", "--no-pca",
                 "--epochs", "1", "--seeds", "0", "--out", str(out), "--no-progress"])
    assert code == 0
    state = torch.load(out / "seed_0/checkpoint.pt", weights_only=True)
    assert state["metadata"]["model_kwargs"]["bands"] == 16  # the fixture's cube has 16 bands
    assert json.loads((out / "config.json").read_text())["config"]["components"] == 16


def test_cli_components_must_be_a_count_or_all(tmp_path, capsys, user_scene):
    code = main(["hsi", "train", "--cube", user_scene["cube"], "--gt", user_scene["gt"],
                 "--components", "every", "--out", str(tmp_path / "run")])
    assert code != 0
    assert "an integer or 'all', got 'every'" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_estimator_follows_the_standard_presets_recipe(data_root):
    """HSIClassifier("standard") reduces, builds and starts the model as a run of the preset:
    unit-length spectra standardised band by band (no PCA), the stem model on every band, its
    stem started as the whitened PCA of the training pixels."""
    scene = load_scene("indian_pines", root=data_root)
    ids = np.asarray(scene.class_ids)[scene.labels]
    label_map = np.where(scene.labels >= 0, ids, 0)[40:80, 5:45]
    cube = np.ascontiguousarray(scene.cube[40:80, 5:45])
    # the SVM's window and weight fixed: the preset chooses them on held-out pixels, none here
    est = HSIClassifier("standard", lr=1e-12, epochs=1, precision="fp32", svm_weight=0.5,
                        svm_neighbourhood=1, validation_fraction=0).fit(cube, label_map)
    assert est.config_.components == 200 and not est.reducer_.pca and est.reducer_.unit_norm
    assert isinstance(est.model_, StemFast3DCNN)
    # the preset's spectral SVM, fitted on the labelled pixels the CNN trained on
    assert est.svm_mix_.weight == 0.5
    np.testing.assert_array_equal(est.svm_mix_.spectra, cube[label_map > 0])
    spectra = torch.as_tensor(est.reducer_.transform(cube).reshape(-1, 200)).float()
    with torch.no_grad():
        scores = est.model_.stem(spectra[:, None, :, None, None]).reshape(-1, 20).double()
    labelled = (label_map > 0).ravel()
    np.testing.assert_allclose(np.cov(scores[labelled].numpy(), rowvar=False), np.eye(20),
                               atol=1e-3)
    assert np.abs(np.cov(scores.numpy(), rowvar=False) - np.eye(20)).max() > 0.01


def test_training_transforms_follow_the_config():
    from spectranet.hsi.augment import Dihedral, SpectralShift
    from spectranet.hsi.recipe import training_transforms

    config = make_config("hsi", "standard", scene="indian_pines", spectral_shift=2)
    parts = training_transforms(config).transforms
    assert [type(p) for p in parts] == [Dihedral, SpectralShift] and parts[1].max_shift == 2
    assert training_transforms(make_config("hsi", "paper", scene="indian_pines")) is None


def test_kept_epoch_follows_the_validation_setting():
    from spectranet.hsi.recipe import kept_epoch

    assert kept_epoch(make_config("hsi", "standard", scene="indian_pines")) == "last"
    assert kept_epoch(make_config("hsi", "paper", scene="indian_pines")) == "best"
    assert kept_epoch(make_config("hsi", "paper", scene="indian_pines",
                                  validation="monitor")) == "last"


def test_fit_options_carry_the_whole_training_recipe():
    """Runs and the estimator pass these to the engine: the loss's smoothing, mixup, schedule
    and kept epoch all come from the config (the estimator once dropped smoothing and mixup)."""
    from torch import nn

    from spectranet.hsi.recipe import fit_options

    config = make_config("hsi", "standard", scene="indian_pines", label_smoothing=0.1,
                         mixup=0.4, scheduler="cosine", class_weight="balanced", epochs=7,
                         lr=0.002, weight_decay=0.0005)
    model = nn.Linear(3, 2)
    options = fit_options(config, model, np.array([0, 0, 0, 1]), 2, batches_per_epoch=1)
    assert (options["epochs"], options["mixup"], options["keep"]) == (7, 0.4, "last")
    assert options["loss_fn"].label_smoothing == 0.1
    np.testing.assert_allclose(options["loss_fn"].weight.numpy(), [4 / 6, 4 / 2])
    group = options["optimizer"].param_groups[0]
    assert (group["lr"], group["weight_decay"]) == (0.002, 0.0005)
    assert type(options["scheduler"]).__name__ == "CosineAnnealingLR"
