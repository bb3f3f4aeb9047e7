"""Wafer-tile scheduler emulation: hardware profiles, layer placement, timing, pacing, activity.

The engine's tokens are real; an emulation decides when the user sees them, so the same model and
output can be felt at GPU-cluster or wafer-scale speed.
"""

from .emulation import Emulation, emulation
from .serving import ServingOptions
from .speculation import Speculation
from .pacer import Pacer
from .profiles import PROFILES, get_profile
from .presets import PRESETS, resolve_shape
from .shapes import ModelShape
from .trace import ActivityTrace

__all__ = [
    "ActivityTrace",
    "Emulation",
    "ModelShape",
    "PRESETS",
    "PROFILES",
    "Pacer",
    "ServingOptions",
    "Speculation",
    "emulation",
    "get_profile",
    "resolve_shape",
]
