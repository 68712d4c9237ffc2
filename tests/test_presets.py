"""The presets' one-line descriptions: a ``paper`` preset says which of its choices are ours."""

import pytest

from spectranet.config import describe_preset, make_config
from spectranet.errors import ConfigError
from spectranet.hsi.fast3dcnn import Fast3DCNN


def test_hsi_paper_preset_lists_the_choices_the_paper_leaves_open():
    about = describe_preset("hsi", "paper")
    assert "exactly" not in about
    published, ours = about.split("; ours, where the paper is silent: ")
    for needle in ("incremental PCA of the whole cube to 20 bands", "11 x 11 patches",
                   "30 % test", "Adam 0.001, batch 256, 50 epochs"):
        assert needle in published, needle
    for needle in ("dropout 0.4", "Glorot-uniform initialisation", "stratified by class",
                   "components standardised", "border patches reflected",
                   "best epoch on validation kept", "seeds"):
        assert needle in ours, needle
    # the listed choices are the ones the preset makes
    config = make_config("hsi", "paper", scene="indian_pines")
    assert (config.window, config.components, config.lr, config.epochs) == (11, 20, 0.001, 50)
    assert config.validation == "split" and config.dropout is None
    assert Fast3DCNN(20, 11, 16).classifier.dropout1.p == 0.4


def test_audio_paper_preset_lists_the_choices_the_paper_leaves_open():
    about = describe_preset("audio", "paper")
    assert "exactly" not in about
    published, ours = about.split("; ours, where the paper is silent: ")
    for needle in ("SGD 0.001 with Nesterov momentum 0.9", "batch 32",
                   "500 epochs over every window", "dropout 0.5"):
        assert needle in published, needle
    for needle in ("filter counts (32, 32, 64, 64, then 64)", "default initialisation",
                   "the previous fold validating, the best epoch on it kept",
                   "per-band standardisation", "silent windows dropped from training",
                   "short clips repeated", "mean of its windows' probabilities"):
        assert needle in ours, needle
    config = make_config("audio", "paper")
    assert (config.optimizer, config.lr, config.batch_size, config.epochs) == ("sgd", 0.001, 32,
                                                                               500)
    assert (config.validation, config.aggregate, config.short_clip) == ("fold", "mean", "repeat")
    assert config.drop_silent and not config.batch_norm and config.sampling == "windows"


def test_describe_preset_refuses_an_unknown_preset():
    with pytest.raises(ConfigError, match="preset must be one of"):
        describe_preset("hsi", "exact")
