"""A trained sound model as one object that answers: :class:`SoundPredictor`.

It holds everything a trained model needs to turn log-mel windows into class probabilities: the
feature settings (:class:`~spectranet.audio.features.FeatureSettings`, log-mel + delta), the
fitted :class:`~spectranet.audio.scaling.Standardizer`, the network (its layer spec, options
and precision), the class ids and names, the clip aggregation ("mean" or "vote") and the
optional MFCC random forest fused into the clip probabilities
(:class:`~spectranet.audio.fusion.BaselineMix` and its weight). The run pipeline's test and
validation scores, ``evaluate``, ``predict``, the estimator and the export all ask it;
:meth:`SoundPredictor.to_state` is the metadata a checkpoint stores beside the weights, and no
other module reads that metadata.

The answer in steps (:meth:`SoundPredictor.scores`): window probabilities (float32) -> the
clip's aggregation of them (float64) -> with a forest, the mix
``(1 - weight) * network + weight * forest`` (:func:`~spectranet.audio.fusion.mix_proba`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from spectranet.audio.baseline import clip_mfcc_features
from spectranet.audio.features import FeatureSettings, clip_features
from spectranet.audio.fusion import BaselineMix, mix_proba
from spectranet.audio.models import build_model
from spectranet.audio.protocol import aggregate_clips
from spectranet.audio.scaling import Standardizer
from spectranet.engine.batches import ArrayBatches
from spectranet.engine.run import SavedModel
from spectranet.engine.runs import read_json
from spectranet.engine.scoring import predict_proba
from spectranet.errors import ConfigError, DataError, DataNotFoundError

__all__ = ["SoundPredictor", "SoundScores", "network_from_state"]

#: Windows per forward pass when scoring (the runs have always scored so).
EVAL_BATCH = 256

#: The forest's input for :meth:`SoundPredictor.scores`: the clips' MFCC statistics (C, 275),
#: a function of the clip ids giving them, or None.
MFCCInput = Callable[[np.ndarray], np.ndarray] | np.ndarray | None


def network_from_state(state: dict[str, Any]) -> nn.Module:
    """The untrained network a checkpoint's metadata describes (the run layer's ``build``)."""
    return build_model(state["arch"], len(state["class_names"]), **state["model_options"])


@dataclass(frozen=True)
class SoundScores:
    """What a :class:`SoundPredictor` gives at each step for some windows.

    Attributes
    ----------
    window_proba : float32 ndarray, shape (N, K)
        The network's probabilities of each window.
    window_ids : int64 ndarray, shape (N,)
        The clip of each window.
    clip_ids : int64 ndarray, shape (C,)
        The clips, ascending.
    network_proba : float64 ndarray, shape (C, K)
        The aggregation ("mean" or "vote") of each clip's window probabilities.
    forest_proba : float64 ndarray, shape (C, K), or None
        The MFCC forest's probabilities of each clip (None without a forest).
    proba : float ndarray, shape (C, K)
        The answer: ``network_proba``, or its mix with ``forest_proba``.
    """

    window_proba: np.ndarray
    window_ids: np.ndarray
    clip_ids: np.ndarray
    network_proba: np.ndarray
    forest_proba: np.ndarray | None
    proba: np.ndarray


@dataclass(frozen=True)
class SoundPredictor:
    """A trained sound model: features, scaler, network, classes, aggregation, optional forest.

    Attributes
    ----------
    model : torch.nn.Module
        Maps standardised windows ``(N, 2, n_mels, frames)`` float32 to logits ``(N, K)``.
    arch : str
        Its name or layer spec (:func:`~spectranet.audio.models.build_model`).
    model_options : dict
        Its :func:`~spectranet.audio.models.build_model` keyword arguments.
    features : FeatureSettings
        How a waveform becomes windows (sample rate in Hz, FFT, mel bands, frames, overlap).
    standardizer : Standardizer
        Fitted on the training windows; per channel and mel band.
    class_ids : tuple of int
        The dataset's label id of each class index 0..K-1.
    class_names : tuple of str
        K names.
    aggregate : {"mean", "vote"}
        How a clip's window probabilities make its score
        (:func:`~spectranet.audio.protocol.aggregate_clips`).
    precision : {"fp32", "bf16"}
        Resolved precision of the network's forward passes.
    seed : int
        The training seed.
    fold : int or None, default None
        The round's test fold (None outside a run, e.g. the estimator's).
    forest : BaselineMix or None, default None
        The MFCC random forest fused into the clip probabilities, or None (the network alone).
    forest_weight : float in [0, 1] or None, default None
        The forest's share of the mix; set exactly when ``forest`` is.
    """

    model: nn.Module
    arch: str
    model_options: dict[str, Any]
    features: FeatureSettings
    standardizer: Standardizer
    class_ids: tuple[int, ...]
    class_names: tuple[str, ...]
    aggregate: str
    precision: str
    seed: int
    fold: int | None = None
    forest: BaselineMix | None = None
    forest_weight: float | None = None

    def __post_init__(self) -> None:
        if self.aggregate not in ("mean", "vote"):
            raise ConfigError(f"aggregate must be one of 'mean', 'vote', got {self.aggregate!r}")
        if (self.forest is None) != (self.forest_weight is None):
            raise ConfigError("forest and forest_weight go together: give both or neither, got "
                              f"forest_weight={self.forest_weight!r}")

    @property
    def n_classes(self) -> int:
        """K."""
        return len(self.class_names)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """One window of the network: ``(2, n_mels, frames)`` (log-mel and its delta)."""
        return (2, self.features.n_mels, self.features.frames)

    def with_forest(self, forest: BaselineMix | None,
                    weight: float | None = None) -> SoundPredictor:
        """The same model with another forest and weight (None: the network alone)."""
        weight = None if forest is None or weight is None else float(weight)
        return dataclasses.replace(self, forest=forest, forest_weight=weight)

    def windows(self, y: np.ndarray) -> np.ndarray:
        """Windows (n, 2, n_mels, frames) of a waveform at ``features.sr`` Hz, unstandardised."""
        return clip_features(y, settings=self.features)

    def forest_features(self, y: np.ndarray) -> np.ndarray:
        """What the forest reads of a waveform at ``features.sr`` Hz: MFCC statistics (275,)."""
        return clip_mfcc_features(y, sr=self.features.sr)

    def window_proba(self, x: np.ndarray, clip_ids: np.ndarray | None = None, *,
                     indices: np.ndarray | None = None, batch_size: int = EVAL_BATCH,
                     device: str | torch.device = "cpu",
                     progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """The network's probabilities of some windows, standardised first.

        Parameters
        ----------
        x : float32 ndarray, shape (n, 2, n_mels, frames)
            Windows before standardisation (:meth:`windows`, or a run's feature table).
        clip_ids : int ndarray, shape (n,), optional
            The clip of each row of ``x``; default: all one clip, id 0.
        indices : int ndarray, optional
            The rows of ``x`` to score (default: all); only they are read.
        batch_size : int >= 1, default 256
            Windows per forward pass.
        device : str or torch.device, default "cpu"
            The network is moved there.
        progress : bool, default False

        Returns
        -------
        probabilities : float32 ndarray, shape (N, K)
        ids : int64 ndarray, shape (N,)
            The clip of each row, in the order scored.

        Raises
        ------
        DataError
            Windows of another shape than :attr:`input_shape`.
        """
        if x.ndim != 4 or tuple(x.shape[1:]) != self.input_shape:
            raise DataError(f"windows must have shape (n, {', '.join(map(str, self.input_shape))})"
                            f", got {x.shape}")
        ids = np.zeros(len(x), np.int64) if clip_ids is None else clip_ids
        scaler = self.standardizer
        loader = ArrayBatches(x, np.zeros(len(x), np.int64), ids, indices=indices,
                              batch_size=batch_size,
                              transform=lambda xb, _rng: scaler.transform(xb))
        self.model.to(device)
        return predict_proba(self.model, loader, device=device, precision=self.precision,
                             progress=progress)

    def clip_proba(self, window_proba: np.ndarray,
                   window_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The aggregation of each clip's window probabilities: (clip ids, float64 (C, K))."""
        return aggregate_clips(window_proba, window_ids, method=self.aggregate)  # type: ignore[arg-type]

    def forest_proba(self, mfcc: np.ndarray) -> np.ndarray:
        """The forest's probabilities of clips from their MFCC statistics (C, 275): (C, K).

        Raises
        ------
        DataError
            The model has no forest.
        """
        return self._forest().proba(mfcc, self.n_classes)

    def mix(self, network_proba: np.ndarray, forest_proba: np.ndarray) -> np.ndarray:
        """The fused clip probabilities, float64 (C, K).

        The network's clip probabilities enter the mix rounded to float32, as the runs have
        always kept (``predictions.npz``'s ``cnn_probs``) and mixed them.
        """
        self._forest()
        return mix_proba(np.asarray(network_proba, np.float32), forest_proba,
                         self.forest_weight)  # type: ignore[arg-type]

    def fuse(self, scores: SoundScores, forest_proba: np.ndarray) -> SoundScores:
        """``scores`` with the forest's clip probabilities mixed in."""
        return dataclasses.replace(scores, forest_proba=forest_proba,
                                   proba=self.mix(scores.network_proba, forest_proba))

    def scores(self, x: np.ndarray, clip_ids: np.ndarray | None = None, *,
               indices: np.ndarray | None = None, mfcc: MFCCInput = None,
               batch_size: int = EVAL_BATCH, device: str | torch.device = "cpu",
               progress: bool = False) -> SoundScores:
        """Every step of the answer for some windows: windows, clips, and the forest if any.

        Arguments as :meth:`window_proba`, and:

        Parameters
        ----------
        mfcc : ndarray, shape (C, 275), or callable, optional
            The MFCC statistics of the clips scored, in ascending clip id order, or
            ``mfcc(clip_ids) -> ndarray`` giving them; needed (and only read) when the model
            has a forest.

        Returns
        -------
        SoundScores

        Raises
        ------
        DataError
            A forest without ``mfcc``, or windows of another shape.
        """
        probs, ids = self.window_proba(x, clip_ids, indices=indices, batch_size=batch_size,
                                       device=device, progress=progress)
        clips, network = self.clip_proba(probs, ids)
        scores = SoundScores(probs, ids, clips, network, None, network)
        if self.forest is None:
            return scores
        if mfcc is None:
            raise DataError("this model fuses the MFCC random forest: pass mfcc, the MFCC "
                            "statistics of each clip")
        rows = mfcc(clips) if callable(mfcc) else mfcc
        return self.fuse(scores, self.forest_proba(rows))

    def proba(self, x: np.ndarray, clip_ids: np.ndarray | None = None, *,
              indices: np.ndarray | None = None, mfcc: MFCCInput = None,
              batch_size: int = EVAL_BATCH, device: str | torch.device = "cpu",
              progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Class probabilities of clips: their windows' aggregation, then the forest mix if any.

        Arguments as :meth:`scores`.

        Returns
        -------
        probabilities : ndarray, shape (C, K)
            float64: the aggregation, or the mix with the forest.
        clip_ids : int64 ndarray, shape (C,)
            Ascending.
        """
        scores = self.scores(x, clip_ids, indices=indices, mfcc=mfcc, batch_size=batch_size,
                             device=device, progress=progress)
        return scores.proba, scores.clip_ids

    def to_state(self) -> dict[str, Any]:
        """The checkpoint's metadata: plain data and tensors (a ``weights_only`` load)."""
        fusion = None
        if self.forest is not None:
            fusion = {"weight": self.forest_weight} | self.forest.to_state()
        return {
            "domain": "audio",
            "arch": self.arch,
            "model_options": dict(self.model_options),
            "class_names": list(self.class_names),
            "class_ids": [int(c) for c in self.class_ids],
            "features": self.features.to_dict(),
            "standardizer": self.standardizer.to_dict(),
            "aggregate": self.aggregate,
            "precision": self.precision,
            "fold": self.fold,
            "seed": self.seed,
            "fusion": fusion,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any],
                   model_builder: Callable[[dict[str, Any]], nn.Module] = network_from_state
                   ) -> SoundPredictor:
        """The predictor of a checkpoint's metadata (:meth:`to_state`, or the earlier format).

        Parameters
        ----------
        state : dict
            The metadata. Checkpoints written before the predictor have no ``fusion``: they
            load without a forest (:meth:`from_saved` finds theirs in the unit's folder).
        model_builder : callable, default :func:`network_from_state`
            ``model_builder(state)`` gives the network (e.g. one whose trained weights are
            already loaded); the default builds it untrained.
        """
        fusion = state.get("fusion")
        fold = state.get("fold")
        return cls(
            model=model_builder(state),
            arch=str(state["arch"]),
            model_options=dict(state["model_options"]),
            features=FeatureSettings(**state["features"]),
            standardizer=Standardizer.from_dict(state["standardizer"]),
            class_ids=tuple(int(c) for c in state["class_ids"]),
            class_names=tuple(str(n) for n in state["class_names"]),
            aggregate=str(state["aggregate"]),
            precision=str(state["precision"]),
            seed=int(state["seed"]),
            fold=None if fold is None else int(fold),
            forest=None if fusion is None else BaselineMix.from_state(fusion),
            forest_weight=None if fusion is None else float(fusion["weight"]),
        )

    @classmethod
    def from_saved(cls, saved: SavedModel) -> SoundPredictor:
        """The predictor of a run's unit (:func:`~spectranet.engine.run.rescore` gives each).

        A unit written before the predictor kept its forest beside the checkpoint
        (``baseline_mix.npz``) and its weight in the unit's ``metrics.json``
        (``fusion.weight``); they are read from there.

        Raises
        ------
        DataNotFoundError
            Such a unit's ``metrics.json`` is missing (the unit did not finish).
        """
        predictor = cls.from_state(saved.metadata, lambda _: saved.model)
        folder = saved.path.parent
        if "fusion" in saved.metadata or not (folder / "baseline_mix.npz").is_file():
            return predictor
        metrics = folder / "metrics.json"
        if not metrics.is_file():
            raise DataNotFoundError(f"{metrics}: missing; it records the weight of the forest "
                                    "in baseline_mix.npz beside it (the unit did not finish)")
        return predictor.with_forest(BaselineMix.load(folder / "baseline_mix.npz"),
                                     float(read_json(metrics)["fusion"]["weight"]))

    def export_fields(self) -> dict[str, Any]:
        """What an exported network's sidecar says of the model (``spectranet export``).

        The network's input is the window of :attr:`input_shape`; the sidecar gives the feature
        settings and the standardisation as plain numbers and, with a forest, its weight (the
        forest itself is not exported).
        """
        scaler = self.standardizer.to_dict()
        fields: dict[str, Any] = {
            "layout": "(batch, channel, mel band, frame): channel 0 the log-mel spectrogram in "
                      "dB, channel 1 its delta, both standardised per channel and band",
            "class_names": list(self.class_names),
            "class_ids": [int(c) for c in self.class_ids],
            "model": {"arch": self.arch, **self.model_options},
            "fold": self.fold,
            "seed": self.seed,
            "preprocessing": self.features.export_fields() | {
                "standardize": "x = (window - mean[:, :, None]) / std[:, :, None]",
                "mean": scaler["mean"],
                "std": scaler["scale"],
                "aggregate": self.aggregate,
                "aggregate_rule": "a clip's score: the mean of its windows' softmax "
                                  "probabilities ('mean'), or their majority vote ('vote')",
            },
        }
        if self.forest is not None:
            fields["fusion"] = {
                "weight": self.forest_weight, "exported": False,
                "note": "the run classifies a clip by (1 - weight) * its aggregated CNN "
                        "probabilities + weight * the probabilities of an MFCC random forest "
                        "fitted on its training clips; the forest is not in this file, so the "
                        "file's argmax is the CNN's alone and can differ from the run's test "
                        "scores (spectranet audio predict applies both)"}
        return fields

    def _forest(self) -> BaselineMix:
        if self.forest is None:
            raise DataError("this model has no MFCC random forest (trained without "
                            "baseline_weight)")
        return self.forest
