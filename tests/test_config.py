import dataclasses
import json

import pytest

from spectranet.config import (
    AudioConfig,
    HSIConfig,
    list_presets,
    load_preset,
    make_config,
)
from spectranet.engine.identity import same_config
from spectranet.errors import ConfigError


def test_paper_presets_hold_the_papers_settings():
    hsi = make_config("hsi", "paper", scene="indian_pines")
    assert (hsi.window, hsi.components, hsi.optimizer, hsi.lr, hsi.batch_size, hsi.epochs) == (
        11, 20, "adam", 0.001, 256, 50)
    assert (hsi.test_size, hsi.val_fraction, hsi.protocol) == (0.3, 0.5, "paper")
    audio = make_config("audio", "paper")
    assert (audio.optimizer, audio.momentum, audio.nesterov, audio.lr, audio.batch_size,
            audio.epochs) == ("sgd", 0.9, True, 0.001, 32, 500)
    assert (audio.sr, audio.n_fft, audio.hop_length, audio.n_mels, audio.frames, audio.overlap) == (
        22050, 1024, 512, 64, 41, 0.5)


def test_flags_override_preset_and_none_keeps_it():
    cfg = make_config("hsi", "quick", scene="indian_pines", window=13, epochs=None, seeds=[0, 1])
    assert cfg.window == 13 and cfg.epochs == load_preset("hsi", "quick")["epochs"]
    assert cfg.seeds == [0, 1] and cfg.preset == "quick"


def test_hsi_standard_preset_is_the_paper_recipe_plus_measured_changes():
    paper, std = make_config("hsi", "paper", scene="indian_pines"), make_config(
        "hsi", "standard", scene="indian_pines")
    assert (std.window, std.flips, std.block, std.split_window) == (9, True, 40, 11)
    assert (std.val_fraction, paper.val_fraction) == (0.25, 0.5)  # the paper halves its 70 %
    assert (std.validation, paper.validation) == ("monitor", "split")
    assert (std.svm_weight, paper.svm_weight) == ("auto", 0.0)
    assert (std.svm_neighbourhood, paper.svm_neighbourhood) == ("auto", 1)
    assert (std.steps, paper.steps) == (1100, None)  # 50 epochs of the paper split's 22 batches
    assert (std.drop_last, paper.drop_last) == (True, False)
    assert (std.model, std.components, std.pca, std.unit_norm, std.stem_init) == (
        "fast3dcnn_stem", "all", False, True, "pca")
    same = ("protocol", "test_size", "optimizer", "lr", "batch_size", "epochs",
            "dropout", "weight_decay", "class_weight", "spectral_noise", "label_smoothing",
            "mixup", "scheduler")
    assert all(getattr(std, k) == getattr(paper, k) for k in same)
    # the paper preset stays the paper's recipe
    assert (paper.window, paper.flips, paper.block, paper.split_window, paper.mixup) == (
        11, False, None, None, 0.0)
    assert (paper.model, paper.components, paper.pca, paper.unit_norm, paper.stem_init) == (
        "fast3dcnn", 20, True, False, "random")


@pytest.mark.parametrize("components", [0, -3, 2.5, True, "every"])
def test_components_is_a_count_or_all(components):
    with pytest.raises(ConfigError, match=r"components must be an integer >= 1 or 'all', got"):
        make_config("hsi", "quick", scene="indian_pines", components=components)
    assert make_config("hsi", "quick", scene="indian_pines", components="all").components == "all"


def test_list_presets():
    assert list_presets("hsi") == ["paper", "quick", "standard"]
    assert list_presets("audio") == ["paper", "quick", "standard"]


