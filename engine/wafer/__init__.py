"""Wafer-tile scheduler emulation: hardware profiles, layer placement, timing, pacing, activity.

The engine's tokens are real; an emulation decides when the user sees them, so the same model and
output can be felt at GPU-cluster or wafer-scale speed.
"""

from .emulation import Emulation, ServingOptions, emulation
from .pacer import Pacer
from .profiles import PROFILES, get_profile
from .shapes import PRESETS, ModelShape, resolve_shape
from .trace import ActivityTrace

__all__ = [
    "ActivityTrace",
    "Emulation",
    "ModelShape",
    "PRESETS",
    "PROFILES",
    "Pacer",
    "ServingOptions",
    "emulation",
    "get_profile",
    "resolve_shape",
]
