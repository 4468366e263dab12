"""A ComfyUI graph walk's result, and how it becomes a GenParams (docs/formats.md#the-api-graph).

The first pass gives the common fields; a second pass fed by an upscaled first pass gives
A1111-style hires fields; every pass is also listed in `samplers`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ...model import GenParams
    from .passes import Pass
    from .walker import Site

__all__ = ["GraphResult"]


@dataclass
class GraphResult:
    """What the walk found; `to_params` turns it into the common model."""

    passes: list[Pass] = field(default_factory=list)
    vae: str | None = None
    vae_site: Site | str | None = None
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    output: str | None = None

    def to_params(self, generator: str = "comfyui") -> GenParams:
        from ...model import GenParams, SamplerPass

        p = GenParams(generator=generator)
        notes = list(dict.fromkeys(self.notes))
        samplers: list[SamplerPass] = []
        for ps in self.passes:
            samplers.append(
                SamplerPass(
                    sampler=ps.sampler,
                    scheduler=ps.scheduler,
                    steps=ps.steps,
                    cfg_scale=ps.cfg,
                    seed=ps.seed,
                    denoise=ps.denoise,
                    model=ps.model,
                    node=ps.node.id,
                )
            )
        fields: dict[str, Any] = {"samplers": samplers, "vae": self.vae}
        extra = dict(self.extra)
        if self.passes:
            first = self.passes[0]
            fields.update(
                prompt="\n".join(first.positive),
                negative_prompt="\n".join(first.negative),
                seed=first.seed,
                steps=first.steps,
                cfg_scale=first.cfg,
                sampler=first.sampler,
                scheduler=first.scheduler,
                model=first.model,
                loras=first.loras,
                clip_skip=first.clip_skip,
            )
            size = first.latent.get("size")
            if size:
                fields["width"], fields["height"] = size
            elif first.latent.get("img2img"):
                notes.append("first pass starts from a loaded image; its size is not in the graph")
            if len(first.positive) > 1:
                extra["ComfyUI prompts"] = list(first.positive)
            for key, value in first.extra.items():
                extra.setdefault(key, value)
            hires = self._hires()
            if hires:
                fields.update(hires)
            elif first.denoise is not None and first.denoise < 1:
                fields["denoising_strength"] = first.denoise
        else:
            notes.append("no sampler node found in the ComfyUI graph")
        fields["extra"] = extra
        fields["notes"] = notes
        for key, value in fields.items():
            try:
                setattr(p, key, value)
            except Exception:  # pydantic rejects e.g. steps=0; keep the rest
                notes.append(f"{key} value {value!r} is not valid and was left out")
        p.notes = list(dict.fromkeys(notes))
        return p

    def _hires(self) -> dict[str, Any]:
        """Second pass fed by an upscaled first pass -> A1111-style hires fields."""
        if len(self.passes) < 2:
            return {}
        first, second = self.passes[0], self.passes[1]
        lat = second.latent
        if lat.get("from_sampler") is None or not (
            lat.get("scale") or lat.get("size") or lat.get("upscaler")
        ):
            return {}
        out: dict[str, Any] = {}
        if second.steps:
            out["hires_steps"] = second.steps
        if second.denoise is not None:
            out["denoising_strength"] = second.denoise
        if lat.get("upscaler"):
            out["hires_upscaler"] = lat["upscaler"]
        scale = lat.get("scale")
        size = lat.get("size")
        base = first.latent.get("size")
        if size:
            out["hires_width"], out["hires_height"] = size
            if scale is None and base and base[0]:
                scale = round(size[0] / base[0], 4)
        if scale:
            out["hires_upscale"] = scale
        return out