def test_audio_standard_preset_is_a_full_width_recipe_independent_of_the_dataset():
    cfg = make_config("audio", "standard")
    assert cfg.filters is None and cfg.batch_norm and cfg.sampling == "clips"
    assert (cfg.optimizer, cfg.scheduler, cfg.validation, cfg.baseline, cfg.augment) == (
        "adamw", "onecycle", "none", "rf", False)
    # a fixed number of steps, and the forest fused at equal weight (issue 23)
    assert (cfg.steps, cfg.baseline_weight) == (1200, 0.5)
    preset = load_preset("audio", "standard")
    assert "folds" not in preset and "dataset" not in preset  # works on any layout
    paper = make_config("audio", "paper")
    assert (cfg.sr, cfg.n_fft, cfg.hop_length, cfg.n_mels, cfg.frames, cfg.overlap) == (
        paper.sr, paper.n_fft, paper.hop_length, paper.n_mels, paper.frames, paper.overlap)
    assert (paper.sampling, paper.mixup, paper.label_smoothing, paper.baseline,
            paper.val_windows) == ("windows", 0.0, 0.0, "none", "all")


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"window": 10}, "window must be an odd integer >= 3, got 10"),
    ({"window": 1}, "window must be an odd integer"),
    ({"protocol": "random"}, "protocol must be one of 'paper', 'disjoint'"),
    ({"test_size": 30}, r"test_size must be a fraction in \(0, 1\), got 30"),
    ({"train_per_class": 1.0}, "count .* or a fraction"),
    ({"train_per_class": 0}, "count .* or a fraction"),
    ({"seeds": []}, "seeds"),
    ({"seeds": [1, 1]}, "distinct"),
    ({"epochs": 0}, "epochs must be an integer > 0"),
    ({"bogus": 1}, "unknown option"),
    ({"block": 0}, "block must be an integer > 0"),
    ({"flips": 1}, "flips must be true or false"),
    ({"pca": "no"}, "pca must be true or false"),
    ({"unit_norm": "yes"}, "unit_norm must be true or false, got 'yes'"),
    ({"split_seed": -1}, "split_seed must be an integer >= 0, got -1"),
    ({"split_seed": 1.5}, "split_seed must be an integer >= 0, got 1.5"),
    ({"split_seed": True}, "split_seed must be an integer >= 0, got True"),
    ({"split_seed": "0"}, "split_seed must be an integer >= 0, got '0'"),
    ({"validation": "fold"}, "validation must be one of 'split', 'monitor', 'none', got 'fold'"),
    ({"split_window": 9}, r"split_window must be an odd integer >= window \(11\)"),
    ({"split_window": 12}, "split_window must be an odd integer"),
    ({"spectral_noise": -0.1}, "spectral_noise must be a number >= 0"),
    ({"mixup": -1}, "mixup must be a number >= 0"),
    ({"label_smoothing": 1.0}, r"label_smoothing must be in \[0, 1\)"),
    ({"split_file": ["a.npz", "b.npz", "c.npz"]}, "split_file must be a path, or two paths"),
    ({"split_file": ""}, "split_file must be a path, or two paths"),
    ({"split_file": 3}, "split_file must be a path, or two paths"),
    ({"split_file": "a.npz", "protocol": "disjoint"}, "either protocol 'disjoint' or a split_file"),
    ({"split_file": "a.npz", "train_per_class": 50}, "either train_per_class or a split_file"),
    ({"split_buffer": True}, "split_buffer needs a split_file"),
    ({"split_file": "a.npz", "split_buffer": 1}, "split_buffer must be True or False, got 1"),
])
def test_hsi_errors(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        make_config("hsi", "paper", scene="indian_pines", **kwargs)


def test_split_file_is_a_path_or_two():
    one = make_config("hsi", "quick", scene="indian_pines", split_file=("s.npz",))
    two = make_config("hsi", "quick", scene="indian_pines", split_file=("tr.tif", "te.tif"),
                      split_buffer=True)
    assert (one.split_file, one.split_buffer) == ("s.npz", False)
    assert (two.split_file, two.split_buffer) == (["tr.tif", "te.tif"], True)


def test_scene_or_files():
    with pytest.raises(ConfigError, match="scene name, or both"):
        HSIConfig(cube="c.mat")
    with pytest.raises(ConfigError, match="not both"):
        HSIConfig(scene="indian_pines", cube="c.mat", gt="g.mat")
    assert HSIConfig(cube="c.npy", gt="g.npy").scene is None


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"aggregate": "max"}, "aggregate must be one of"),
    ({"overlap": 1.0}, "overlap"),
    ({"filters": [32, 0]}, "filters"),
    ({"folds": []}, "folds"),
    ({"short_clip": "loop"}, "short_clip"),
    ({"class_weight": "inverse"}, "class_weight must be one of 'none', 'balanced'"),
    ({"sampling": "random"}, "sampling must be one of 'windows', 'clips', got 'random'"),
    ({"val_windows": "first"}, "val_windows must be one of 'all', 'middle'"),
    ({"mixup": -0.2}, "mixup must be a number >= 0, got -0.2"),
    ({"label_smoothing": 1.0}, r"label_smoothing must be in \[0, 1\), got 1.0"),
    ({"baseline": "knn"}, "baseline must be one of 'none', 'rf', 'svm'"),
    ({"scheduler": "step"}, "scheduler must be one of 'none', 'cosine', 'onecycle'"),
])
def test_audio_errors(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        AudioConfig(**kwargs)


def test_unknown_preset():
    with pytest.raises(ConfigError,
                       match="preset must be one of 'paper', 'quick', 'standard', got 'fast'"):
        make_config("hsi", "fast", scene="x")


def test_stored_config_without_a_newer_field_still_matches():
    config = AudioConfig(epochs=4)
    stored = json.loads(json.dumps(dataclasses.asdict(config)))
    assert same_config(stored, config)
    older = {k: v for k, v in stored.items() if k != "class_weight"}  # written before the field
    assert same_config(older, config)
    assert not same_config(older, AudioConfig(epochs=4, class_weight="balanced"))
    assert not same_config(older, AudioConfig(epochs=5))
    assert not same_config(stored | {"epochs": 5}, config)
    assert same_config({"name": "a"}, {"name": "a"}) and not same_config({"name": "a"}, {})


def test_split_seed_and_unit_norm_as_toml_keys():
    import tomllib

    from spectranet.config import from_dict

    cfg = from_dict(HSIConfig, tomllib.loads('scene = "indian_pines"\nsplit_seed = 2\n'
                                             'unit_norm = true\n'))
    assert (cfg.split_seed, cfg.unit_norm) == (2, True)
    default = make_config("hsi", "paper", scene="indian_pines")
    assert (default.split_seed, default.unit_norm) == (None, False)


def test_spectral_shift_needs_bands_in_order():
    with pytest.raises(ConfigError, match="spectral_shift needs bands in spectral order"):
        make_config("hsi", "quick", scene="indian_pines", spectral_shift=2)
    with pytest.raises(ConfigError, match="spectral_shift must be"):
        make_config("hsi", "standard", scene="indian_pines", spectral_shift=-1)
    config = make_config("hsi", "standard", scene="indian_pines", spectral_shift=2)
    assert config.spectral_shift == 2


def test_steps_replace_epochs_and_an_epochs_override_replaces_a_presets_steps(monkeypatch):
    from spectranet import config as config_module

    real = config_module.load_preset

    def with_steps(domain, name):
        return real(domain, name) | {"steps": 700}

    monkeypatch.setattr(config_module, "load_preset", with_steps)
    assert make_config("hsi", "paper", scene="indian_pines").steps == 700
    given = make_config("hsi", "paper", scene="indian_pines", epochs=3)
    assert (given.steps, given.epochs) == (None, 3)
    assert make_config("audio", "paper", steps=40).steps == 40
    with pytest.raises(ConfigError, match="give epochs or steps, not both"):
        make_config("audio", "paper", epochs=3, steps=40)
    with pytest.raises(ConfigError, match="steps must be an integer > 0, got 0"):
        make_config("hsi", "paper", scene="indian_pines", steps=0)


def test_another_baseline_drops_the_presets_fusion_but_not_an_explicit_weight():
    assert make_config("audio", "standard", baseline="svm").baseline_weight == 0.0
    assert make_config("audio", "standard", baseline="none").baseline_weight == 0.0
    with pytest.raises(ConfigError, match="baseline_weight 0.3 mixes in the MFCC random forest"):
        make_config("audio", "standard", baseline="svm", baseline_weight=0.3)
