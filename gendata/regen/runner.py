"""Regen service, torch layer: execute a RegenPlan with diffusers. With `backend` and
`conditioning` the only modules that use torch, diffusers or transformers, and only inside
functions, so planning stays light.

Kept thin: load the pipeline, build the scheduler the plan names, make the plan's noise, build
prompt embeddings the A1111 way, call the stock pipelines, convert to 8 bits as A1111 does.
Anything that departs from the plan at run time becomes a Deviation.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..errors import UsageError
from . import nvrng
from .backend import missing_extra, require, resolve_device
from .conditioning import cond_kwargs, encoders, pad_conds, pair
from .plan import NoisePlan, RegenPlan, SchedulerPlan, make_plan
from .report import Deviation, RegenReport, worst

__all__ = ["RegenResult", "execute", "missing_extra"]

Progress = Callable[[int, int], None]
_PIPELINES: dict[tuple[str, str | None, str, str], Any] = {}


@dataclass
class RegenResult:
    image: Any  # PIL.Image.Image
    plan: RegenPlan
    report: RegenReport


def _load(plan: RegenPlan, device: str, dtype: Any) -> Any:
    torch, diffusers = require()
    key = (str(plan.model), plan.config, device, str(dtype))
    if key in _PIPELINES:
        return _PIPELINES[key]
    if not plan.model or not os.path.exists(plan.model):
        raise UsageError(f"model not found: {plan.model}")
    if plan.base == "sdxl":
        cls = diffusers.StableDiffusionXLPipeline
        common: dict[str, Any] = {"torch_dtype": dtype, "add_watermarker": False}
    else:
        cls = diffusers.StableDiffusionPipeline
        common = {"safety_checker": None, "requires_safety_checker": False,
                  "feature_extractor": None, "torch_dtype": dtype}
    try:
        if plan.model_kind == "diffusers":
            pipe = cls.from_pretrained(plan.model, local_files_only=True, **common)
        else:
            kwargs: dict[str, Any] = {"local_files_only": True}
            if plan.config:
                kwargs["config"] = plan.config
            pipe = cls.from_single_file(plan.model, **kwargs, **common)
    except (OSError, ValueError) as exc:
        kind = "SDXL" if plan.base == "sdxl" else "SD1.5"
        hint = ("" if plan.config or plan.model_kind == "diffusers" else
                f" A single-file checkpoint needs --config DIR: a diffusers {kind} folder (the "
                "JSON configs and tokenizer files are enough) for offline use.")
        first = (str(exc).splitlines() or [type(exc).__name__])[0].rstrip(".")
        raise UsageError(f"cannot load model {plan.model}: {first}.{hint}"
                         ) from None
    # Fresh, aligned parameter memory: CPU results otherwise depend on the loading path
    # (docs/regen.md#how-a1111-is-matched, loading).
    with torch.no_grad():
        for comp in (pipe.unet, pipe.vae, pipe.text_encoder,
                     getattr(pipe, "text_encoder_2", None)):
            for p in comp.parameters() if comp is not None else ():
                p.data = p.data.clone()
    pipe = pipe.to(device)
    pipe.set_progress_bar_config(disable=True)
    _PIPELINES.clear()
    _PIPELINES[key] = pipe
    return pipe


def _scheduler(sp: SchedulerPlan) -> Any:
    torch, diffusers = require()
    base = getattr(diffusers, sp.cls)
    if not sp.custom_sigmas:
        return base.from_config(sp.config)

    sig = np.asarray(sp.sigmas, dtype=np.float32)
    ts = np.asarray(sp.timesteps, dtype=np.float32)

    class CustomSigmas(base):  # type: ignore[misc, valid-type]
        """Runs A1111's exact sigma list; the pipeline still calls set_timesteps(steps)."""

        def set_timesteps(self, num_inference_steps: Any = None, device: Any = None,
                          *args: Any, **kwargs: Any) -> None:
            super().set_timesteps(len(sig) - 1, device)
            self.sigmas = torch.from_numpy(sig.copy())
            self.timesteps = torch.from_numpy(ts.copy()).to(device=device)
            self.num_inference_steps = len(sig) - 1

    CustomSigmas.__name__ = sp.cls
    return CustomSigmas.from_config(sp.config)


class _TorchGen:
    def __init__(self, torch: Any, seed: int, device: str) -> None:
        self.torch, self.device = torch, device
        self.g = torch.Generator(device).manual_seed(int(seed))

    def randn(self, shape: Any) -> np.ndarray:
        t = self.torch.randn(tuple(shape), generator=self.g, device=self.device)
        return t.cpu().numpy()


