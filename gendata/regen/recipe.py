"""The regen plan's data: what the user asked for and every part of the recipe a run follows.

Plain data with no decisions in it, so the planning modules (sampling, prompts, resources,
hires) and the runner can all depend on it without depending on each other.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ..model import GenParams
from .report import Deviation, worst

__all__ = [
    "EmbeddingPlan",
    "HiresPlan",
    "LoraPlan",
    "NoisePlan",
    "PromptPlan",
    "RegenOptions",
    "RegenPlan",
    "SchedulerPlan",
    "SizeCond",
]


@dataclass
class RegenOptions:
    """What the user asked for on top of the image's own parameters."""

    model: str | None = None
    config: str | None = None
    device: str = "auto"  # auto | cuda | mps | cpu
    lora_dir: str | None = None
    embeddings_dir: str | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    rng: str | None = None  # CPU | GPU | NV: overrides the image's RNG
    check_hash: bool = True


@dataclass
class SchedulerPlan:
    sampler: str
    schedule: str
    cls: str
    config: dict[str, Any]
    sigmas: list[float] | None = None
    timesteps: list[float] | None = None
    custom_sigmas: bool = False
    latent_scale: float = 1.0
    eta: float | None = None
    steps: int = 0


@dataclass
class NoisePlan:
    """A1111's ImageRNG for one image: initial noise, variation, and noise drawn during sampling.

    `source` is what A1111 used (GPU, CPU, NV); `generator` what this run uses (torch-cpu,
    torch-cuda, philox, or "auto" until the device is known). `step_noise`: none, generator
    (continues after the initial draw, re-seeded as seed + ENSD when ENSD is set) or brownian.
    """

    shape: tuple[int, int, int]
    seed: int
    source: str
    generator: str
    subseed: int | None = None
    subseed_strength: float = 0.0
    resize_from: tuple[int, int] | None = None
    ensd: int = 0
    step_noise: str = "none"
    step_seed: int | None = None


@dataclass
class PromptPlan:
    """`clip_skip`: which hidden state of CLIP (1 = last). `final_norm`: whether CLIP's final
    LayerNorm is applied to it; SD 1.x does, SDXL's penultimate-layer conditioning does not."""

    text: str
    pieces: list[tuple[str, float]]
    emphasis: str = "Original"
    clip_skip: int = 1
    final_norm: bool = True


@dataclass
class SizeCond:
    """SDXL's micro-conditioning (the UNet's add_time_ids), as (height, width) pairs."""

    original: tuple[int, int]
    crop: tuple[int, int]
    target: tuple[int, int]


@dataclass
class LoraPlan:
    name: str
    te_weight: float
    unet_weight: float
    path: str | None = None
    expected_hash: str | None = None
    actual_hash: str | None = None


@dataclass
class EmbeddingPlan:
    name: str
    path: str


@dataclass
class HiresPlan:
    width: int
    height: int
    upscaler: str
    mode: str  # "latent" or "image"
    interpolation: str
    antialias: bool
    steps: int  # steps actually run (A1111's hr steps)
    total_steps: int  # the schedule length they are cut from
    denoise: float
    strength: float  # diffusers img2img strength giving exactly `steps` steps
    cfg_scale: float
    scheduler: SchedulerPlan
    noise: NoisePlan
    prompt: PromptPlan
    negative: PromptPlan
    size_cond: SizeCond | None = None


@dataclass
class RegenPlan:
    base: str
    model: str | None
    model_kind: str | None
    config: str | None
    device: str
    width: int
    height: int
    steps: int
    cfg_scale: float
    scheduler: SchedulerPlan
    noise: NoisePlan
    prompt: PromptPlan
    negative: PromptPlan
    loras: list[LoraPlan]
    embeddings: list[EmbeddingPlan]
    hires: HiresPlan | None
    deviations: list[Deviation]
    notes: list[str]
    params: GenParams = field(repr=False)
    options: RegenOptions = field(repr=False)
    size_cond: SizeCond | None = None

    @property
    def fidelity(self) -> str:
        return worst(self.deviations)

    @property
    def refused(self) -> list[Deviation]:
        return [d for d in self.deviations if d.severity == "refused"]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("params", None)
        data.pop("options", None)
        data["fidelity"] = self.fidelity
        return data
