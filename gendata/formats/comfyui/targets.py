"""Which graph inputs an edit of each field sets: the nodes that really feed the value,
as the walk found them (passes.Pass.sites), and the rule for a graph with several samplers.

- seed, steps, CFG, sampler, scheduler, model: every sampler pass that has the value. When
  the passes disagree (a hires pass with its own seed, Stable Cascade's two stages, seven
  Kontext samplers) the edit is refused unless `node` names the sampler, or the node
  holding the value; a pass that adds no noise does not count for the seed. In a hires
  layout steps and denoise belong to the first pass and hires_steps / denoising_strength
  to the second, as in A1111's model.
- prompt / negative prompt: every encoder input that holds the same text as the first
  pass's, in every pass (a refiner given the same prompt follows); a pass with a different
  text (a detailer) is left alone. A prompt joined from several encoders (area
  composition) is set part by part from extra["ComfyUI prompts"], or from the new text's
  lines when they match up one for one; else the edit names the encoders and asks for
  `node`.
- LoRAs: names and strengths of the loaders found, one for one; adding or removing a
  loader is refused.
- size, clip skip, VAE, Flux guidance: the one place the walk read them from.

Anything that cannot be located (the value is computed by a node gendata cannot evaluate,
or the graph has no such input) is refused with UsageError naming the field and the nodes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...errors import UsageError
from .walker import Site

if TYPE_CHECKING:
    from ...model import GenParams, Lora
    from .passes import Pass
    from .result import GraphResult

__all__ = ["Target", "plan"]

# GenParams field -> Pass.sites key, for the values every pass has its own of.
_PASS_FIELDS = {"seed": "seed", "steps": "steps", "cfg_scale": "cfg", "sampler": "sampler",
                "scheduler": "scheduler", "model": "model"}
_SAMPLER_PASS_FIELDS = {**_PASS_FIELDS, "denoise": "denoise"}
_IGNORED = {"generator", "notes", "samplers", "extra", "loras", "embeddings"}
# Fields whose input a graph always has a value in: unsetting them is refused.
_ALWAYS = {*_PASS_FIELDS, "width", "height", "vae", "hires_steps"}


@dataclass(frozen=True, slots=True)
class Target:
    """Set `value` at `site`, for `field` (named in refusals)."""

    site: Site
    value: Any
    field: str


def _located(field: str, where: Site | str | None, what: str) -> Site:
    if isinstance(where, Site):
        return where
    if isinstance(where, str) and where:
        raise UsageError(f"{field}: cannot be edited: {where}")
    raise UsageError(f"{field}: {what} has no such input in the graph")


class _Planner:
    def __init__(self, result: GraphResult, node: str | None) -> None:
        self.passes: list[Pass] = result.passes
        self.result = result
        self.node = node
        self.hires = bool(result._hires())
        self.out: list[Target] = []

    def add(self, site: Site, value: Any, field: str) -> None:
        self.out.append(Target(site, value, field))

    def chosen(self, field: str) -> list[Pass]:
        """The passes an edit of `field` applies to: those `node` names, or all."""
        if self.node is None:
            return list(self.passes)
        picked = [ps for ps in self.passes if ps.node.id == self.node
                  or self.node in _site_nodes(ps)]
        if not picked:
            ids = ", ".join(ps.node.id for ps in self.passes) or "none"
            raise UsageError(f"{field}: node {self.node} is not a sampler of this graph and "
                             f"feeds none of their values (samplers: {ids})")
        return picked

    # --- pass values -------------------------------------------------------------------

    def pass_value(self, field: str, key: str, value: Any, passes: list[Pass] | None = None
                   ) -> None:
        if passes is None:
            passes = self.chosen(field)
        have = [ps for ps in passes if key in ps.sites and ps.sites[key] is not None]
        if key == "seed":
            have = [ps for ps in have if ps.extra.get("add_noise") != "disable"] or have
        if not have:
            where = ", ".join(ps.node.label() for ps in passes) or "the graph"
            raise UsageError(f"{field}: no input of {where} holds it")
        values = {repr(_value(ps, key)) for ps in have}
        if len(values) > 1:
            listing = "; ".join(f"{ps.node.label()}: {_value(ps, key)!r}" for ps in have)
            raise UsageError(f"{field}: the graph's samplers disagree ({listing}); choose one "
                             "with --node")
        for ps in have:
            self.add(_located(field, ps.sites[key], ps.node.label()), value, field)

    def headline(self, field: str, value: Any) -> None:
        key = _PASS_FIELDS[field]
        passes = self.chosen(field)
        if self.hires and self.node is None and field == "steps":
            passes = passes[:1]
        self.pass_value(field, key, _typed(field, value), passes)

    def denoise(self, value: Any) -> None:
        if value is None:
            raise UsageError("denoising_strength: a ComfyUI sampler always has a denoise; "
                             "set it to 1 instead of removing it")
        passes = self.chosen("denoising_strength")
        if self.hires and self.node is None:
            passes = self.passes[1:2]
        elif self.node is None:
            passes = passes[:1]
        self.pass_value("denoising_strength", "denoise", float(value), passes)

    def hires_steps(self, value: Any) -> None:
        if not self.hires:
            raise UsageError("hires_steps: the graph has no hires pass (a second sampler fed "
                             "by an upscaled first pass)")
        self.pass_value("hires_steps", "steps", int(value), self.passes[1:2])

    def sampler_pass(self, index: int, key: str, value: Any, field: str) -> None:
        ps = self.passes[index]
        self.add(_located(field, ps.sites.get(key), ps.node.label()), value, field)

    # --- texts -------------------------------------------------------------------------

    def text(self, field: str, old: str, new: str) -> None:
        side = "positive" if field == "prompt" else "negative"
        passes = self.chosen(field)
        if not passes:
            raise UsageError(f"{field}: the graph has no sampler")
        sites = [(s, t) for ps in passes for s, t in ps.text_sites.get(side, [])]
        if self.node is not None and any(isinstance(s, Site) and s.node == self.node
                                         for s, _ in sites):
            sites = [(s, t) for s, t in sites if isinstance(s, Site) and s.node == self.node]
            for s, _ in sites:
                self.add(s, new, field)  # type: ignore[arg-type]
            return
        first = passes[0].text_sites.get(side, [])
        if not first:
            raise UsageError(f"{field}: no text encoder feeds the {side} conditioning of "
                             f"{passes[0].node.label()}")
        parts = list(dict.fromkeys(t for _, t in first if t))
        if len(parts) <= 1:
            target = parts[0] if parts else ""
            for s, t in sites:
                if t == target:
                    self.add(_located(field, s, passes[0].node.label()), new, field)
            return
        lines = new.split("\n")
        if "\n".join(parts) == old and len(lines) == len(parts) and not any(
                "\n" in p for p in parts):
            self.parts(field, parts, lines)
            return
        nodes = ", ".join(sorted({s.node for s, t in first if isinstance(s, Site) and t}))
        raise UsageError(f"{field}: {passes[0].node.label()} joins the texts of nodes {nodes}; "
                         "name the one to set with --node, give one line per text, or set "
                         "the texts of extra['ComfyUI prompts'] one by one")

    def parts(self, field: str, old: list[str], new: list[str]) -> None:
        """Each of the texts a prompt is joined from, set to its counterpart in `new`."""
        if len(old) != len(new):
            raise UsageError(f"{field}: the prompt is joined from {len(old)} texts; give as "
                             "many")
        sites = [(s, t) for ps in self.chosen(field)
                 for s, t in ps.text_sites.get("positive", [])]
        for before, after in zip(old, new, strict=True):
            if before != after:
                for s, t in sites:
                    if t == before:
                        self.add(_located(field, s, self.passes[0].node.label()), after, field)

    # --- model and the one-place values -----------------------------------------------

    def loras(self, old: list[Lora], new: list[Lora]) -> None:
        passes = self.chosen("loras")
        ps = passes[0] if passes else None
        if ps is None or len(old) != len(new) or len(ps.lora_sites) != len(old):
            raise UsageError(f"loras: the graph loads {len(old)} LoRA(s); gendata sets the "
                             "names and strengths of those loaders but does not add or remove "
                             "loader nodes")
        for before, after, sites in zip(old, new, ps.lora_sites, strict=True):
            if after.name != before.name:
                self.add(_located("loras", sites.get("name"), ps.node.label()), after.name,
                         "loras")
            if (after.weight, after.unet_weight) == (before.weight, before.unet_weight):
                continue
            if sites.get("clip") is not None:
                self.add(_located("loras", sites["clip"], "the LoRA loader"),
                         _float(after.weight), "loras")
                model = after.unet_weight if after.unet_weight is not None else after.weight
            else:
                model = after.weight
            self.add(_located("loras", sites.get("model"), "the LoRA loader"), _float(model),
                     "loras")

    def first_site(self, field: str, key: str, value: Any) -> None:
        passes = self.chosen(field)
        if not passes:
            raise UsageError(f"{field}: the graph has no sampler")
        self.add(_located(field, passes[0].sites.get(key), passes[0].node.label()), value,
                 field)

    def size(self, field: str, value: Any) -> None:
        passes = self.chosen(field)
        lat = passes[0].latent if passes else {}
        sites = lat.get("size_sites")
        if not sites:
            where = passes[0].node.label() if passes else "the graph"
            raise UsageError(f"{field}: the latent of {where} does not come from an empty "
                             "latent node with a size (it is loaded or computed)")
        self.add(_located(field, sites[0 if field == "width" else 1], "the latent node"),
                 int(value), field)


def _site_nodes(ps: Pass) -> set[str]:
    """Every node holding a value the pass was read from."""
    found: list[Any] = list(ps.sites.values())
    found += [s for sites in ps.text_sites.values() for s, _ in sites]
    found += [s for sites in ps.lora_sites for s in sites.values()]
    found += list(ps.latent.get("size_sites") or ())
    return {s.node for s in found if isinstance(s, Site)}


def _value(ps: Pass, key: str) -> Any:
    return {"seed": ps.seed, "steps": ps.steps, "cfg": ps.cfg, "sampler": ps.sampler,
            "scheduler": ps.scheduler, "model": ps.model, "denoise": ps.denoise}.get(key)


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _typed(field: str, value: Any) -> Any:
    if value is None:
        raise UsageError(f"{field}: a ComfyUI graph cannot do without it; give a value")
    return float(value) if field == "cfg_scale" else value


def plan(result: GraphResult, before: GenParams, after: GenParams, node: str | None = None
         ) -> list[Target]:
    """The inputs to set so that the graph reads as `after` where it read as `before`."""
    p = _Planner(result, node)
    if node is not None:
        p.chosen("--node")  # a node that is not there is refused, even for a no-op edit
    if before.model_dump() == after.model_dump():
        return []
    if not p.passes:
        raise UsageError("the ComfyUI graph has no sampler whose values gendata could edit")
    for field in type(after).model_fields:
        old, new = getattr(before, field), getattr(after, field)
        if old == new or field in _IGNORED:
            continue
        if new is None and field in _ALWAYS:
            raise UsageError(f"{field}: a ComfyUI graph cannot do without it; give a value")
        if field in _PASS_FIELDS:
            p.headline(field, new)
        elif field == "prompt" and _parts_changed(before, after):
            if new != "\n".join(after.extra["ComfyUI prompts"]):
                raise UsageError("prompt: set either the prompt or extra['ComfyUI prompts'], "
                                 "not both differently")
        elif field in ("prompt", "negative_prompt"):
            p.text(field, old, new)
        elif field == "denoising_strength":
            p.denoise(new)
        elif field == "hires_steps":
            p.hires_steps(new)
        elif field in ("width", "height"):
            p.size(field, new)
        elif field == "clip_skip":
            p.first_site(field, "clip_skip", -int(new) if new else -1)
        elif field == "vae":
            p.add(_located(field, result.vae_site, "the graph"), new, field)
        else:
            raise UsageError(f"{field}: a ComfyUI graph has no input for it")
    if before.loras != after.loras:
        p.loras(before.loras, after.loras)
    _extra(p, before, after)
    _samplers(p, before, after)
    if after.generator != before.generator:
        raise UsageError(f"generator: a ComfyUI file stays ComfyUI (got {after.generator!r})")
    return p.out


def _parts_changed(before: GenParams, after: GenParams) -> bool:
    old, new = before.extra.get("ComfyUI prompts"), after.extra.get("ComfyUI prompts")
    return isinstance(old, list) and isinstance(new, list) and old != new


def _extra(p: _Planner, before: GenParams, after: GenParams) -> None:
    keys = set(before.extra) | set(after.extra)
    for key in sorted(keys):
        old, new = before.extra.get(key), after.extra.get(key)
        if old == new:
            continue
        if key == "ComfyUI prompts" and _parts_changed(before, after):
            p.parts("prompt", [str(t) for t in old], [str(t) for t in new])  # type: ignore[union-attr]
        elif key == "Flux guidance" and new is not None:
            p.first_site("Flux guidance", "flux_guidance", float(new))
        else:
            raise UsageError(f"extra {key!r}: a ComfyUI graph has no input for it")


def _samplers(p: _Planner, before: GenParams, after: GenParams) -> None:
    if before.samplers == after.samplers:
        return
    if len(before.samplers) != len(after.samplers) or len(after.samplers) != len(p.passes):
        raise UsageError("samplers: gendata edits the values of the graph's samplers but does "
                         "not add or remove sampler nodes")
    for i, (old, new) in enumerate(zip(before.samplers, after.samplers, strict=True)):
        for field, key in _SAMPLER_PASS_FIELDS.items():
            f_old, f_new = getattr(old, field), getattr(new, field)
            if f_old != f_new:
                p.sampler_pass(i, key, float(f_new) if field in ("cfg_scale", "denoise")
                               else f_new, f"samplers[{i}].{field}")
        if old.node != new.node:
            raise UsageError(f"samplers[{i}].node: the node ids of a graph cannot be edited")