def _noise(np_plan: NoisePlan, device: str) -> nvrng.ImageNoise:
    torch, _ = require()
    gen = np_plan.generator
    if gen == "philox":
        factory: Callable[[int], Any] = nvrng.PhiloxNV
    elif gen == "torch-cuda":
        def factory(s: int) -> Any:
            return _TorchGen(torch, s, "cuda")
    else:
        def factory(s: int) -> Any:
            return _TorchGen(torch, s, "cpu")
    return nvrng.ImageNoise(factory, np_plan.shape, np_plan.seed, np_plan.subseed,
                            np_plan.subseed_strength, np_plan.resize_from, np_plan.ensd)


@contextlib.contextmanager
def _step_noise(scheduler: Any, noise: nvrng.ImageNoise | None) -> Iterator[None]:
    """Feed the scheduler's in-step `randn_tensor` from A1111's noise stream instead of the
    pipeline generator (diffusers schedulers only accept torch generators)."""
    if noise is None:
        yield
        return
    torch, _ = require()
    mods: set[Any] = {sys.modules[c.__module__] for c in type(scheduler).__mro__
            if hasattr(sys.modules.get(c.__module__), "randn_tensor")}
    saved = {m: m.randn_tensor for m in mods}

    def randn_tensor(shape: Any, generator: Any = None, device: Any = None, dtype: Any = None,
                     layout: Any = None) -> Any:
        per = [torch.from_numpy(noise.next(tuple(shape[1:]))) for _ in range(shape[0])]
        return torch.stack(per).to(device=device, dtype=dtype)

    for m in mods:
        m.randn_tensor = randn_tensor
    try:
        yield
    finally:
        for m, fn in saved.items():
            m.randn_tensor = fn


def _to_uint8(arr: np.ndarray) -> np.ndarray:
    """A1111 truncates (x+1)/2*255 to uint8; diffusers' numpy_to_pil rounds
    (docs/regen.md#how-a1111-is-matched, pixels)."""
    return (np.clip(arr, 0.0, 1.0) * 255.0).astype(np.uint8)


def _card_wave(plan: RegenPlan, devs: list[Deviation]) -> None:
    """With the native CUDA generator the noise is laid out as this card lays it out; name it
    when the card runs fewer threads than the noise has values (docs/regen.md#noise-and-the-gpu),
    since it then matches only cards of its own size."""
    passes = [plan.noise] + ([plan.hires.noise] if plan.hires else [])
    sizes = [int(np.prod(n.shape)) for n in passes if n.generator == "torch-cuda"]
    if not sizes:
        return
    torch, _ = require()
    props = torch.cuda.get_device_properties(torch.cuda.current_device())
    cap = nvrng.wave_threads(props.multi_processor_count, props.max_threads_per_multi_processor)
    if cap < max(sizes):
        devs.append(Deviation("rng-gpu-threads", "close",
                              f"this GPU runs {cap} threads at once, fewer than the "
                              f"{max(sizes)} noise values per image: its GPU noise is laid out "
                              "as on cards of that size, not as on larger cards or with --rng NV"))


def _versions() -> dict[str, str]:
    out = {}
    for mod in ("torch", "diffusers", "transformers"):
        m = sys.modules.get(mod)
        out[mod] = getattr(m, "__version__", "?") if m else "?"
    return out


