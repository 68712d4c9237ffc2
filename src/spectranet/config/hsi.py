"""The configuration of a hyperspectral run (:class:`HSIConfig`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from spectranet.config.checks import HSI_VALIDATIONS, STEM_INITS, STEM_MODELS, check_training
from spectranet.errors import ConfigError
from spectranet.validation import (
    check_choice,
    check_fraction,
    check_positive,
    check_share,
    check_split_file,
)

__all__ = ["HSIConfig"]


def _recipe_extras(cfg: HSIConfig) -> None:
    """Validate the HSI options beyond the paper's recipe (block, split seed, augmentation...)."""
    if cfg.block is not None:
        check_positive("block", cfg.block, integer=True)
    sw = cfg.split_window
    if sw is not None and (isinstance(sw, bool) or not isinstance(sw, int) or sw % 2 == 0
                           or not isinstance(cfg.window, int) or sw < cfg.window):
        raise ConfigError(f"split_window must be an odd integer >= window ({cfg.window!r}), "
                          f"got {sw!r}")
    if not isinstance(cfg.drop_last, bool):
        raise ConfigError(f"drop_last must be true or false, got {cfg.drop_last!r}")
    if not isinstance(cfg.flips, bool):
        raise ConfigError(f"flips must be true or false, got {cfg.flips!r}")
    if not isinstance(cfg.pca, bool):
        raise ConfigError(f"pca must be true or false, got {cfg.pca!r}")
    if not isinstance(cfg.unit_norm, bool):
        raise ConfigError(f"unit_norm must be true or false, got {cfg.unit_norm!r}")
    check_choice("stem_init", cfg.stem_init, STEM_INITS)
    if cfg.stem_init == "pca" and cfg.model not in STEM_MODELS:
        raise ConfigError(f"stem_init 'pca' needs model 'fast3dcnn_stem' or "
                          f"'fast3dcnn_stem_pixel', got {cfg.model!r}")
    if cfg.split_seed is not None:
        check_positive("split_seed", cfg.split_seed, integer=True, allow_zero=True)
    check_positive("spectral_noise", cfg.spectral_noise, allow_zero=True)
    check_positive("spectral_shift", cfg.spectral_shift, integer=True, allow_zero=True)
    if cfg.spectral_shift and cfg.pca:
        raise ConfigError("spectral_shift needs bands in spectral order: use it with pca false")
    check_positive("mixup", cfg.mixup, allow_zero=True)
    if isinstance(cfg.label_smoothing, bool) or not 0 <= cfg.label_smoothing < 1:
        raise ConfigError(f"label_smoothing must be in [0, 1), got {cfg.label_smoothing!r}")
    if cfg.svm_weight != "auto":
        check_share("svm_weight", cfg.svm_weight)
    size = cfg.svm_neighbourhood
    if size != "auto" and (isinstance(size, bool) or not isinstance(size, int) or size < 1
                           or size % 2 == 0):
        raise ConfigError(f"svm_neighbourhood must be an odd integer >= 1 or 'auto', got "
                          f"{size!r}")
    st = cfg.self_training
    if isinstance(st, bool) or (st != 0 and (not isinstance(st, (int, float)) or not 0 < st < 1)):
        raise ConfigError(f"self_training must be a confidence threshold in (0, 1), or 0 for "
                          f"off, got {st!r}")
    auto = [k for k in ("svm_weight", "svm_neighbourhood") if getattr(cfg, k) == "auto"]
    if auto and cfg.validation == "none":
        raise ConfigError(f"{auto[0]} 'auto' is chosen on the validation pixels: not with "
                          "validation 'none'")


