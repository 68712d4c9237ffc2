"""Hyperspectral image classification (Ahmad 2020): scenes, PCA, patches, splits, models, maps.

The commands' functions: :func:`train`, :func:`evaluate`, :func:`predict`; :func:`ensemble`
scores a run's seeds trained on one split, alone and as an ensemble.
"""

from spectranet.hsi.datasets import Scene, get_scene_info, list_scenes, load_cube, load_scene
from spectranet.hsi.disjoint import disjoint_split
from spectranet.hsi.ensemble import ensemble
from spectranet.hsi.estimator import HSIClassifier
from spectranet.hsi.inference import evaluate, predict
from spectranet.hsi.maps import plot_map, predict_map
from spectranet.hsi.models import Fast3DCNN, build_model, count_parameters, list_models
from spectranet.hsi.patches import PatchBatches, PatchDataset
from spectranet.hsi.pipeline import train
from spectranet.hsi.plots import plot_regions
from spectranet.hsi.predictor import HSIPredictor
from spectranet.hsi.reduce import SpectralReducer
from spectranet.hsi.split_files import load_split_file, save_split_file
from spectranet.hsi.splits import Split, per_class_split, random_split

__all__ = [
    "Fast3DCNN",
    "HSIClassifier",
    "HSIPredictor",
    "PatchBatches",
    "PatchDataset",
    "Scene",
    "SpectralReducer",
    "Split",
    "build_model",
    "count_parameters",
    "disjoint_split",
    "ensemble",
    "evaluate",
    "get_scene_info",
    "list_models",
    "list_scenes",
    "load_cube",
    "load_scene",
    "load_split_file",
    "per_class_split",
    "plot_map",
    "plot_regions",
    "predict",
    "predict_map",
    "random_split",
    "save_split_file",
    "train",
]
