"""spectranet: convolutional classifiers for spectral data (sound and hyperspectral images)."""

from spectranet.errors import SpectranetError

__all__ = ["SpectranetError", "__version__"]
__version__ = "0.1.0"
