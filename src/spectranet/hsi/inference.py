"""A finished hyperspectral run at work: ``evaluate`` it again, ``predict`` a new cube.

Both go through the engine's run layer (:func:`~spectranet.engine.run.best_model`,
:func:`~spectranet.engine.run.rescore`); this module supplies what is hyperspectral: how a
checkpoint's metadata builds the model, its spectral reducer, and scoring on patches.
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
from spectranet.engine.scoring import predict_proba
from spectranet.errors import DataError, DataNotFoundError
from spectranet.hsi.datasets import Scene, check_same_grid, read_cube, read_labels
from spectranet.hsi.maps import plot_map, predict_map
from spectranet.hsi.models import build_model
from spectranet.hsi.patches import PatchBatches, PatchDataset
from spectranet.hsi.pipeline import data_fingerprint, load_scene_of, summarise
from spectranet.hsi.reduce import SpectralReducer
from spectranet.hsi.spectral_svm import SVMMix

#: The kind of output folder ``predict`` writes (its marker).
PREDICT = "hsi predict"

__all__ = ["evaluate", "predict", "load_run_model", "saved_proba", "run_scene"]


def model_from_metadata(meta: dict[str, Any]) -> torch.nn.Module:
    """The untrained model a checkpoint's metadata describes (the run layer's ``build``)."""
    return build_model(meta["model"], **meta["model_kwargs"])


def load_run_model(run: str | Path, *, seed: int | None = None) -> tuple[torch.nn.Module, dict]:
    """Load the model kept by a run (the seed with the best validation accuracy by default).

    Returns
    -------
    model : nn.Module
        In eval mode, best-on-validation weights.
    metadata : dict
        Class ids and names, palette, the fitted reducer (a :class:`SpectralReducer`), window,
        precision, seed, and ``svm_mix``: the :class:`SVMMix` of a run trained with
        ``svm_weight``, else None.
    """
    saved = best_model(run, domain="hsi", build=model_from_metadata,
                       pattern=f"seed_{'*' if seed is None else seed}/checkpoint.pt")
    return saved.model, saved.metadata | {
        "reducer": SpectralReducer.from_state(saved.metadata["reducer"]),
        "svm_mix": _svm_mix(saved.metadata)}


def _svm_mix(meta: dict[str, Any]) -> SVMMix | None:
    """The checkpoint's spectral SVM, fitted again from its stored pixels; None without one."""
    state = meta.get("svm_mix")  # absent from checkpoints written before svm_weight existed
    return None if state is None else SVMMix.from_state(state)


def saved_proba(saved: SavedModel, scene: Scene, pixels: np.ndarray, *,
                batch_size: int = 1024, progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Class probabilities of a saved unit's model on some pixels of its scene.

    The scene's cube goes through the unit's own fitted reducer (PCA, scaling, unit norm as at
    training), then the model scores the ``window x window`` patch of every pixel; a unit
    trained with ``svm_weight`` mixes in its spectral SVM's probabilities.

    Parameters
    ----------
    saved : SavedModel
        A unit of a finished hsi run (:func:`~spectranet.engine.run.rescore` gives each).
    scene : Scene
        The scene the run was trained on.
    pixels : int ndarray, shape (N,)
        Flat pixel indices ``r * W + c``, labelled.
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
    meta = saved.metadata
    reducer = SpectralReducer.from_state(meta["reducer"])
    patches = PatchDataset(reducer.transform(scene.cube), scene.labels, pixels,
                           window=meta["model_kwargs"]["window"])
    probs, ids = predict_proba(saved.model, PatchBatches(patches, batch_size),
                               precision=meta["precision"], progress=progress)
    if (svm := _svm_mix(meta)) is not None:
        probs = svm.mix_pixels(probs, scene.cube, ids)
    return probs, ids


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
        probs, ids = saved_proba(saved, scene, test, batch_size=config.map_batch_size,
                                 progress=progress)
        return classification_metrics(labels[ids], probs.argmax(1),
                                      n_classes=len(scene.class_names)) | {
            "seed": saved.metadata["seed"]}

    scored = rescore(run, domain="hsi", build=model_from_metadata, score=score,
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
    model, meta = load_run_model(run)
    data = read_cube(cube, cube_variable)
    if data.shape[2] != meta["input_bands"]:
        raise DataError(f"{cube}: expected {meta['input_bands']} bands, got {data.shape[2]}")
    truth = None
    if gt is not None:  # label ids mapped onto the run's class indices; unknown ids refused
        truth, _ = read_labels(gt, gt_variable, class_ids=meta["class_ids"])
        check_same_grid(data, truth, cube, gt)
    window = meta["model_kwargs"]["window"]
    reduced = meta["reducer"].transform(data)
    tic = time.perf_counter()
    label_map, proba = predict_map(model, reduced, window=window, precision=meta["precision"],
                                   device=device, progress=progress, return_proba=True)
    if meta["svm_mix"] is not None:
        label_map = meta["svm_mix"].mix_map(proba, data).argmax(-1)
    seconds = time.perf_counter() - tic
    class_ids = np.asarray(meta["class_ids"])
    result: dict[str, Any] = {"run": str(run), "cube": str(cube), "shape": list(data.shape),
                              "class_ids": class_ids.tolist(),
                              "class_names": list(meta["class_names"]),
                              "seconds": seconds, "pixels_per_second": label_map.size / seconds}
    if truth is not None:
        mask = truth >= 0
        result["metrics"] = classification_metrics(truth[mask], label_map[mask],
                                                   n_classes=len(class_ids))
    with output_folder(out, PREDICT, run=str(Path(run).resolve())) as out_dir:
        out_dir.save_npy("map.npy", class_ids[label_map])
        out_dir.save_npy("map_index.npy", label_map)
        out_dir.save_figure(plot_map(label_map, [tuple(c) for c in meta["palette"]],
                                     meta["class_names"], ground_truth=truth,
                                     title=Path(cube).name), "map")
        out_dir.write_json("prediction.json", result)
        out_dir.log(f"hsi predict {cube} with {run}: map.npy ({result['pixels_per_second']:.0f} "
                    "pixels/s)" + (f", OA {result['metrics']['overall_accuracy']:.4f}"
                                   if truth is not None else ""))
    return result
