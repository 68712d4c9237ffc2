"""Augmentation of training patch batches: flips and 90-degree rotations, spectral noise, shifts.

Transforms take and return a batch dict ``{"x": (N, 1, bands, S, S), "y", "id"}`` (see
:class:`spectranet.hsi.patches.PatchBatches`, ``transforms=``) and change ``x`` only. The
centre pixel of an odd window stays the centre pixel, so the label still holds. Random draws
come from ``generator`` or, by default, torch's global generator, which
:func:`spectranet.engine.training.seed_everything` seeds and training checkpoints save, so a
resumed run draws the same augmentations.

Not in Ahmad (2020): options of our ``standard`` recipe, measured in
``docs/results/indian_pines_disjoint_ablation``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from numbers import Real

import torch

from spectranet.errors import ConfigError

__all__ = ["Dihedral", "SpectralNoise", "SpectralShift", "Compose", "make_augment"]

Batch = Mapping[str, torch.Tensor]


def _check_x(batch: Batch) -> torch.Tensor:
    x = batch["x"]
    if x.ndim != 5 or x.shape[-1] != x.shape[-2]:
        raise ConfigError(f"batch['x'] must have shape (N, 1, bands, S, S), got {tuple(x.shape)}")
    return x


class Dihedral:
    """Each patch turned by a random multiple of 90 degrees, then mirrored with probability 1/2.

    The eight symmetries of the square, drawn independently and uniformly per patch: a field
    seen from the aircraft has no preferred orientation.

    Parameters
    ----------
    generator : torch.Generator, optional
        Source of the draws; default torch's global generator.

    Examples
    --------
    >>> batch = Dihedral()(batch)       # batch["x"]: (N, 1, bands, S, S), same shape
    """

    def __init__(self, *, generator: torch.Generator | None = None) -> None:
        self.generator = generator

    def __call__(self, batch: Batch) -> dict[str, torch.Tensor]:
        """Return ``batch`` with every patch of ``x`` turned and perhaps mirrored."""
        x = _check_x(batch)
        n = x.shape[0]
        turns = torch.randint(0, 4, (n,), generator=self.generator)
        mirror = torch.randint(0, 2, (n,), generator=self.generator)
        out = torch.empty_like(x)
        for k in range(4):
            for m in range(2):
                idx = torch.nonzero((turns == k) & (mirror == m)).squeeze(1)
                if idx.numel():
                    part = torch.rot90(x[idx], k, dims=(-2, -1))
                    out[idx] = part.flip(-1) if m else part
        return dict(batch, x=out)

    def __repr__(self) -> str:
        return "Dihedral()"


class SpectralNoise:
    """Gaussian noise of standard deviation ``std`` added to every value of every patch.

    Parameters
    ----------
    std : float >= 0
        In the units of the patch values (after PCA and scaling: one unit is one standard
        deviation of a component over the training pixels).
    generator : torch.Generator, optional
        Source of the draws; default torch's global generator.
    """

    def __init__(self, std: float, *, generator: torch.Generator | None = None) -> None:
        if isinstance(std, bool) or not isinstance(std, Real) or not std >= 0:
            raise ConfigError(f"std must be a number >= 0, got {std!r}")
        self.std, self.generator = float(std), generator

    def __call__(self, batch: Batch) -> dict[str, torch.Tensor]:
        """Return ``batch`` with noise added to ``x``."""
        x = _check_x(batch)
        noise = torch.randn(x.shape, generator=self.generator, dtype=x.dtype)
        return dict(batch, x=x + self.std * noise)

    def __repr__(self) -> str:
        return f"SpectralNoise(std={self.std})"


class SpectralShift:
    """Each patch's spectrum moved by a random whole number of bands, edges repeated.

    The shift ``k`` is drawn uniformly from ``-max_shift .. max_shift`` per patch; band ``b`` of
    the result is band ``clip(b - k, 0, bands - 1)`` of the input, for every pixel of the
    patch. On bands in spectral order (no PCA) this mimics a small wavelength calibration
    difference between fields or flights; on standardised bands it is an approximation
    (neighbouring bands have similar means and deviations). Meaningless after a PCA.

    Parameters
    ----------
    max_shift : int >= 0, bands
    generator : torch.Generator, optional
        Source of the draws; default torch's global generator.
    """

    def __init__(self, max_shift: int, *, generator: torch.Generator | None = None) -> None:
        if isinstance(max_shift, bool) or not isinstance(max_shift, int) or max_shift < 0:
            raise ConfigError(f"max_shift must be an integer >= 0, got {max_shift!r}")
        self.max_shift, self.generator = max_shift, generator

    def __call__(self, batch: Batch) -> dict[str, torch.Tensor]:
        """Return ``batch`` with every patch's spectrum shifted."""
        x = _check_x(batch)
        n, bands = x.shape[0], x.shape[2]
        k = torch.randint(-self.max_shift, self.max_shift + 1, (n, 1), generator=self.generator)
        source = (torch.arange(bands)[None, :] - k).clamp(0, bands - 1)
        return dict(batch, x=x.gather(2, source[:, None, :, None, None].expand_as(x)))

    def __repr__(self) -> str:
        return f"SpectralShift(max_shift={self.max_shift})"


class Compose:
    """Apply ``transforms`` in order."""

    def __init__(self, transforms: list[Callable[[Batch], dict[str, torch.Tensor]]]) -> None:
        self.transforms = list(transforms)

    def __call__(self, batch: Batch) -> dict[str, torch.Tensor]:
        """Return ``batch`` after every transform."""
        out = dict(batch)
        for t in self.transforms:
            out = t(out)
        return out

    def __repr__(self) -> str:
        return f"Compose({self.transforms!r})"


def make_augment(*, flips: bool = False, spectral_noise: float = 0.0, spectral_shift: int = 0,
                 generator: torch.Generator | None = None) -> Compose | None:
    """The training-batch transform of a configuration, or None when nothing is switched on.

    Parameters
    ----------
    flips : bool, default False
        :class:`Dihedral` (random 90-degree rotations and mirroring of each patch).
    spectral_noise : float >= 0, default 0.0
        :class:`SpectralNoise` standard deviation; 0 is off.
    spectral_shift : int >= 0, default 0
        :class:`SpectralShift` largest shift in bands; 0 is off. Applied before the noise.
    generator : torch.Generator, optional
    """
    parts: list[Callable[[Batch], dict[str, torch.Tensor]]] = []
    if flips:
        parts.append(Dihedral(generator=generator))
    if spectral_shift:
        parts.append(SpectralShift(spectral_shift, generator=generator))
    if spectral_noise:
        parts.append(SpectralNoise(spectral_noise, generator=generator))
    return Compose(parts) if parts else None
