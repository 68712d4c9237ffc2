"""The shipped presets: ``<domain>_<name>.toml`` files in this package, read as plain data.

``paper`` is a paper's recipe as published, ``standard`` our recommended recipe for a CPU,
``quick`` minutes for a smoke test; :func:`spectranet.config.make_config` turns one into a
validated configuration.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from typing import Any

from spectranet.errors import ConfigError
from spectranet.validation import check_choice

__all__ = ["DOMAINS", "list_presets", "load_preset", "describe_preset"]

#: The domains presets exist for.
DOMAINS = ("hsi", "audio")


def list_presets(domain: str) -> list[str]:
    """Names of the presets shipped for ``domain`` ("hsi" or "audio")."""
    check_choice("domain", domain, DOMAINS)
    return sorted(
        p.name[len(domain) + 1 : -5]
        for p in resources.files("spectranet.presets").iterdir()
        if p.name.startswith(f"{domain}_") and p.name.endswith(".toml")
    )


def load_preset(domain: str, name: str) -> dict[str, Any]:
    """Read a preset's settings as a dict, keyed by configuration field names."""
    names = list_presets(domain)
    if name not in names:
        raise ConfigError(f"preset must be one of {', '.join(map(repr, names))}, got {name!r}")
    text = (resources.files("spectranet.presets") / f"{domain}_{name}.toml").read_text()
    data = tomllib.loads(text)
    data.pop("about", None)
    return data


def describe_preset(domain: str, name: str) -> str:
    """The one-line description (``about``) of a preset: what it is and what it changes."""
    load_preset(domain, name)  # validates
    text = (resources.files("spectranet.presets") / f"{domain}_{name}.toml").read_text()
    return str(tomllib.loads(text).get("about", ""))
