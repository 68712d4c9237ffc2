"""Typed, validated experiment configuration and the papers' presets.

A configuration is a frozen dataclass: :class:`HSIConfig` for hyperspectral runs and
:class:`AudioConfig` for sound runs. Presets are TOML files in :mod:`spectranet.presets`
(``paper``, ``standard`` and ``quick`` for each domain); explicit options override a preset.
A run writes its resolved configuration to ``config.json``.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

from spectranet.config.audio import AudioConfig
from spectranet.config.checks import (
    BASELINES,
    CLASS_WEIGHTS,
    HSI_VALIDATIONS,
    OPTIMIZERS,
    PRECISION_CHOICES,
    PRESETS,
    SAMPLINGS,
    SCHEDULERS,
    STEM_INITS,
    STEM_MODELS,
    VAL_WINDOWS,
    VALIDATIONS,
)
from spectranet.config.hsi import HSIConfig
from spectranet.errors import ConfigError
from spectranet.presets import describe_preset, list_presets, load_preset
from spectranet.validation import check_choice

__all__ = [
    "BASELINES",
    "CLASS_WEIGHTS",
    "HSI_VALIDATIONS",
    "OPTIMIZERS",
    "SAMPLINGS",
    "VAL_WINDOWS",
    "VALIDATIONS",
    "PRECISION_CHOICES",
    "PRESETS",
    "SCHEDULERS",
    "STEM_INITS",
    "STEM_MODELS",
    "HSIConfig",
    "AudioConfig",
    "load_preset",
    "describe_preset",
    "make_config",
    "list_presets",
]

_C = TypeVar("_C", HSIConfig, AudioConfig)

_CLASSES: dict[str, type] = {"hsi": HSIConfig, "audio": AudioConfig}


def make_config(domain: str, preset: str | None = "paper", **overrides: Any) -> Any:
    """Build a validated configuration: a preset's settings, then ``overrides``.

    Overrides equal to ``None`` are ignored, so command-line options left unset keep the preset.
    An ``epochs`` override replaces a preset's ``steps`` (the length is then counted in epochs);
    ``epochs`` and ``steps`` together are refused. A sound ``baseline`` other than "rf" drops a
    preset's ``baseline_weight`` (the fusion mixes in the random forest only).

    Parameters
    ----------
    domain : {"hsi", "audio"}
    preset : str or None, default "paper"
    **overrides
        Any field of the configuration class.

    Raises
    ------
    ConfigError
        Unknown preset, unknown option or invalid value.
    """
    check_choice("domain", domain, tuple(_CLASSES))
    cls = _CLASSES[domain]
    settings = load_preset(domain, preset) if preset is not None else {}
    given = {k: v for k, v in overrides.items() if v is not None}
    if "epochs" in given and "steps" in given:
        raise ConfigError(f"give epochs or steps, not both (got epochs {given['epochs']!r} and "
                          f"steps {given['steps']!r})")
    if "epochs" in given:
        settings.pop("steps", None)
    if given.get("baseline", "rf") != "rf" and "baseline_weight" not in given:
        settings.pop("baseline_weight", None)  # a preset's fusion mixes in the forest only
    settings.update(given)
    settings["preset"] = preset
    return from_dict(cls, settings)


def from_dict(cls: type[_C], data: dict[str, Any], *, where: str | None = None) -> _C:
    """Build ``cls`` from a dict, rejecting unknown keys with the list of valid ones.

    ``where`` (e.g. a run's ``config.json``) prefixes every error, and a ``data`` that is not
    a dict of values the configuration accepts is a :class:`ConfigError` too.
    """
    prefix = f"{where}: " if where else ""
    if not isinstance(data, dict):
        raise ConfigError(f"{prefix}expected a configuration object, got {type(data).__name__}")
    valid = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - valid)
    if unknown:
        raise ConfigError(
            f"{prefix}unknown option(s) {', '.join(map(str, unknown))}; "
            f"valid: {', '.join(sorted(valid))}"
        )
    values = {k: list(v) if isinstance(v, tuple) else v for k, v in data.items()}
    try:
        return cls(**values)
    except ConfigError as exc:
        if where is None:
            raise
        raise ConfigError(f"{prefix}{exc}") from None
    except TypeError as exc:  # a value of the wrong type met a comparison in a check
        raise ConfigError(f"{prefix}a value of the wrong type ({exc})") from None
