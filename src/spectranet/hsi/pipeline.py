"""Hyperspectral runs: ``train``, behind ``spectranet hsi train``.

A run folder holds ``config.json``, ``metrics.json`` and ``report.md`` for all seeds, and one
``seed_<k>/`` folder per seed with that seed's split (``split.json``: flat pixel indices
``r * W + c``), checkpoint (best on validation), metrics, classification map (``map.npy``)
and figures. Finished seeds are skipped on a rerun and an interrupted seed resumes from its
checkpoint.

Under ``torchrun`` every process trains (``fit`` runs DistributedDataParallel) and only rank 0
writes the run folder. ``evaluate`` and ``predict`` are in :mod:`spectranet.hsi.inference`.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from spectranet.config import HSIConfig
from spectranet.engine.checkpoints import load_checkpoint, save_checkpoint, update_metadata
from spectranet.engine.distributed import check_device
from spectranet.engine.identity import fingerprint_files
from spectranet.engine.metrics import classification_metrics, mean_std
from spectranet.engine.plots import plot_confusion_matrix, plot_history
from spectranet.engine.precision import resolve_precision
from spectranet.engine.run import Run
from spectranet.engine.runs import RunDir, save_npy
from spectranet.engine.training import fit
from spectranet.hsi import report
from spectranet.hsi.datasets import (
    Scene,
    load_cube,
    load_scene,
    read_labels,
)
from spectranet.hsi.disjoint import disjoint_split
from spectranet.hsi.fixed_split import preprocessing_on_training
from spectranet.hsi.maps import plot_map
from spectranet.hsi.models import build_model, count_parameters
from spectranet.hsi.patches import PatchBatches, PatchDataset, check_window
from spectranet.hsi.plots import plot_regions
from spectranet.hsi.predictor import HSIPredictor, palette_of
from spectranet.hsi.readers import read_class_names
from spectranet.hsi.recipe import (
    TrainedModel,
    fit_options,
    fit_svm,
    make_reducer,
    model_kwargs,
    resolve_components,
    settle_svm_weight,
    start_model,
    training_transforms,
)
from spectranet.hsi.reduce import SpectralReducer
from spectranet.hsi.self_training import make_pool, self_train
from spectranet.hsi.spectral_svm import SVMMix
from spectranet.hsi.split_files import load_split_file, save_split_file
from spectranet.hsi.splits import Split, leakage, per_class_split, random_split

__all__ = ["train", "make_split", "load_scene_of", "data_fingerprint", "summarise"]


def load_scene_of(config: HSIConfig, root: str | Path | None = None) -> Scene:
    """The scene ``config`` names, or its cube, label map and class names files."""
    if config.scene is not None:
        return load_scene(config.scene, root=root)
    assert config.cube is not None and config.gt is not None  # guaranteed by HSIConfig
    names = None
    if config.class_names is not None:
        _, ids = read_labels(config.gt, config.gt_variable)
        names = read_class_names(config.class_names, ids)
    return load_cube(config.cube, config.gt, cube_variable=config.cube_variable,
                     gt_variable=config.gt_variable, class_names=names)


def data_fingerprint(config: HSIConfig, root: str | Path | None = None, *,
                     scene: Scene | None = None) -> str:
    """The sha256 of the files a run of ``config`` reads: cube, label map, class names, split.

    ``scene`` is ``config``'s scene when already loaded (saves reading it again).
    """
    scene = scene if scene is not None else load_scene_of(config, root)
    split_files = config.split_file or []
    return fingerprint_files([scene.source["cube"], scene.source["gt"],
                              *([config.class_names] if config.class_names else []),
                              *([split_files] if isinstance(split_files, str) else split_files)])


def make_split(labels: np.ndarray, config: HSIConfig, seed: int,
               class_names: Sequence[str] | None = None,
               class_ids: Sequence[int] | None = None) -> Split:
    """The split of ``config.protocol`` (or ``train_per_class``, or ``split_file``) for one seed.

    The split is drawn with ``config.split_seed`` when it is set (the same split for every
    seed), else with ``seed``. ``class_names`` name the classes in errors and notes (the user's
    ids and names); ``class_ids`` are the ids a split file holds (default 1..K). With
    ``config.validation == "none"`` the validation pixels are moved into the training set
    (:meth:`Split.with_validation_trained`): the same test pixels, no validation.
    """
    split = _draw_split(labels, config, seed, class_names, class_ids)
    return split.with_validation_trained() if config.validation == "none" else split


def _draw_split(labels: np.ndarray, config: HSIConfig, seed: int,
                class_names: Sequence[str] | None,
                class_ids: Sequence[int] | None) -> Split:
    seed = seed if config.split_seed is None else config.split_seed
    if config.split_file is not None:
        return load_split_file(
            config.split_file, labels, class_ids or range(1, int(labels.max()) + 2),
            window=config.window, seed=seed, val_fraction=config.val_fraction,
            buffer=config.split_buffer, class_names=class_names)
    if config.protocol == "disjoint":
        return disjoint_split(
            labels,
            window=config.split_window or config.window,
            test_size=config.test_size,
            val_size=(1 - config.test_size) * config.val_fraction,
            seed=seed,
            class_names=class_names,
            block=config.block,
        )
    if config.train_per_class is not None:
        return per_class_split(
            labels,
            train_per_class=config.train_per_class,
            val_per_class=config.train_per_class,
            seed=seed,
            class_names=class_names,
        )
    return random_split(labels, test_size=config.test_size, val_fraction=config.val_fraction,
                        seed=seed, class_names=class_names)


def train(
    config: HSIConfig,
    out: str | Path,
    *,
    root: str | Path | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Train and evaluate a model on a scene for every seed of ``config``; write a run folder.

    Parameters
    ----------
    config : HSIConfig
        Validated settings (see :func:`spectranet.config.make_config`).
    out : path-like
        Run folder; created, or resumed when it holds an unfinished run of the same config.
    root : path-like, optional
        Data root for registered scenes (default ``$SPECTRANET_DATA``).
    progress : bool, default True
        Progress bars for seeds, epochs and batches.

    Returns
    -------
    dict
        The contents of ``metrics.json``: OA, AA, kappa, per-class accuracy, confusion matrix
        (of the first seed with one seed; ``mean``/``std`` and ``seeds`` with several).

    Raises
    ------
    ConfigError, DataError, DataNotFoundError
        Before any file is written, for invalid settings or input.
    """
    scene = load_scene_of(config, root)
    check_window(config.window, scene.labels.shape)
    config = resolve_components(config, scene.n_bands, scene.source.get("cube", scene.name))
    names = [str(i) if n == f"class {i}" else f"{i} ({n})"  # the user's ids, and names if any
             for i, n in zip(scene.class_ids, scene.class_names, strict=True)]
    splits = {seed: make_split(scene.labels, config, seed, names, scene.class_ids)
              for seed in config.seeds}
    build_model(config.model, **model_kwargs(config, scene.n_classes))  # validates early
    check_device(config.device)
    precision = resolve_precision(config.precision)
    resolved = dataclasses.asdict(config) | {"precision_resolved": precision}
    run = Run.open(out, config, data_fingerprint(config, scene=scene), domain="hsi",
                   describe={"resolved": resolved, "scene": _scene_meta(scene)})
    run.log(f"hsi train {scene.name}: {resolved}")
    per_seed = []
    reduced: dict[str, Any] = {}  # the seed-independent reduction, fitted once
    for seed in _seed_bar(config.seeds, progress):
        per_seed.append(
            _train_seed(scene, config, splits[seed], seed, precision, run,
                        progress=progress, reduced=reduced)
        )
    metrics = summarise(per_seed, config.seeds)
    run.log(f"done: OA {metrics['overall_accuracy']:.4f}")
    run.finish(metrics, report.render(scene, config, precision, per_seed))
    return metrics