def execute(plan: RegenPlan, *, progress: Progress | None = None,
            dtype: str | None = None) -> RegenResult:
    """Run the plan. Raises UsageError for a missing extra, model, or out of memory."""
    if plan.refused:
        raise UsageError("; ".join(d.message for d in plan.refused))
    torch, _ = require()
    device = resolve_device(plan.device)
    if device != plan.device:
        plan = make_plan(plan.params, replace(plan.options, device=device, overrides={}))
    tdtype = {"fp16": torch.float16, "fp32": torch.float32}.get(
        dtype or "", torch.float16 if device == "cuda" else torch.float32)
    started = time.perf_counter()
    devs = list(plan.deviations)
    pipe = _load(plan, device, tdtype)
    _card_wave(plan, devs)
    loaded_loras: list[str] = []
    loaded_ti: list[str] = []
    try:
        with torch.inference_mode():
            image = _run(plan, pipe, device, tdtype, devs, loaded_loras, loaded_ti, progress)
    except torch.cuda.OutOfMemoryError:
        raise UsageError(f"out of memory on {device} at {plan.width}x{plan.height}: try "
                         "--device cpu or a smaller size") from None
    except RuntimeError as exc:
        if "out of memory" in str(exc).lower():
            raise UsageError(f"out of memory on {device}: try --device cpu or a smaller size"
                             ) from None
        raise
    finally:
        if loaded_loras:
            pipe.unload_lora_weights()
        if loaded_ti:
            for tok, te in encoders(pipe):
                pipe.unload_textual_inversion(tokenizer=tok, text_encoder=te)
    report = RegenReport(
        fidelity=worst(devs), deviations=devs, plan=plan.to_dict(), device=device,
        dtype=str(tdtype).replace("torch.", ""), versions=_versions(),
        seconds=round(time.perf_counter() - started, 3),
    )
    report.plan["fidelity"] = report.fidelity
    return RegenResult(image=image, plan=plan, report=report)


def _run(plan: RegenPlan, pipe: Any, device: str, tdtype: Any, devs: list[Deviation],
         loaded_loras: list[str], loaded_ti: list[str], progress: Progress | None) -> Any:
    torch, _ = require()
    from PIL import Image

    # LoRAs (kohya/A1111 format through peft) and embeddings.
    names, weights = [], []
    for i, lp in enumerate(plan.loras):
        adapter = f"lora{i}"
        try:
            pipe.load_lora_weights(lp.path, adapter_name=adapter)
        except Exception as exc:  # diffusers raises ValueError/KeyError/RuntimeError here
            devs.append(Deviation("lora-te-unrecognised" if "infer" in str(exc) else
                                  "lora-load-failed", "degraded",
                                  f"LoRA {lp.name!r} could not be loaded: "
                                  f"{str(exc).splitlines()[0]}"))
            continue
        loaded_loras.append(adapter)
        names.append(adapter)
        w = {"unet": lp.unet_weight, "text_encoder": lp.te_weight}
        if plan.base == "sdxl":
            w["text_encoder_2"] = lp.te_weight
        weights.append(w)
    if names:
        pipe.set_adapters(names, adapter_weights=weights)
    pairs = encoders(pipe)
    emb_ids: list[dict[str, list[int]]] = [{} for _ in pairs]
    for ep in plan.embeddings:
        try:
            _load_embedding(pipe, ep.path, ep.name, pairs)
        except Exception as exc:  # unknown embedding layouts raise ValueError/KeyError
            devs.append(Deviation("missing-embedding", "degraded",
                                  f"embedding {ep.name!r} could not be loaded: "
                                  f"{str(exc).splitlines()[0]}"))
            continue
        loaded_ti.append(ep.name)
        for ids, (tok, _te) in zip(emb_ids, pairs, strict=True):
            toks = [ep.name]
            i = 1
            while f"{ep.name}_{i}" in tok.get_vocab():
                toks.append(f"{ep.name}_{i}")
                i += 1
            ids[ep.name] = tok.convert_tokens_to_ids(toks)

    cond, uncond = pair(pipe, plan.prompt, plan.negative, emb_ids, devs, pad_conds(plan.params))
    sched = _scheduler(plan.scheduler)
    pipe.scheduler = sched
    noise = _noise(plan.noise, device)
    latents = torch.from_numpy(noise.first() * np.float32(plan.scheduler.latent_scale))
    latents = latents[None].to(device=device, dtype=tdtype)
    total = plan.steps + (plan.hires.steps if plan.hires else 0)

    def callback(offset: int) -> Callable[..., dict]:
        def cb(_pipe: Any, step: int, _t: Any, kwargs: dict) -> dict:
            if progress:
                progress(offset + step + 1, total)
            return kwargs
        return cb

    extra: dict[str, Any] = {}
    if plan.scheduler.eta is not None:
        extra["eta"] = plan.scheduler.eta
    step_noise = noise if plan.noise.step_noise == "generator" else None
    with _step_noise(sched, step_noise):
        out = pipe(
            **cond_kwargs(cond, uncond, plan.size_cond), latents=latents,
            num_inference_steps=plan.steps, guidance_scale=plan.cfg_scale,
            height=plan.height, width=plan.width,
            output_type="latent" if plan.hires else "np",
            callback_on_step_end=callback(0), **extra,
        ).images
    if plan.hires is None:
        return Image.fromarray(_to_uint8(out[0]))
    return _hires(plan, pipe, out, device, tdtype, devs, emb_ids, cond, uncond, callback)


