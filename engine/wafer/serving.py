"""What sits around the accelerator: transport, session set-up, the serving stack, the network.

TTFT as a user measures it is the sum of four parts:
- network: the round trips before the first byte comes back (one for a persistent WebSocket, plus
  the TCP and TLS handshakes for a fresh HTTPS connection), at the deployment's round-trip time;
- queue_setup: admission, tokenisation and KV allocation of a request whose session was not prewarmed;
- prefill: the prompt (less any prewarmed prefix) through every layer;
- first_step: the host work that samples the first token and sends it out.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import calibration as cal

TRANSPORTS = ("websocket", "http")
# "2024": the host work of each step runs after the accelerator's (serial); "optimized": the same,
# 30% leaner; "overlapped": stacks from Sept 2024 on (vLLM 0.6.0 async output processing and multi-step
# scheduling, TensorRT-LLM's overlap scheduler) run the next step's host work while the
# accelerator computes, so a step costs the longer of the two plus the hand-over.
SERVING_STACKS = ("2024", "optimized", "overlapped")

# Client-to-server round-trip time by deployment kind, ms.
DEPLOYMENTS = {
    # The engine on this machine: loopback, well under 0.1 ms.
    "local": 0.0,
    # A client in the same cloud region as the servers: 0.5 ms is the order of intra-region RTTs
    # cloud providers publish (e.g. AWS, "Amazon EC2 placement groups" docs: sub-millisecond).
    "datacenter": 0.5,
    # A public API used over the internet from the same continent: 40 ms, within the 20-70 ms
    # round trips between major cities of North America or Europe (WonderNetwork ping tables).
    "internet": 40.0,
}


@dataclass(frozen=True)
class ServingOptions:
    """Transport and session switches that sit around the accelerator."""

    transport: str = "websocket"  # "websocket": persistent; "http": a new connection per request
    prewarm: bool = True  # document prefix prefilled when the session opened
    serving_stack: str = "2024"  # see SERVING_STACKS
    network_rtt_ms: float | None = None  # client-to-server round trip, ms (None: the deployment's)
    cached_prompt_tokens: int = 0  # prompt tokens already in the KV cache when prewarmed
    deployment: str = "local"  # key of DEPLOYMENTS, the round trip's default

    def __post_init__(self) -> None:
        if self.transport not in TRANSPORTS:
            raise ValueError(f"transport must be one of {', '.join(TRANSPORTS)}, got {self.transport!r}")
        if self.serving_stack not in SERVING_STACKS:
            raise ValueError(f"serving_stack must be one of {', '.join(SERVING_STACKS)}, got {self.serving_stack!r}")
        if self.deployment not in DEPLOYMENTS:
            raise ValueError(f"deployment must be one of {', '.join(DEPLOYMENTS)}, got {self.deployment!r}")
        if (self.network_rtt_ms is not None and self.network_rtt_ms < 0) or self.cached_prompt_tokens < 0:
            raise ValueError("network_rtt_ms and cached_prompt_tokens must not be negative")

    @property
    def rtt_ms(self) -> float:
        return DEPLOYMENTS[self.deployment] if self.network_rtt_ms is None else float(self.network_rtt_ms)

    @property
    def host_us(self) -> float:  # host work around every forward step
        factor = cal.OPTIMIZED_SERVING_FACTOR if self.serving_stack == "optimized" else 1.0
        return cal.SERVING_OVERHEAD_US * factor

    def step_us(self, device_us: float) -> float:
        """One step as the client sees it: the accelerator's time plus (or, overlapped, at least)
        the host's work, plus the hand-over of the sampled token."""
        if self.serving_stack == "overlapped":
            return max(device_us, self.host_us) + cal.HOST_SYNC_US
        return device_us + self.host_us + cal.HOST_SYNC_US

    def host_phase_us(self, device_us: float) -> float:  # the step's time outside the accelerator
        return self.step_us(device_us) - device_us

    @property
    def network_ms(self) -> float:
        trips = 1 + (cal.HTTP_EXTRA_ROUND_TRIPS if self.transport == "http" else 0)
        return trips * self.rtt_ms

    @property
    def queue_setup_ms(self) -> float:
        return 0.0 if self.prewarm else cal.SESSION_SETUP_MS

    @property
    def request_overhead_ms(self) -> float:  # once per request, before prefill starts
        return self.network_ms + self.queue_setup_ms

    def ttft_parts(self, prefill_us: float) -> dict[str, float]:
        """The four parts of TTFT, ms (see the module docstring)."""
        return {
            "network_ms": self.network_ms,
            "queue_setup_ms": self.queue_setup_ms,
            "prefill_ms": prefill_us / 1000.0,
            "first_step_ms": (self.host_us + cal.HOST_SYNC_US) / 1000.0,
        }