@dataclass(frozen=True)
class HSIConfig:
    """Settings of a hyperspectral run (Ahmad 2020 unless stated).

    Parameters
    ----------
    scene : str, optional
        Registered scene name (``spectranet data list``); or give ``cube`` and ``gt``.
    cube, gt : str, optional
        A user's cube (H, W, B) and label map (H, W) files (.mat, .npy, .npz, ENVI).
    class_names : path, optional
        With ``cube``: a text file naming the label map's classes, one ``<id> <name>`` per
        line or one name per line in ascending id order (see
        :func:`spectranet.hsi.datasets.read_class_names`); default ``class <id>``.
    window : odd int >= 3, pixels, default 11
        Patch side S; the paper uses 11 to 25.
    components : int >= 1 or "all", default 20
        PCA components kept (paper: 20); "all": as many as the cube has bands (with
        ``pca=False``, every band), resolved when the cube is read.
    protocol : {"paper", "disjoint"}, default "paper"
        ``paper``: stratified random split, PCA on the whole cube; ``disjoint``: spatially
        disjoint regions, PCA and scaling fitted on training pixels only.
    test_size : fraction, default 0.3
        Share of labelled pixels for testing.
    val_fraction : fraction, default 0.5
        Share of the non-test pixels used for validation (paper: the 70 % are halved); with a
        ``split_file`` that has no validation map, share of each class's training pixels.
    train_per_class : int or float, optional
        Fixed number (int >= 1) or fraction (float in (0, 1)) of training pixels per class
        instead of the paper split; the validation set then takes as many, the rest is test.
    split_file : path or list of two paths, optional
        A fixed split instead of ``protocol``'s: train / test label maps of the scene's size,
        the scene's class ids, 0 = not in this set (see :mod:`spectranet.hsi.split_files` for
        the formats); without a validation map, ``val_fraction`` of each class's training
        pixels validate, drawn per seed.
    validation : {"split", "monitor", "none"}, default "split"
        "split": the split's validation pixels score every epoch and the best epoch is kept;
        "monitor": they score every epoch (the curve) but the last epoch is kept, no early
        stopping (not in the paper); "none": they train too (the same split and test pixels)
        and the last epoch is kept, a fixed number of epochs that must have been chosen on
        validation beforehand (not in the paper).
    split_buffer : bool, default False
        With ``split_file``: drop the training and validation pixels whose patch
        (``window x window``) contains a test pixel, so that the split is leakage-free.
    model : str, default "fast3dcnn"
    dropout : float in [0, 1), optional
        Default None: the model's own default (0.4 for the fast 3D CNN, which the paper does
        not give: our assumption). Only for models that have dropout.
    optimizer, lr, batch_size, epochs, weight_decay
        Paper: Adam, 0.001, 256, 50, 0.
    drop_last : bool, default False
        Drop each training epoch's last, incomplete batch (a different remainder every epoch,
        the order being reshuffled), so that no optimiser step rests on a handful of patches;
        e.g. 1025 training pixels in batches of 256 leave one (not in the paper).
    steps : int >= 1, optional
        Optimisation steps (batches) to train instead of ``epochs``: each seed trains
        ``ceil(steps / batches per epoch)`` epochs (see
        :func:`spectranet.engine.optim.training_epochs`), so that a small training share trains
        as long as a large one; default None, ``epochs`` as given (not in the paper).
    scheduler : {"none", "cosine", "onecycle"}, default "none"
        Learning-rate schedule per epoch (see :func:`spectranet.engine.optim.make_scheduler`);
        the paper uses none.
    class_weight : {"none", "balanced"}, default "none"
        "balanced" weights the training loss by inverse class frequency in the training set
        (not in the paper; see :func:`spectranet.engine.optim.make_loss`).
    precision : {"auto", "fp32", "bf16"}, default "auto"
        "auto" picks bf16 autocast on CPUs with native bfloat16 support, else fp32.
    seeds : list of int, default [0]
        Each seed draws its own split and its own model initialisation and batch order.
    split_seed : int >= 0, optional
        Draw the split (regions, random split, or a split file's validation pixels) with this
        seed for every seed of the run, which then only seeds the model's initialisation and
        the batch order (e.g. an ensemble of models on one split). Default None: each seed
        draws its own split, as it always did (not in the paper).
    block : int, stripes, optional
        ``disjoint`` protocol: cut each class's stripes into blocks of ``block`` to
        ``2 * block`` stripes, each cut into test, training and validation parts (see
        :func:`spectranet.hsi.disjoint.disjoint_split`); default None, one block per class.
    split_window : odd int >= window, pixels, optional
        ``disjoint`` protocol: the window the split's buffers are sized for (default
        ``window``), so that models of different windows are tested on the same regions.
    flips : bool, default False
        Random 90-degree rotations and mirroring of training patches (not in the paper).
    pca : bool, default True
        False: no PCA, the model gets every band standardised (``components`` must then be
        "all" or the cube's bands), e.g. for ``fast3dcnn_stem`` (not in the paper).
    unit_norm : bool, default False
        Divide each pixel's spectrum by its L2 norm before the PCA and scaling (removes its
        brightness; see :class:`spectranet.hsi.reduce.SpectralReducer`; not in the paper).
    stem_init : {"random", "pca"}, default "random"
        ``fast3dcnn_stem`` only: "pca" starts the stem as the whitened PCA of the training
        pixels' spectra (see :func:`spectranet.hsi.stem_init.init_stem_pca`; not in the paper).
    spectral_noise : float >= 0, default 0.0
        Gaussian noise added to training patches, in units of the scaled components.
    spectral_shift : int >= 0, bands, default 0
        Training patches' spectra moved by up to this many bands (``pca=False`` only; see
        :class:`spectranet.hsi.augment.SpectralShift`; not in the paper).
    label_smoothing : float in [0, 1), default 0.0
        Label smoothing of the training loss (not in the paper).
    mixup : float >= 0, default 0.0
        Mixup of training batches with Beta(mixup, mixup) weights; 0 is off (not in the paper).
    svm_weight : float in [0, 1] or "auto", default 0.0
        Above 0, a spectral SVM (:class:`spectranet.hsi.spectral_svm.SVMMix`) is fitted on the
        training pixels and each pixel is classified by ``(1 - svm_weight) * CNN + svm_weight
        * SVM`` probabilities: test metrics, maps, ``evaluate`` and ``predict``. The
        validation curve is the CNN's (not in the paper).
        "auto": the weight in 0, 0.1, ..., 1 whose mix scores best on the validation pixels
        with the trained CNN (see :func:`spectranet.hsi.spectral_svm.choose_weight`).
    svm_neighbourhood : odd int >= 1 or "auto", default 1
        The SVM sees each pixel's mean spectrum over this window (pixels per side; 1 = the
        pixel alone); "auto": the window in 1, 3, 5, 7 whose SVM scores best on the validation
        pixels (see :func:`spectranet.hsi.spectral_svm.choose_neighbourhood`; not in the paper).
    self_training : float in (0, 1), or 0, default 0 (off)
        One round of self-training: each seed's trained model (with its SVM mix, if any)
        classifies the seed's unlabelled pool (labelled pixels in none of its training,
        validation and test sets, e.g. the disjoint protocol's buffers; their labels are never
        read for training), the pool pixels whose top probability is at least this threshold
        take their top class as a pseudo-label, and a fresh model of the same recipe and seed
        trains as many optimisation steps on the training and pseudo-labelled pixels; the SVM
        still fits on the training pixels only. Under a leakage-free split only the pool pixels
        whose patch holds no test or validation pixel are labelled (see
        :mod:`spectranet.hsi.self_training`; not in the paper).
    """

    scene: str | None = None
    cube: str | None = None
    gt: str | None = None
    cube_variable: str | None = None
    gt_variable: str | None = None
    class_names: str | None = None
    window: int = 11
    components: int | str = 20
    protocol: str = "paper"
    test_size: float = 0.3
    val_fraction: float = 0.5
    train_per_class: int | float | None = None
    split_file: str | list[str] | None = None
    split_buffer: bool = False
    validation: str = "split"
    model: str = "fast3dcnn"
    dropout: float | None = None
    optimizer: str = "adam"
    lr: float = 0.001
    batch_size: int = 256
    epochs: int = 50
    steps: int | None = None
    drop_last: bool = False
    weight_decay: float = 0.0
    scheduler: str = "none"
    class_weight: str = "none"
    precision: str = "auto"
    seeds: list[int] = field(default_factory=lambda: [0])
    split_seed: int | None = None
    map_batch_size: int = 1024
    device: str = "cpu"
    preset: str | None = None
    block: int | None = None
    split_window: int | None = None
    flips: bool = False
    pca: bool = True
    unit_norm: bool = False
    stem_init: str = "random"
    spectral_noise: float = 0.0
    spectral_shift: int = 0
    label_smoothing: float = 0.0
    mixup: float = 0.0
    svm_weight: float | str = 0.0
    svm_neighbourhood: int | str = 1
    self_training: float = 0.0

    def __post_init__(self) -> None:
        _recipe_extras(self)
        if self.scene is None and (self.cube is None or self.gt is None):
            raise ConfigError("give a scene name, or both a cube file and a label-map file")
        if self.scene is not None and (self.cube is not None or self.gt is not None):
            raise ConfigError("give either a scene name or cube and label-map files, not both")
        if self.class_names is not None and self.cube is None:
            raise ConfigError("class_names names the classes of your own --cube/--gt; a "
                              "registered scene has its own")
        w = self.window
        if isinstance(w, bool) or not isinstance(w, int) or w < 3 or w % 2 == 0:
            raise ConfigError(f"window must be an odd integer >= 3, got {w!r}")
        c = self.components
        if c != "all" and (isinstance(c, bool) or not isinstance(c, int) or c < 1):
            raise ConfigError(f"components must be an integer >= 1 or 'all', got {c!r}")
        check_choice("protocol", self.protocol, ("paper", "disjoint"))
        check_fraction("test_size", self.test_size)
        check_fraction("val_fraction", self.val_fraction)
        check_choice("validation", self.validation, HSI_VALIDATIONS)
        tpc = self.train_per_class
        if tpc is not None and not (
            (isinstance(tpc, int) and not isinstance(tpc, bool) and tpc >= 1)
            or (isinstance(tpc, float) and 0 < tpc < 1)
        ):
            raise ConfigError(
                "train_per_class must be a count (integer >= 1) or a fraction (float in (0, 1)), "
                f"got {tpc!r}"
            )
        check_split_file(self)
        if self.dropout is not None and not 0 <= self.dropout < 1:
            raise ConfigError(f"dropout must be in [0, 1), got {self.dropout!r}")
        check_positive("map_batch_size", self.map_batch_size, integer=True)
        check_training(self)

