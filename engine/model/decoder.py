"""The decoder protocol: what the decode loop asks of a runner, whichever graph and binding it uses.

`OnnxDecoder` (plain graph, engine/model/runner.py), `FastDecoder` (fused graph with IOBinding,
engine/model/fastrunner.py) and `BoundDecoder` (foreign graphs with a bound KV cache,
engine/model/boundrunner.py) implement it. One `forward` appends any number of tokens to the cache:
a prompt chunk, one token, or the pending token with k drafted ones to verify.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Decoder(Protocol):
    cancel: object  # an Interrupt (engine/model/runner.py): set from any thread to abort the current call

    @property
    def context_length(self) -> int: ...  # tokens the cache holds at most

    @property
    def length(self) -> int: ...  # tokens in the cache now

    def reset(self) -> None: ...  # empty the cache

    def rewind(self, length: int) -> None: ...  # keep the first `length` cached tokens

    def common_prefix(self, ids: list[int], extra: dict[str, np.ndarray] | None = None) -> int:
        ...  # how many of `ids` (with their extra inputs) the cache already holds

    def prefill(self, ids: list[int], extra: dict[str, np.ndarray] | None = None, chunk: int = 128) -> np.ndarray:
        ...  # feed a prompt in chunks that check `cancel`; the last position's logits

    def forward(self, ids: list[int], extra: dict[str, np.ndarray] | None = None) -> np.ndarray:
        ...  # feed `ids`; one row of logits per position

    def forward_greedy(self, ids: list[int], extra: dict[str, np.ndarray] | None = None) -> list[int]:
        ...  # feed `ids`; the greedy token after each position (banned tokens excluded)

    def row_logits(self, i: int) -> np.ndarray:
        ...  # row `i` of the last forward_greedy's logits (valid until the next call)