def _load_embedding(pipe: Any, path: str, name: str, pairs: list[tuple[Any, Any]]) -> None:
    """SD 1.x: diffusers reads A1111's layouts itself. SDXL: the file holds `clip_l` and
    `clip_g`, one per text encoder (read with gendata's own TI reader)."""
    if len(pairs) == 1:
        pipe.load_textual_inversion(path, token=name)
        return
    torch, _ = require()
    from .. import ti

    emb = ti.read_embedding(path)
    if not emb.is_sdxl:
        raise ValueError(f"{emb.shape_text()}: an SD 1.x/2.x embedding cannot condition "
                         "SDXL's two text encoders")
    arrays = emb.arrays
    for key, (tok, te) in zip(("clip_l", "clip_g"), pairs, strict=True):
        vec = torch.from_numpy(np.array(arrays[key], dtype=np.float32))
        pipe.load_textual_inversion({"emb_params": vec}, token=name, tokenizer=tok,
                                    text_encoder=te)


def _decode(pipe: Any, latents: Any) -> Any:
    """VAE decode to a PIL image, in float32 where the VAE asks for it (SDXL's VAE
    overflows in fp16: force_upcast)."""
    torch, _ = require()
    from PIL import Image

    vae = pipe.vae
    dtype = vae.dtype
    upcast = dtype == torch.float16 and getattr(vae.config, "force_upcast", False)
    if upcast:
        vae.to(torch.float32)
    try:
        z = (latents / vae.config.scaling_factor).to(vae.dtype)
        dec = vae.decode(z).sample
    finally:
        if upcast:
            vae.to(dtype)
    return Image.fromarray(_to_uint8((dec[0].float().permute(1, 2, 0).cpu().numpy() + 1) / 2))


def _hires(plan: RegenPlan, pipe: Any, latents: Any, device: str, tdtype: Any,
           devs: list[Deviation], emb_ids: list[dict[str, list[int]]], cond: Any,
           uncond: Any, callback: Callable[[int], Any]) -> Any:
    """txt2img -> upscale -> img2img with A1111's step arithmetic
    (docs/regen.md#how-a1111-is-matched)."""
    torch, diffusers = require()
    from PIL import Image

    hp = plan.hires
    assert hp is not None
    if hp.mode == "latent":
        image: Any = torch.nn.functional.interpolate(
            latents.float(), size=(hp.height // 8, hp.width // 8), mode=hp.interpolation,
            antialias=hp.antialias).to(tdtype)
    else:
        resample = Image.Resampling.NEAREST if hp.interpolation == "nearest" else \
            Image.Resampling.LANCZOS
        image = _decode(pipe, latents).resize((hp.width, hp.height), resample)
    if hp.denoise <= 0 or hp.total_steps <= 0:
        return _decode(pipe, image) if hp.mode == "latent" else image
    if hp.prompt is not plan.prompt or hp.negative is not plan.negative:
        cond, uncond = pair(pipe, hp.prompt, hp.negative, emb_ids, devs, pad_conds(plan.params))
    sched = _scheduler(hp.scheduler)
    i2i_cls = (diffusers.StableDiffusionXLImg2ImgPipeline if plan.base == "sdxl" else
               diffusers.StableDiffusionImg2ImgPipeline)
    i2i = i2i_cls(**pipe.components)
    i2i.set_progress_bar_config(disable=True)
    i2i.scheduler = sched
    noise = _noise(hp.noise, device)
    first = torch.from_numpy(noise.first())[None]
    orig_add_noise = sched.add_noise

    def add_noise(original: Any, _noise: Any, timesteps: Any) -> Any:
        return orig_add_noise(original, first.to(device=original.device, dtype=original.dtype),
                              timesteps)

    sched.add_noise = add_noise
    step_noise = noise if hp.noise.step_noise == "generator" else None
    gen = torch.Generator("cpu").manual_seed(plan.noise.seed)
    with _step_noise(sched, step_noise):
        out = i2i(
            image=image, **cond_kwargs(cond, uncond, hp.size_cond),
            strength=hp.strength, num_inference_steps=hp.total_steps,
            guidance_scale=hp.cfg_scale, output_type="np", generator=gen,
            callback_on_step_end=callback(plan.steps),
        ).images
    return Image.fromarray(_to_uint8(out[0]))
