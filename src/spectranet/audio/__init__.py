"""Environmental sound classification (Chen et al. 2019): clips, log-mel features, spec CNNs.

The commands' functions: :func:`train`, :func:`evaluate`, :func:`predict` and
:func:`spectranet.audio.pipeline.features`.
"""

from spectranet.audio.datasets import ClipTable, load_clips
from spectranet.audio.decoding import load_audio
from spectranet.audio.estimator import SoundClassifier
from spectranet.audio.inference import predict
from spectranet.audio.models import PAPER_SPECS, PiczakCNN, build_model, from_spec, parse_spec
from spectranet.audio.pipeline import evaluate, train
from spectranet.audio.predictor import SoundPredictor
from spectranet.audio.protocol import aggregate_clips, fold_assignments, fold_split

__all__ = [
    "PAPER_SPECS",
    "ClipTable",
    "PiczakCNN",
    "SoundClassifier",
    "SoundPredictor",
    "aggregate_clips",
    "build_model",
    "evaluate",
    "fold_assignments",
    "fold_split",
    "from_spec",
    "load_audio",
    "load_clips",
    "parse_spec",
    "predict",
    "train",
]
