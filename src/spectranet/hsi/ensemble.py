"""Ensembles of finished hyperspectral runs: the mean of the members' softmax probabilities.

The members are the seeds of one or several runs trained on **one** split (``--split-seed``):
each member's model scores the validation and test pixels of that split, the ensemble
classifies each pixel by the mean of the members' class probabilities. Models are loaded by the
engine's run layer (:func:`~spectranet.engine.run.rescore`) and scored by
:meth:`~spectranet.hsi.predictor.HSIPredictor.proba_pixels`, as ``evaluate`` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from spectranet.engine.identity import read_run
from spectranet.engine.metrics import classification_metrics
from spectranet.engine.run import SavedModel, read_split, rescore
from spectranet.errors import DataError
from spectranet.hsi.inference import run_scene
from spectranet.hsi.predictor import HSIPredictor, network_from_state
from spectranet.hsi.spectral_svm import SVMMix
from spectranet.validation import check_share

__all__ = ["score_ensemble", "ensemble"]

#: The sets of a split an ensemble is scored on.
SETS = ("val", "test")


def score_ensemble(probabilities: Sequence[np.ndarray], labels: np.ndarray, *,
                   n_classes: int) -> dict[str, Any]:
    """Metrics of each member and of the mean of the members' probabilities.

    Parameters
    ----------
    probabilities : sequence of float ndarray, shape (N, K) each
        One array per member: the class probabilities (softmax, rows summing to 1) of the
        same N samples, in the same order.
    labels : int ndarray, shape (N,)
        True class indices 0..K-1.
    n_classes : int >= 1
        K.

    Returns
    -------
    dict
        ``members``: one :func:`~spectranet.engine.metrics.classification_metrics` dict per
        member (its own arg-max); ``ensemble``: the same for the arg-max of the mean
        probabilities; ``probabilities``: the mean, float64 ndarray (N, K).

    Raises
    ------
    DataError
        No member, members of different shapes, or labels of another length.

    Examples
    --------
    >>> a = np.array([[0.9, 0.1], [0.4, 0.6]])
    >>> b = np.array([[0.4, 0.6], [0.9, 0.1]])
    >>> score_ensemble([a, b], np.array([0, 0]), n_classes=2)["ensemble"]["overall_accuracy"]
    1.0
    """
    if len(probabilities) == 0:
        raise DataError("an ensemble needs at least one member, got none")
    stacked = [np.asarray(p, dtype=np.float64) for p in probabilities]
    shape = (len(labels), n_classes)
    bad = [i for i, p in enumerate(stacked) if p.shape != shape]
    if bad:
        raise DataError(f"member {bad[0]}'s probabilities must have shape {shape} (labels, "
                        f"classes), got {stacked[bad[0]].shape}")
    mean = np.mean(stacked, axis=0)
    return {"members": [classification_metrics(labels, p.argmax(1), n_classes=n_classes)
                        for p in stacked],
            "ensemble": classification_metrics(labels, mean.argmax(1), n_classes=n_classes),
            "probabilities": mean}


def _rows_of(pixels: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Positions in ``ids`` of each of ``pixels`` (every pixel is in ``ids`` once)."""
    order = np.argsort(ids)
    return order[np.searchsorted(ids[order], pixels)]


