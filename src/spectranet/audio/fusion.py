"""Late fusion of a sound CNN with the MFCC random forest (``baseline_weight``; not in the paper).

Each test clip is classified by ``(1 - w) * CNN + w * forest`` clip probabilities
(:func:`mix_proba`, the only place the formula is written). The forest is the baseline of
:mod:`spectranet.audio.baseline` fitted on the round's training clips; ``w`` is fixed or chosen
on the round's validation clips (:func:`choose_weight`).

:class:`BaselineMix` carries the forest through a run folder as data: the training clips' MFCC
statistics, their labels and the seed, kept as plain arrays and fitted again on load (the seeded
forest is deterministic); no fitted object is pickled. A run's checkpoint holds them
(:meth:`BaselineMix.to_state`, in the state of
:class:`~spectranet.audio.predictor.SoundPredictor`); runs written before the predictor kept them
in the unit's ``baseline_mix.npz`` (:meth:`BaselineMix.save`, :meth:`BaselineMix.load`).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from spectranet.audio.baseline import make_classifier
from spectranet.engine.runs import atomic_write_bytes
from spectranet.errors import ConfigError, DataError

__all__ = ["WEIGHTS", "BaselineMix", "choose_weight", "fuse_round", "mix_proba", "mix_scores"]

#: Weights that ``baseline_weight = "auto"`` tries: 0, 0.1, ..., 1.
WEIGHTS = tuple(k / 10 for k in range(11))


def mix_proba(cnn_proba: np.ndarray, baseline_proba: np.ndarray, weight: float) -> np.ndarray:
    """``(1 - weight) * cnn_proba + weight * baseline_proba``, float64.

    Parameters
    ----------
    cnn_proba, baseline_proba : float ndarray, shape (N, K)
        Clip probabilities of the CNN and of the baseline (rows sum to 1).
    weight : float in [0, 1]
        The baseline's share.

    Returns
    -------
    ndarray, shape (N, K), float64

    Examples
    --------
    >>> mix_proba(np.array([[0.8, 0.2]]), np.array([[0.2, 0.8]]), 0.25)
    array([[0.65, 0.35]])
    """
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 <= weight <= 1:
        raise ConfigError(f"baseline_weight must be a number in [0, 1], got {weight!r}")
    cnn = np.asarray(cnn_proba, dtype=np.float64)
    base = np.asarray(baseline_proba, dtype=np.float64)
    if cnn.ndim != 2 or cnn.shape != base.shape:
        raise DataError(f"cnn_proba and baseline_proba must be (N, K) of one shape, got "
                        f"{cnn.shape} and {base.shape}")
    return (1 - weight) * cnn + weight * base


def choose_weight(cnn_proba: np.ndarray, baseline_proba: np.ndarray, labels: np.ndarray,
                  weights: tuple[float, ...] = WEIGHTS) -> tuple[float, dict[str, float]]:
    """The weight whose mix classifies the most clips right; ties go to the smaller weight.

    Parameters
    ----------
    cnn_proba, baseline_proba : float ndarray, shape (N, K)
        Probabilities of the validation clips.
    labels : int ndarray, shape (N,)
        Their classes.
    weights : tuple of float in [0, 1], default 0, 0.1, ..., 1

    Returns
    -------
    weight : float
    accuracy : dict
        Clip accuracy of each weight tried, keyed by ``f"{weight:g}"``.

    Raises
    ------
    DataError
        No validation clip.
    """
    labels = np.asarray(labels)
    if labels.size == 0:
        raise DataError("baseline_weight 'auto' needs validation clips, got none")
    accuracy = {w: float(np.mean(mix_proba(cnn_proba, baseline_proba, w).argmax(1) == labels))
                for w in sorted(weights)}
    best = max(accuracy.values())
    chosen = next(w for w, acc in accuracy.items() if acc == best)
    return chosen, {f"{w:g}": acc for w, acc in accuracy.items()}


def mix_scores(weight: float, parts: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]
               ) -> dict[str, float]:
    """Clip accuracy of the CNN alone, the baseline alone and their mix on each set.

    ``parts`` maps a set name (``"val"``, ``"test"``) to (labels, CNN probabilities, baseline
    probabilities); the keys are ``<set>_accuracy_cnn``, ``_baseline`` and ``_mixed``.
    """
    out = {}
    for name, (labels, cnn, base) in parts.items():
        for part, proba in (("cnn", cnn), ("baseline", base),
                            ("mixed", mix_proba(cnn, base, weight))):
            out[f"{name}_accuracy_{part}"] = float(np.mean(proba.argmax(1) == labels))
    return out


def fuse_round(features: np.ndarray, labels: np.ndarray, train: np.ndarray,
               cnn: dict[str, tuple[np.ndarray, np.ndarray]], *, weight: float | str,
               seed: int) -> tuple[BaselineMix, dict[str, Any], dict[str, np.ndarray]]:
    """Fit one round's forest, settle its weight and score the CNN, the forest and the mix.

    Parameters
    ----------
    features : float ndarray, shape (n_clips, n_features)
        MFCC statistics of every clip of the dataset (rows indexed by clip id).
    labels : int ndarray, shape (n_clips,)
    train : int ndarray
        The round's training clips: the forest is fitted on them alone.
    cnn : dict
        ``"test"`` and optionally ``"val"`` -> (clip ids, the CNN's clip probabilities (N, K)).
    weight : float in [0, 1] or "auto"
        "auto": :func:`choose_weight` on the ``"val"`` clips.
    seed : int >= 0
        The forest's seed.

    Returns
    -------
    mix : BaselineMix
    fusion : dict
        ``weight``, ``rule`` ("fixed" or "auto"), ``weights_tried`` (validation clip accuracy
        per weight, None when fixed), ``seed``, ``train_clips`` and :func:`mix_scores`' keys.
    baseline_proba : dict
        The forest's probabilities on each set of ``cnn``.
    """
    mix = BaselineMix.fit(features[train], labels[train], seed=seed)
    n_classes = next(iter(cnn.values()))[1].shape[1]
    base = {name: mix.proba(features[ids], n_classes) for name, (ids, _) in cnn.items()}
    parts = {name: (labels[ids], probs, base[name]) for name, (ids, probs) in cnn.items()}
    tried = None
    if weight == "auto":
        if "val" not in parts:
            raise DataError("baseline_weight 'auto' needs validation clips, got none")
        weight, tried = choose_weight(parts["val"][1], parts["val"][2], parts["val"][0])
    fusion = {"weight": float(weight), "rule": "fixed" if tried is None else "auto",
              "weights_tried": tried, "seed": int(seed), "train_clips": int(len(train))}
    return mix, fusion | mix_scores(float(weight), parts), base


@dataclass(frozen=True)
class BaselineMix:
    """The MFCC random forest of one round, fitted on its training clips, as data and model.

    Attributes
    ----------
    features : float64 ndarray, shape (N, n_features)
        MFCC statistics of the training clips (:func:`~spectranet.audio.baseline.mfcc_features`).
    labels : int64 ndarray, shape (N,)
        Their classes 0..K-1.
    seed : int >= 0
        The forest's ``random_state``.
    model : sklearn.pipeline.Pipeline
        The fitted forest (:func:`~spectranet.audio.baseline.make_classifier` ``"rf"``).
    """

    features: np.ndarray
    labels: np.ndarray
    seed: int
    model: Any

    @classmethod
    def fit(cls, features: np.ndarray, labels: np.ndarray, *, seed: int = 0) -> BaselineMix:
        """Fit the forest on the training clips' MFCC statistics and classes."""
        x = np.asarray(features, dtype=np.float64)
        y = np.asarray(labels, dtype=np.int64)
        if x.ndim != 2 or y.shape != (x.shape[0],) or x.shape[0] == 0:
            raise DataError(f"features (N >= 1, n_features) and labels (N,) must match, got "
                            f"{x.shape} and {y.shape}")
        return cls(x, y, int(seed), make_classifier("rf", int(seed)).fit(x, y))

    def proba(self, features: np.ndarray, n_classes: int) -> np.ndarray:
        """Class probabilities of clips, float64, shape (N, ``n_classes``).

        Classes the forest never saw in training get probability 0.
        """
        out = np.zeros((len(features), n_classes))
        out[:, self.model.classes_] = self.model.predict_proba(np.asarray(features, np.float64))
        return out

    def to_state(self) -> dict[str, Any]:
        """Tensors and numbers only (a checkpoint's ``weights_only`` load accepts them)."""
        return {"seed": self.seed, "features": torch.from_numpy(self.features),
                "labels": torch.from_numpy(self.labels)}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> BaselineMix:
        """The forest of :meth:`to_state`, fitted again on the stored clips: the same model."""
        return cls.fit(state["features"].numpy(), state["labels"].numpy(),
                       seed=int(state["seed"]))

    def save(self, path: str | Path) -> Path:
        """Write ``features``, ``labels`` and ``seed`` to an ``.npz`` file, atomically."""
        buf = io.BytesIO()
        np.savez(buf, features=self.features, labels=self.labels, seed=np.int64(self.seed))
        return atomic_write_bytes(path, buf.getvalue())

    @classmethod
    def load(cls, path: str | Path) -> BaselineMix:
        """The forest of :meth:`save`, fitted again on the stored clips: the same model."""
        with np.load(path, allow_pickle=False) as saved:
            return cls.fit(saved["features"], saved["labels"], seed=int(saved["seed"]))