def _seed_bar(seeds: list[int], progress: bool) -> Any:
    from spectranet.engine.progress import bar as progress_bar

    return progress_bar(seeds, desc="seeds", enabled=progress and len(seeds) > 1)


def summarise(per_seed: list[dict[str, Any]], seeds: list[int]) -> dict[str, Any]:
    """One seed's metrics as they are, or the mean, std and pooled confusion of several."""
    first = {k: v for k, v in per_seed[0].items() if k != "seed"}
    if len(per_seed) == 1:
        return first | {"seed": seeds[0]}
    mean, std = mean_std(per_seed)
    mean.pop("seed", None)
    std.pop("seed", None)
    return {k: mean[k] for k in mean} | {
        "confusion_matrix": np.sum([r["confusion_matrix"] for r in per_seed], axis=0).tolist(),
        "confusion_matrix_note": "counts summed over the seeds' test sets (rows = truth); each "
                                 "seed's own is under seeds",
        "mean": mean,
        "std": std,
        "seeds": per_seed,
    }


def _scene_meta(scene: Scene) -> dict[str, Any]:
    return {
        "name": scene.name,
        "shape": list(scene.cube.shape),
        "class_ids": [int(c) for c in scene.class_ids],
        "class_names": list(scene.class_names),
        "labelled_pixels": int((scene.labels >= 0).sum()),
        "source": {k: str(v) for k, v in scene.source.items()},
    }


