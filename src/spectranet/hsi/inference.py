"""A finished hyperspectral run at work: ``evaluate`` it again, ``predict`` a new cube.

Both go through the engine's run layer (:func:`~spectranet.engine.run.best_model`,
:func:`~spectranet.engine.run.rescore`); the trained model of each unit answers as an
:class:`~spectranet.hsi.predictor.HSIPredictor` (reducer, network, classes, SVM mix).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from spectranet.config import HSIConfig, from_dict
from spectranet.engine.distributed import check_device
from spectranet.engine.identity import check_out_dir, check_same_data, read_run
from spectranet.engine.metrics import classification_metrics
from spectranet.engine.ownership import output_folder
from spectranet.engine.run import SavedModel, best_model, read_split, rescore
from spectranet.errors import DataError, DataNotFoundError
from spectranet.hsi.datasets import Scene, check_same_grid, read_cube, read_labels
from spectranet.hsi.maps import plot_map
from spectranet.hsi.pipeline import data_fingerprint, load_scene_of, summarise
from spectranet.hsi.predictor import HSIPredictor, network_from_state

#: The kind of output folder ``predict`` writes (its marker).
PREDICT = "hsi predict"

__all__ = ["evaluate", "predict", "load_run_predictor", "load_run_model", "saved_proba",
           "run_scene"]


def model_from_metadata(meta: dict[str, Any]) -> torch.nn.Module:
    """The untrained model a checkpoint's metadata describes (the run layer's ``build``).

    :func:`~spectranet.hsi.predictor.network_from_state`, under the name the scripts of
    ``docs/results`` import.
    """
    return network_from_state(meta)


def load_run_predictor(run: str | Path, *, seed: int | None = None) -> HSIPredictor:
    """The trained model kept by a run (the seed with the best validation accuracy by default).

    Its network is in eval mode with the best-on-validation weights; its spectral SVM (a run
    trained with ``svm_weight``) is fitted again from the pixels the checkpoint stores.
    """
    return HSIPredictor.from_saved(best_model(
        run, domain="hsi", build=network_from_state,
        pattern=f"seed_{'*' if seed is None else seed}/checkpoint.pt"))


def load_run_model(run: str | Path, *, seed: int | None = None) -> tuple[torch.nn.Module, dict]:
    """Load the model kept by a run, as :func:`load_run_predictor`, and its metadata.

    Returns
    -------
    model : nn.Module
        In eval mode, best-on-validation weights.
    metadata : dict
        The checkpoint's metadata (:meth:`HSIPredictor.to_state`), with ``reducer`` the
        fitted :class:`SpectralReducer` and ``svm_mix`` the :class:`SVMMix` of a run trained
        with ``svm_weight``, else None.
    """
    predictor = load_run_predictor(run, seed=seed)
    return predictor.model, predictor.to_state() | {"reducer": predictor.reducer,
                                                     "svm_mix": predictor.svm_mix}


def saved_proba(saved: SavedModel, scene: Scene, pixels: np.ndarray, *,
                batch_size: int = 1024, progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Class probabilities of a saved unit's model on some pixels of its scene.

    :meth:`HSIPredictor.proba_pixels` of the unit's predictor: the scene's cube through the
    unit's own fitted reducer, the model on the ``window x window`` patch of every pixel, and
    the unit's spectral SVM mixed in when it was trained with ``svm_weight``.

    Parameters
    ----------
    saved : SavedModel
        A unit of a finished hsi run (:func:`~spectranet.engine.run.rescore` gives each).
    scene : Scene
        The scene the run was trained on.
    pixels : int ndarray, shape (N,)
        Flat pixel indices ``r * W + c``.
    batch_size : int >= 1, default 1024
        Patches per forward pass.
    progress : bool, default False

    Returns
    -------
    probabilities : float ndarray, shape (N', K)
        float32; float64 when mixed with a spectral SVM.
    ids : int64 ndarray, shape (N',)
        The pixels scored, in the order of the rows of ``probabilities``.
    """
    return HSIPredictor.from_saved(saved).proba_pixels(scene.cube, pixels,
                                                       batch_size=batch_size, progress=progress)


def run_scene(run: str | Path, root: str | Path | None = None) -> tuple[HSIConfig, Scene]:
    """The configuration of a run folder and its scene, checked to be the data it trained on.

    Relative data paths in ``config.json`` are taken from the folder the run was started in
    (its recorded ``cwd``), not from the current one.

    Raises
    ------
    DataError
        The cube, label map, class names or split files differ from those the run recorded
        (its ``data_fingerprint``); runs written before fingerprints are not checked.
    """
    run = Path(run)
    saved, _ = read_run(run, expect="hsi")
    raw, cwd = saved["config"], saved.get("cwd")
    if isinstance(cwd, str):
        raw = {k: _absolute(v, cwd) if k in _PATHS else v for k, v in raw.items()}
    config = from_dict(HSIConfig, raw, where=str(run / "config.json"))
    scene = load_scene_of(config, root)
    files = ", ".join(str(v) for k in _PATHS if (v := getattr(config, k)))
    check_same_data(run, saved, data_fingerprint(config, scene=scene),
                    files=files or str(config.scene))
    return config, scene


