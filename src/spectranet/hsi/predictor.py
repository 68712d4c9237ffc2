"""A trained hyperspectral model as one object that answers: :class:`HSIPredictor`.

It holds everything a trained model needs to turn a cube into class probabilities: the fitted
:class:`~spectranet.hsi.reduce.SpectralReducer`, the network (its window and precision), the
class ids, names and palette, and the optional spectral SVM mixed into the network's
probabilities (:class:`~spectranet.hsi.spectral_svm.SVMMix`). The run pipeline, ``evaluate``,
``predict``, the ensemble, the estimator and the export all ask it; :meth:`HSIPredictor.to_state`
is the metadata a checkpoint stores beside the weights, and no other module reads that metadata.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from spectranet.engine.run import SavedModel
from spectranet.engine.scoring import predict_proba
from spectranet.errors import DataError
from spectranet.hsi.maps import predict_map
from spectranet.hsi.models import build_model, count_parameters
from spectranet.hsi.patches import PatchBatches, PatchDataset
from spectranet.hsi.reduce import SpectralReducer
from spectranet.hsi.spectral_svm import SVMMix

__all__ = ["HSIPredictor", "network_from_state", "palette_of"]


def network_from_state(state: dict[str, Any]) -> nn.Module:
    """The untrained network a checkpoint's metadata describes (the run layer's ``build``)."""
    return build_model(state["model"], **state["model_kwargs"])


@dataclass(frozen=True)
class HSIPredictor:
    """A trained hyperspectral model: reducer, network, classes and the optional SVM mix.

    Attributes
    ----------
    model : torch.nn.Module
        Maps patches ``(N, 1, bands, window, window)`` float32 to logits ``(N, K)``.
    model_name : str
        Its name in :data:`~spectranet.hsi.models.MODELS`.
    model_kwargs : dict
        Its :func:`~spectranet.hsi.models.build_model` arguments (``bands``, ``window`` in
        pixels, ``n_classes``, ...).
    reducer : SpectralReducer
        Fitted; turns a cube as read (H, W, ``input_bands``) into the network's bands.
    class_ids : tuple of int
        The scene's label id of each class index 0..K-1.
    class_names : tuple of str
        K names.
    palette : tuple of (int, int, int)
        One 0-255 RGB colour per class (empty when none was given).
    input_bands : int
        Bands of the cubes it reads.
    precision : {"fp32", "bf16"}
        Resolved precision of the network's forward passes.
    seed : int
        The training seed.
    svm_mix : SVMMix or None, default None
        The spectral SVM mixed into the network's probabilities, or None (the network alone).
    """

    model: nn.Module
    model_name: str
    model_kwargs: dict[str, Any]
    reducer: SpectralReducer
    class_ids: tuple[int, ...]
    class_names: tuple[str, ...]
    palette: tuple[tuple[int, int, int], ...]
    input_bands: int
    precision: str
    seed: int
    svm_mix: SVMMix | None = None

    @property
    def window(self) -> int:
        """The network's patch side, pixels."""
        return int(self.model_kwargs["window"])

    @property
    def n_classes(self) -> int:
        """K."""
        return len(self.class_ids)

    @property
    def input_shape(self) -> tuple[int, int, int, int]:
        """One sample of the network: ``(1, bands, window, window)``."""
        return (1, int(self.model_kwargs["bands"]), self.window, self.window)

    def with_svm_mix(self, svm_mix: SVMMix | None) -> HSIPredictor:
        """The same model with another spectral SVM mix (None: the network alone)."""
        return dataclasses.replace(self, svm_mix=svm_mix)

    def check_bands(self, cube: np.ndarray, source: str = "cube") -> None:
        """Refuse a cube (H, W, bands) whose band count is not the training cube's.

        Raises
        ------
        DataError
            Named after ``source`` (the file, or "cube").
        """
        if cube.ndim != 3 or cube.shape[2] != self.input_bands:
            got = cube.shape[2] if cube.ndim == 3 else f"shape {cube.shape}"
            raise DataError(f"{source}: expected {self.input_bands} bands, got {got}")

    def cnn_proba_pixels(self, cube: np.ndarray, pixels: np.ndarray, *,
                         reduced: np.ndarray | None = None, batch_size: int = 1024,
                         device: str | torch.device = "cpu",
                         progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """The network's class probabilities of some pixels, without the SVM.

        Parameters
        ----------
        cube : ndarray, shape (H, W, input_bands)
            The scene as read.
        pixels : int ndarray, shape (N,)
            Flat pixel indices ``r * W + c``.
        reduced : ndarray, shape (H, W, bands), optional
            ``reducer.transform(cube)`` when already computed (saves computing it again).
        batch_size : int >= 1, default 1024
            Patches per forward pass.
        device : str or torch.device, default "cpu"
        progress : bool, default False

        Returns
        -------
        probabilities : float32 ndarray, shape (N, K)
        ids : int64 ndarray, shape (N,)
            The pixels scored, in the order of the rows.
        """
        reduced = self.reducer.transform(cube) if reduced is None else reduced
        patches = PatchDataset(reduced, None, pixels, window=self.window)
        return predict_proba(self.model, PatchBatches(patches, batch_size), device=device,
                             precision=self.precision, progress=progress)

    def svm_proba_pixels(self, cube: np.ndarray, pixels: np.ndarray) -> np.ndarray:
        """The spectral SVM's class probabilities of some pixels of ``cube``, float64 (N, K).

        Raises
        ------
        DataError
            The model has no SVM mix.
        """
        return self._svm().pixel_proba(cube, pixels, self.n_classes)

    def mix(self, cnn_proba: np.ndarray, svm_proba: np.ndarray) -> np.ndarray:
        """The mixed probabilities of the network's and the SVM's (of one shape, (..., K))."""
        return self._svm().combine(cnn_proba, svm_proba)

    def proba_pixels(self, cube: np.ndarray, pixels: np.ndarray, *,
                     reduced: np.ndarray | None = None, batch_size: int = 1024,
                     device: str | torch.device = "cpu",
                     progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Class probabilities of some pixels: the network's, then the SVM mix if any.

        Arguments as :meth:`cnn_proba_pixels`; the probabilities are float32, float64 when
        mixed with a spectral SVM.
        """
        probs, ids = self.cnn_proba_pixels(cube, pixels, reduced=reduced, batch_size=batch_size,
                                           device=device, progress=progress)
        if self.svm_mix is not None:
            probs = self.svm_mix.mix_pixels(probs, cube, ids)
        return probs, ids

    def proba_map(self, cube: np.ndarray, *, reduced: np.ndarray | None = None,
                  batch_size: int = 1024, device: str | torch.device = "cpu",
                  progress: bool = False) -> np.ndarray:
        """Class probabilities of every pixel of ``cube`` (border pixels included).

        Arguments as :meth:`cnn_proba_pixels` (:func:`~spectranet.hsi.maps.predict_map`
        scores the patches).

        Returns
        -------
        ndarray, shape (H, W, K)
            float32, float64 when mixed with a spectral SVM; ``argmax(-1)`` is the class map.
        """
        reduced = self.reducer.transform(cube) if reduced is None else reduced
        _, proba = predict_map(self.model, reduced, window=self.window, batch_size=batch_size,
                               device=device, precision=self.precision, progress=progress,
                               return_proba=True)
        return proba if self.svm_mix is None else self.svm_mix.mix_map(proba, cube)

    def to_state(self) -> dict[str, Any]:
        """The checkpoint's metadata: plain data and tensors (a ``weights_only`` load)."""
        return {
            "domain": "hsi",
            "model": self.model_name,
            "model_kwargs": dict(self.model_kwargs),
            "parameters": count_parameters(self.model),
            "class_ids": [int(c) for c in self.class_ids],
            "class_names": list(self.class_names),
            "palette": [list(map(int, c)) for c in self.palette],
            "input_bands": int(self.input_bands),
            "reducer": self.reducer.to_state(),
            "precision": self.precision,
            "seed": self.seed,
            "svm_mix": None if self.svm_mix is None else self.svm_mix.to_state(),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any],
                   model_builder: Callable[[dict[str, Any]], nn.Module] = network_from_state
                   ) -> HSIPredictor:
        """The predictor of a checkpoint's metadata (:meth:`to_state`, or earlier formats).

        Parameters
        ----------
        state : dict
            The metadata; checkpoints written before ``svm_weight`` existed have no
            ``svm_mix`` and load without one.
        model_builder : callable, default :func:`network_from_state`
            ``model_builder(state)`` gives the network (e.g. one whose trained weights are
            already loaded); the default builds it untrained.
        """
        svm = state.get("svm_mix")
        return cls(
            model=model_builder(state),
            model_name=str(state["model"]),
            model_kwargs=dict(state["model_kwargs"]),
            reducer=SpectralReducer.from_state(state["reducer"]),
            class_ids=tuple(int(c) for c in state["class_ids"]),
            class_names=tuple(str(n) for n in state["class_names"]),
            palette=palette_of(state["palette"]),
            input_bands=int(state["input_bands"]),
            precision=str(state["precision"]),
            seed=int(state["seed"]),
            svm_mix=None if svm is None else SVMMix.from_state(svm),
        )

    @classmethod
    def from_saved(cls, saved: SavedModel) -> HSIPredictor:
        """The predictor of a run's unit (:func:`~spectranet.engine.run.rescore` gives each)."""
        return cls.from_state(saved.metadata, lambda _: saved.model)

    def export_fields(self, scene: str | None = None) -> dict[str, Any]:
        """What an exported network's sidecar says of the model (``spectranet export``).

        ``scene`` is the run's scene name, if any. The network's input is the patch of
        :attr:`input_shape`; the sidecar gives the reduction as plain numbers
        (:meth:`SpectralReducer.affine`) and, with an SVM mix, its weight (the SVM itself is
        not exported).
        """
        fields: dict[str, Any] = {
            "layout": "(batch, 1, component, row, column): the window x window neighbourhood of "
                      "a pixel, centred on it, in the reduced cube",
            "class_names": list(self.class_names),
            "class_ids": [int(c) for c in self.class_ids],
            "model": {"name": self.model_name, **self.model_kwargs},
            "scene": scene,
            "seed": self.seed,
            "preprocessing": self.reducer.affine() | {
                "components": int(self.model_kwargs["bands"]),
                "window": self.window,
                "padding": "reflect",
                "patch": "pad the reduced (H, W, components) cube by window // 2 pixels on both "
                         "spatial axes with numpy.pad(mode='reflect'); pixel (r, c) gives "
                         "padded[r:r + window, c:c + window, :].transpose(2, 0, 1)[None]",
            },
        }
        if self.svm_mix is not None:
            fields["svm_mix"] = {
                "weight": self.svm_mix.weight, "exported": False,
                "note": "the run classifies a pixel by (1 - weight) * softmax(logits) + weight * "
                        "the probabilities of a spectral SVM fitted on its training pixels; the "
                        "SVM is not in this file, so the file's argmax is the CNN's alone and "
                        "can differ from the run's maps (spectranet hsi predict applies both)"}
        return fields

    def _svm(self) -> SVMMix:
        if self.svm_mix is None:
            raise DataError("this model has no spectral SVM mix (trained without svm_weight)")
        return self.svm_mix


def palette_of(colours: Sequence[Sequence[int]]) -> tuple[tuple[int, int, int], ...]:
    """Colours as 0-255 integer RGB triples (a :class:`HSIPredictor`'s ``palette``)."""
    return tuple((int(r), int(g), int(b)) for r, g, b in colours)