def _fit_reducer(scene: Scene, config: HSIConfig, split: Split) -> SpectralReducer:
    reducer = make_reducer(config)
    if preprocessing_on_training(config, split):
        mask = np.zeros(scene.labels.size, dtype=bool)
        mask[split.train] = True  # leakage-free: PCA and scaling see training pixels only
        return reducer.fit(scene.cube, mask=mask.reshape(scene.labels.shape))
    return reducer.fit(scene.cube)


def _reduce(scene: Scene, config: HSIConfig, split: Split,
            cache: dict[str, Any]) -> tuple[SpectralReducer, np.ndarray]:
    """Fitted reducer and reduced cube, reused from ``cache`` when seed-independent.

    Outside the leakage-free protocols the reducer is fitted on the whole cube, so the first
    seed's reducer and cube are kept in ``cache`` for the other seeds.
    """
    if "reducer" in cache:
        return cache["reducer"], cache["cube"]
    reducer = _fit_reducer(scene, config, split)
    cube = reducer.transform(scene.cube)
    if not preprocessing_on_training(config, split):
        cache.update(reducer=reducer, cube=cube)
    return reducer, cube


def _train_seed(
    scene: Scene,
    config: HSIConfig,
    split: Split,
    seed: int,
    precision: str,
    parent: Run,
    *,
    progress: bool,
    reduced: dict[str, Any] | None = None,
) -> dict[str, Any]:
    name = f"seed_{seed}"
    if (finished := parent.finished_unit(name)) is not None:
        return finished
    unit = parent.unit(name, split.to_dict(), seed)
    run = unit.folder  # None on ranks other than 0: they train along and write nothing
    if run is not None:
        save_split_file(unit.path / "split.npz", split, scene.labels, scene.class_ids)
        run.save_figure(plot_regions(split, scene.labels, title=f"{scene.name}, seed {seed}: "
                                     "regions"), "regions")
    reducer, cube = _reduce(scene, config, split, {} if reduced is None else reduced)
    labels = scene.labels.ravel()
    n_classes = scene.n_classes
    kwargs = model_kwargs(config, n_classes)
    scoring = {"reduced": cube, "batch_size": config.map_batch_size, "device": config.device}
    svm, svm_record = fit_svm(config, scene.cube, scene.labels, split.train, split.val, seed)

    def train_model(train: np.ndarray, targets: np.ndarray, recipe: HSIConfig,
                    checkpoint: Path = unit.checkpoint) -> TrainedModel:
        """A fresh model of the recipe trained on ``train``, classes from the map ``targets``."""
        patches = PatchDataset(cube, targets, train, window=config.window)

        def batches(indices: np.ndarray, shuffle: bool, batch_size: int) -> PatchBatches:
            return PatchBatches(patches.subset(indices), batch_size, shuffle=shuffle, seed=seed,
                                transforms=training_transforms(config) if shuffle else None,
                                drop_last=shuffle and config.drop_last)

        model = build_model(config.model, **kwargs)
        start_model(config, model, cube, train)
        predictor = HSIPredictor(model, config.model, kwargs, reducer, tuple(scene.class_ids),
                                 tuple(scene.class_names), palette_of(scene.palette),
                                 int(scene.cube.shape[2]), precision, seed, svm)
        train_batches = batches(train, True, config.batch_size)
        options = fit_options(recipe, model, targets.ravel()[train], n_classes,
                              batches_per_epoch=len(train_batches))
        result = fit(model, train_batches,
                     batches(split.val, False, config.map_batch_size) if split.val.size else None,
                     checkpoint_path=checkpoint, device=config.device, precision=precision,
                     metadata=predictor.to_state(), progress=progress, desc=f"seed {seed}",
                     log=unit.log, **options)
        val_part, chosen = None, {}
        if svm is not None and split.val.size:
            cnn, val_ids = predictor.cnn_proba_pixels(scene.cube, split.val, **scoring)
            val_part = (val_ids, cnn, predictor.svm_proba_pixels(scene.cube, val_ids))
            settled, chosen = settle_svm_weight(config, svm, cnn, val_part[2], labels[val_ids])
            predictor = predictor.with_svm_mix(settled)
            if chosen and run is not None:  # evaluate and predict read the weight chosen here
                update_metadata(checkpoint, predictor.to_state())
        return TrainedModel(predictor, result, options["epochs"],
                            options["epochs"] * len(train_batches), val_part, chosen)

    pool = make_pool(scene.labels, split, config.window, leakage_free=preprocessing_on_training(
        config, split)) if config.self_training else None
    first_path = (unit.path / "first_model.pt" if pool is not None and pool.eligible.size
                  else unit.checkpoint)  # the kept model's is checkpoint.pt
    kept = first = train_model(split.train, scene.labels, config, first_path)
    if pool is not None:
        kept, self_record, pseudo = self_train(
            first, pool, config, train_model, cube=scene.cube, labels=scene.labels,
            train=split.train, val=split.val, scored={"val": split.val, "test": split.test},
            pool_truth=True, **scoring)
        if run is not None:
            run.write_json("pseudo_labels.json", pseudo.to_dict())
            if kept is first and first_path != unit.checkpoint:  # nothing pseudo-labelled
                save_checkpoint(load_checkpoint(first_path), unit.checkpoint)
    predictor, result = kept.predictor, kept.result
    parts = {} if kept.val_part is None else {"val": kept.val_part}
    svm_record = svm_record | kept.chosen
    tic = time.perf_counter()
    probs, ids = predictor.cnn_proba_pixels(scene.cube, split.test, **scoring)
    if svm is not None:
        parts["test"] = (ids, probs, predictor.svm_proba_pixels(scene.cube, ids))
        probs = predictor.mix(*parts["test"][1:])
    test_seconds = time.perf_counter() - tic
    metrics = classification_metrics(labels[ids], probs.argmax(1), n_classes=n_classes)
    if svm is not None:
        metrics["svm_mix"] = _mix_scores(predictor, labels, parts) | svm_record
    reusable = svm is not None and svm.neighbourhood == 1  # the baseline's very model
    baseline = (parts["test"][2] if reusable else
                SVMMix.fit(scene.cube, scene.labels, split.train, weight=1.0, seed=seed)
                .pixel_proba(scene.cube, ids, n_classes))
    metrics["svm_baseline"] = {
        k: v for k, v in classification_metrics(labels[ids], baseline.argmax(1),
                                                 n_classes=n_classes).items()
        if k in ("overall_accuracy", "average_accuracy", "kappa", "macro_f1")}
    if run is not None:  # the map is only written, so only rank 0 draws it
        tic = time.perf_counter()
        label_map = predictor.proba_map(scene.cube, progress=progress, **scoring).argmax(-1)
        map_seconds = time.perf_counter() - tic
        save_npy(unit.path / "map.npy", np.asarray(scene.class_ids)[label_map])  # the scene's ids
        _seed_figures(run, scene, label_map, metrics, result.history, seed)
        metrics |= {"map_seconds": map_seconds,
                    "map_pixels_per_second": label_map.size / map_seconds}
    metrics |= {
        "seed": seed,
        "train_seconds": result.train_seconds + (first.result.train_seconds
                                                 if kept is not first else 0.0),
        "test_seconds": test_seconds,
        "best_epoch": result.best_epoch,
        "epochs": kept.epochs,
        "steps": kept.steps,
        "parameters": count_parameters(predictor.model),
        "split_sizes": {k: int(len(getattr(split, k))) for k in ("train", "val", "test")},
        "class_counts": {k: np.bincount(labels[getattr(split, k)], minlength=n_classes).tolist()
                         for k in ("train", "val", "test")},
        "split_notes": list(getattr(split, "notes", []) or []),
        "split_info": dict(split.info),
        "preprocessing_fit": "train" if preprocessing_on_training(config, split) else "cube",
        "leakage": leakage(split, scene.labels.shape, config.window),
        "history": result.history,
    }
    if pool is not None:
        metrics["self_training"] = self_record
    return unit.finish(metrics)


