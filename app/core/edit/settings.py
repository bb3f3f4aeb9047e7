"""What each `generate` asks the engine for besides the instruction and the target. No Qt.

The window sets the pacing and speculation from its toolbar; tests, demos and benchmarks fix the
seed, temperature and output budget. All of them go through `EditController.configure`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RequestSettings:
    """The request options of the next edits; replaced whole, never written field by field."""

    profile: str | None = None  # hardware profile passed with `generate` (None / "local": real speed)
    emulate: str | None = None  # model shape the profile paces (None: the loaded model's)
    seed: int | None = None  # fixed sampling seed (tests, demos); None = the engine's default
    temperature: float | None = None  # sampling temperature (1.0 = the model's distribution); None = default
    max_tokens: int | None = None  # fixed output budget (tokens); None = sized from the target
    speculate: bool | None = None  # predicted-output speculation; None = the engine's default
    whole: bool | None = None  # the model writes the whole target, as a paced edit does (a study's warm-up)

    @property
    def paced_model(self) -> str | None:
        """The model shape to pace, sent only with a hardware profile other than local."""
        return self.emulate if self.profile not in (None, "local") else None