def ensemble(runs: str | Path | Sequence[str | Path], *, root: str | Path | None = None,
             batch_size: int = 1024, progress: bool = False,
             svm_weight: float = 0.0) -> dict[str, Any]:
    """Score every seed of finished runs on their common split, alone and as an ensemble.

    Parameters
    ----------
    runs : path-like or sequence of path-like
        Finished hsi run folders (with checkpoints) of one scene; every seed of every run is a
        member, and all must share one split (train, validation and test pixels), e.g. the
        seeds of a run trained with ``split_seed``.
        A member of a run trained with ``svm_weight`` brings its own SVM mix, as its run
        scored it.
    root : path-like, optional
        Data root for registered scenes (default ``$SPECTRANET_DATA``).
    batch_size : int >= 1, default 1024
        Patches per forward pass.
    progress : bool, default False
    svm_weight : float in [0, 1], default 0
        Above 0, a spectral SVM (:mod:`spectranet.hsi.spectral_svm`) is fitted on the split's
        training pixels and ``mixed`` scores ``(1 - svm_weight) * CNN mean + svm_weight *
        SVM`` probabilities (not in the paper; choose the weight on validation).

    Returns
    -------
    dict
        ``members``: per member ``run``, ``seed`` and, per set (``val``, ``test``; ``test``
        alone for runs trained with ``validation="none"``), its metrics; ``ensemble``: per
        set, the metrics of the mean probabilities; with ``svm_weight``, ``svm`` and ``mixed``
        likewise for the SVM alone and the mix; ``split_sizes``: pixels per set;
        ``n_members``.

    Raises
    ------
    DataError
        Runs of different data, or members whose splits differ.
    DataNotFoundError
        A run folder, a checkpoint or a seed's ``split.json`` is missing.
    """
    check_share("svm_weight", svm_weight)
    paths = [Path(runs)] if isinstance(runs, (str, Path)) else [Path(r) for r in runs]
    if not paths:
        raise DataError("ensemble needs at least one run folder, got none")
    stored = [read_run(p, expect="hsi")[0] for p in paths]
    prints = {s["data_fingerprint"] for s in stored}
    if len(prints) > 1:
        raise DataError(f"{', '.join(map(str, paths))}: the runs were trained on different data")
    config, scene = run_scene(paths[0], root)
    labels = scene.labels.ravel()
    reference: dict[str, np.ndarray] = {}

    def score(saved: SavedModel) -> dict[str, Any]:
        file = saved.path.parent / "split.json"
        split = {k: np.asarray(v, dtype=np.int64) for k, v in read_split(file).items()
                 if k in ("train", *SETS)}
        if not reference:
            reference.update(split)
        elif any(not np.array_equal(split[k], reference[k]) for k in reference):
            raise DataError(f"{file}: not the split of the first member; ensemble members "
                            "must share one split (train them with --split-seed)")
        pixels = np.concatenate([split[k] for k in SETS])
        predictor = HSIPredictor.from_saved(saved)
        probs, ids = predictor.proba_pixels(scene.cube, pixels, batch_size=batch_size,
                                            progress=progress)
        probs = probs[_rows_of(pixels, ids)]
        cuts = np.cumsum([len(split[k]) for k in SETS])[:-1]
        return {"run": str(saved.path.parent.parent), "seed": predictor.seed,
                "probabilities": dict(zip(SETS, np.split(probs, cuts), strict=True))}

    members = [m for p in paths for m in rescore(p, domain="hsi", build=network_from_state,
                                                 score=score, pattern="seed_*/checkpoint.pt")]
    n_classes = len(scene.class_names)
    sets = [k for k in SETS if len(reference[k])]  # runs with --validation none have no val
    scored = {k: score_ensemble([m["probabilities"][k] for m in members],
                                labels[reference[k]], n_classes=n_classes) for k in sets}
    mixed: dict[str, Any] = {}
    if svm_weight > 0:
        svm = SVMMix.fit(scene.cube, scene.labels, reference["train"], weight=svm_weight)
        mixed = {"svm": {}, "mixed": {}}
        for k in sets:
            p = svm.pixel_proba(scene.cube, reference[k], n_classes)
            mix = svm.combine(scored[k]["probabilities"], p)
            for name, q in (("svm", p), ("mixed", mix)):
                mixed[name][k] = classification_metrics(labels[reference[k]], q.argmax(1),
                                                        n_classes=n_classes)
    return mixed | {
        "n_members": len(members),
        "members": [{"run": m["run"], "seed": m["seed"]}
                    | {k: scored[k]["members"][i] for k in sets}
                    for i, m in enumerate(members)],
        "ensemble": {k: scored[k]["ensemble"] for k in sets},
        "split_sizes": {k: int(len(reference[k])) for k in ("train", *SETS)},
    }