def _mix_scores(predictor: HSIPredictor, labels: np.ndarray,
                parts: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]) -> dict[str, Any]:
    """OA of the CNN alone, the SVM alone and their mix on each set of ``parts``.

    ``parts`` maps a set name to (pixel ids, the CNN's probabilities, the SVM's) on it;
    ``labels`` is the flat label map.
    """
    svm = predictor.svm_mix
    assert svm is not None  # only called for a model with an SVM mix
    out: dict[str, Any] = {"weight": svm.weight, "neighbourhood": svm.neighbourhood}
    for name, (ids, cnn, alone) in parts.items():
        for part, proba in (("cnn", cnn), ("svm", alone), ("mixed", predictor.mix(cnn, alone))):
            out[f"{name}_accuracy_{part}"] = float(np.mean(proba.argmax(1) == labels[ids]))
    return out


def _seed_figures(run: RunDir, scene: Scene, label_map: np.ndarray, metrics: dict[str, Any],
                  history: list[dict[str, float]], seed: int) -> None:
    gt = np.where(scene.labels >= 0, scene.labels, -1)
    run.save_figure(plot_map(label_map, scene.palette, scene.class_names, ground_truth=gt,
                             title=f"{scene.name}, seed {seed}"), "map")
    run.save_figure(plot_confusion_matrix(metrics["confusion_matrix"], scene.class_names),
                    "confusion_matrix")
    run.save_figure(plot_history(history, title=f"{scene.name}, seed {seed}"), "curves")