#: The configuration's data paths (relative ones are resolved against the run's cwd).
_PATHS = ("cube", "gt", "class_names", "split_file")


def _absolute(value: Any, cwd: str) -> Any:
    if isinstance(value, list):
        return [_absolute(v, cwd) for v in value]
    return os.path.join(cwd, value) if isinstance(value, str) and value else value


def evaluate(run: str | Path, *, root: str | Path | None = None,
             progress: bool = True) -> dict[str, Any]:
    """Re-score every seed of a finished run on its saved test split from its checkpoint.

    Returns the per-seed metrics (OA, AA, kappa, per-class accuracy, confusion matrix) and, with
    several seeds, their mean and std; ``metrics.json`` and ``report.md`` are not modified.

    Raises
    ------
    DataNotFoundError
        A seed of the run's configuration has no checkpoint or no ``split.json``.
    """
    run = Path(run)
    config, scene = run_scene(run, root)
    labels = scene.labels.ravel()

    def score(saved: SavedModel) -> dict[str, Any]:
        split = read_split(saved.path.parent / "split.json")
        test = np.asarray(split.get("test", []), dtype=np.int64)
        if test.ndim != 1 or ((test < 0) | (test >= labels.size)).any():
            raise DataError(f"{saved.path.parent / 'split.json'}: test indices outside the "
                            f"scene's {labels.size} pixels")
        predictor = HSIPredictor.from_saved(saved)
        probs, ids = predictor.proba_pixels(scene.cube, test, batch_size=config.map_batch_size,
                                            progress=progress)
        return classification_metrics(labels[ids], probs.argmax(1),
                                      n_classes=len(scene.class_names)) | {
            "seed": predictor.seed}

    scored = rescore(run, domain="hsi", build=network_from_state, score=score,
                     pattern="seed_*/checkpoint.pt")
    by_seed = {m["seed"]: m for m in scored}
    missing = [s for s in config.seeds if s not in by_seed]
    if missing:
        raise DataNotFoundError(f"{run}: no checkpoint for seed {missing[0]}; the seed did "
                                "not finish")
    return summarise([by_seed[s] for s in config.seeds], config.seeds)


def predict(
    run: str | Path,
    cube: str | Path,
    *,
    gt: str | Path | None = None,
    out: str | Path,
    cube_variable: str | None = None,
    gt_variable: str | None = None,
    device: str = "cpu",
    progress: bool = True,
) -> dict[str, Any]:
    """Classify every pixel of a new cube with a run's model; optionally score it.

    Writes to ``out``: ``map.npy`` (H, W) holding the scene's own label ids (as its label map
    does; every pixel is classified, so no 0), ``map_index.npy`` (the same as class indices
    0..K-1, in ``prediction.json``'s ``class_ids`` order), ``figures/map.png`` and
    ``prediction.json`` (with ``metrics`` when ``gt`` is given). ``device`` ("cpu", "cuda")
    is checked before anything is read.

    Raises
    ------
    DataError
        The cube has another number of bands than the run was trained on, or the label map
        holds class ids the run does not know.
    """
    check_device(device)
    check_out_dir(out, marker=None, kind=PREDICT)
    predictor = load_run_predictor(run)
    data = read_cube(cube, cube_variable)
    predictor.check_bands(data, str(cube))
    truth = None
    if gt is not None:  # label ids mapped onto the run's class indices; unknown ids refused
        truth, _ = read_labels(gt, gt_variable, class_ids=predictor.class_ids)
        check_same_grid(data, truth, cube, gt)
    tic = time.perf_counter()
    label_map = predictor.proba_map(data, device=device, progress=progress).argmax(-1)
    seconds = time.perf_counter() - tic
    class_ids = np.asarray(predictor.class_ids)
    result: dict[str, Any] = {"run": str(run), "cube": str(cube), "shape": list(data.shape),
                              "class_ids": class_ids.tolist(),
                              "class_names": list(predictor.class_names),
                              "seconds": seconds, "pixels_per_second": label_map.size / seconds}
    if truth is not None:
        mask = truth >= 0
        result["metrics"] = classification_metrics(truth[mask], label_map[mask],
                                                   n_classes=len(class_ids))
    with output_folder(out, PREDICT, run=str(Path(run).resolve())) as out_dir:
        out_dir.save_npy("map.npy", class_ids[label_map])
        out_dir.save_npy("map_index.npy", label_map)
        out_dir.save_figure(plot_map(label_map, predictor.palette,
                                     predictor.class_names, ground_truth=truth,
                                     title=Path(cube).name), "map")
        out_dir.write_json("prediction.json", result)
        out_dir.log(f"hsi predict {cube} with {run}: map.npy ({result['pixels_per_second']:.0f} "
                    "pixels/s)" + (f", OA {result['metrics']['overall_accuracy']:.4f}"
                                   if truth is not None else ""))
    return result
