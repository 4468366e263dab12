"""Front end: `gendata regen` — plan, run and report a diffusers reproduction (docs/regen.md).

Exit codes: 0 image written (whatever its fidelity; the report says how close), 1 refused
(unknown sampler, missing model or seed, `--strict` with deviations), bad input, or a run
error, 2 usage.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from .. import api
from ..errors import GenDataError, UsageError
from ..model import GenParams
from ._common import error

OVERRIDES = [
    ("steps", "steps", int), ("seed", "seed", int), ("cfg", "cfg_scale", float),
    ("sampler", "sampler", str), ("scheduler", "scheduler", str), ("width", "width", int),
    ("height", "height", int), ("denoise", "denoising_strength", float),
    ("clip-skip", "clip_skip", int), ("prompt", "prompt", str),
    ("negative", "negative_prompt", str),
]


def _overrides(f: Any) -> Any:
    for opt, field, typ in reversed(OVERRIDES):
        f = click.option(f"--{opt}", opt.replace("-", "_"), type=typ, default=None,
                         help=f"Override {field}.")(f)
    return f


def _fmt_sigmas(sig: list[float] | None) -> str:
    if not sig:
        return "-"
    vals = [f"{s:.4f}" for s in sig]
    if len(vals) > 12:
        vals = [*vals[:6], "...", *vals[-4:]]
    return f"[{', '.join(vals)}] ({len(sig) - 1} steps)"


def _print_plan(d: dict[str, Any]) -> None:
    s, n = d["scheduler"], d["noise"]
    echo = click.echo
    echo(f"model      {d['model'] or '-'} ({d['model_kind'] or 'not given'}, {d['base']})")
    echo(f"size       {d['width']}x{d['height']}, steps {d['steps']}, cfg {d['cfg_scale']}")
    echo(f"sampler    {s['sampler']} / {s['schedule']} -> {s['cls'] or '-'}")
    cfg = {k: v for k, v in s["config"].items()
           if k in ("timestep_spacing", "steps_offset") or k.startswith(("use_", "algorithm",
                                                                            "solver", "noise",
                                                                            "skip"))}
    echo(f"  config   {json.dumps(cfg)}")
    echo(f"  sigmas   {_fmt_sigmas(s['sigmas'])}"
         + ("  (imposed exactly)" if s["custom_sigmas"] else ""))
    if s["latent_scale"] != 1.0:
        echo(f"  latents  noise x {s['latent_scale']:.5f}")
    var = (f", variation seed {n['subseed']} @ {n['subseed_strength']}"
           if n["subseed"] is not None else "")
    echo(f"noise      seed {n['seed']}{var}, RNG {n['source']} via {n['generator']}, "
         f"shape {tuple(n['shape'])}"
         + (f", resized from {n['resize_from']}" if n["resize_from"] else ""))
    echo(f"  steps    noise during sampling: {n['step_noise']}"
         + (f" (seed {n['step_seed']}, ENSD {n['ensd']})" if n["ensd"] else ""))
    for label, key in (("prompt", "prompt"), ("negative", "negative")):
        pp = d[key]
        pieces = " | ".join("BREAK" if w == -1 else f"{t!r}:{w:.3g}" for t, w in pp["pieces"])
        norm = "" if pp.get("final_norm", True) else " (no final norm)"
        echo(f"{label:<10} clip skip {pp['clip_skip']}{norm}, emphasis {pp['emphasis']}: "
             f"{pieces}")
    if d.get("size_cond"):
        sc = d["size_cond"]
        echo(f"sdxl       original {sc['original']}, crop {sc['crop']}, target {sc['target']} "
             "(height, width)")
    for lo in d["loras"]:
        echo(f"lora       {lo['name']} te {lo['te_weight']} unet {lo['unet_weight']} "
             f"<- {lo['path']}")
    for e in d["embeddings"]:
        echo(f"embedding  {e['name']} <- {e['path']}")
    if d["hires"]:
        h = d["hires"]
        echo(f"hires      {h['width']}x{h['height']} via {h['upscaler']} ({h['mode']}), "
             f"{h['steps']} steps of a {h['total_steps']}-step schedule "
             f"(denoise {h['denoise']}, strength {h['strength']:.4f}), cfg {h['cfg_scale']}, "
             f"{h['scheduler']['sampler']} -> {h['scheduler']['cls']}")
    for note in d["notes"]:
        echo(f"note       {note}")
    _print_deviations(d["fidelity"], d["deviations"])


def _print_deviations(fidelity: str, devs: list[dict[str, Any]]) -> None:
    click.echo(f"fidelity   {fidelity}")
    for dv in devs:
        click.echo(f"  [{dv['severity']}] {dv['code']}: {dv['message']}")


def _source_infotext(rec: api.Record, params: GenParams, changed: bool) -> str:
    if not changed and rec.raw is not None:
        text = rec.raw.text("parameters")
        if text:
            return text
    return api.dump_a1111(params)


@click.command("regen")
@click.argument("image", type=click.Path(dir_okay=False))
@click.option("--model", type=click.Path(), default=None,
              help="Diffusers folder or single-file .safetensors checkpoint.")
@click.option("--config", type=click.Path(file_okay=False), default=None,
              help="Diffusers folder with the configs for a single-file checkpoint (offline).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Output PNG (default: IMAGE's name + .regen.png).")
@click.option("--device", type=click.Choice(["auto", "cuda", "mps", "cpu"]), default="auto")
@click.option("--dtype", type=click.Choice(["fp16", "fp32"]), default=None,
              help="Default: fp16 on CUDA, fp32 elsewhere.")
@click.option("--lora-dir", type=click.Path(file_okay=False), default=None)
@click.option("--embeddings-dir", type=click.Path(file_okay=False), default=None)
@click.option("--rng", type=click.Choice(["CPU", "GPU", "NV"], case_sensitive=False),
              default=None, help="Override the image's RNG source.")
@_overrides
@click.option("--dry-run", is_flag=True, help="Print the plan; import no torch, write nothing.")
@click.option("--json", "as_json", is_flag=True, help="With --dry-run: the plan as JSON.")
@click.option("--strict", is_flag=True, help="Refuse (exit 1) if anything deviates from A1111.")
@click.option("--compare", is_flag=True,
              help="Print PSNR/SSIM vs the source and write OUTPUT.compare.png.")
@click.option("--no-hash-check", is_flag=True, help="Do not hash the checkpoint.")
def regen(image: str, model: str | None, config: str | None, output: str | None, device: str,
          dtype: str | None, lora_dir: str | None, embeddings_dir: str | None,
          rng: str | None, dry_run: bool, as_json: bool, strict: bool, compare: bool,
          no_hash_check: bool, **over: Any) -> None:
    """Reproduce IMAGE from its generation data with diffusers and report how faithfully."""
    from .. import regen as service

    overrides = {field: over[opt.replace("-", "_")] for opt, field, _ in OVERRIDES
                 if over.get(opt.replace("-", "_")) is not None}
    try:
        rec = api.read(image)
        if rec.params is None:
            raise UsageError(rec.error or f"{image}: no generation parameters found")
        if not dry_run and model is not None and Path(model).exists():
            device = service.resolve_device(device)  # imports torch: decides the RNG path
        opts = service.RegenOptions(model=model, config=config, device=device,
                                    lora_dir=lora_dir, embeddings_dir=embeddings_dir,
                                    overrides=overrides, rng=rng.upper() if rng else None,
                                    check_hash=not no_hash_check)
        plan = service.plan(rec.params, opts)
    except (GenDataError, OSError) as exc:
        error(str(exc))
        sys.exit(1)
    pd = plan.to_dict()
    if dry_run:
        click.echo(json.dumps(pd, indent=2, default=str)) if as_json else _print_plan(pd)
        sys.exit(1 if plan.refused or (strict and plan.deviations) else 0)
    if plan.refused:
        for d in plan.refused:
            error(f"{d.code}: {d.message}")
        sys.exit(1)
    if model is None:
        raise click.UsageError("--model is required (except with --dry-run)")
    if strict and plan.deviations:
        _print_deviations(plan.fidelity, pd["deviations"])
        error(f"--strict: {len(plan.deviations)} deviation(s) from A1111; nothing generated")
        sys.exit(1)
    out = Path(output) if output else Path(image).with_suffix(".regen.png")
    try:
        result = _run_with_progress(service, plan, dtype)
        text = _source_infotext(rec, plan.params, bool(overrides))
        service.save(result, str(out), text)
    except GenDataError as exc:
        error(str(exc))
        sys.exit(1)
    rep = result.report
    click.echo(f"wrote {out} ({rep.device}, {rep.dtype}, {rep.seconds:.1f} s)")
    _print_deviations(rep.fidelity, [vars(d) for d in rep.deviations])
    if compare:
        _compare(image, result.image, out)


def _run_with_progress(service: Any, plan: Any, dtype: str | None) -> Any:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    console = Console(stderr=True)
    with Progress("denoising", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=console, transient=True, disable=not console.is_terminal) as bar:
        task = bar.add_task("steps", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return service.run(plan, progress=progress, dtype=dtype)


def _compare(source_path: str, regen_img: Any, out: Path) -> None:
    from PIL import Image

    from ..regen import compare as cmp

    with Image.open(source_path) as src:
        src.load()
        try:
            c = cmp.compare(src, regen_img)
        except GenDataError as exc:
            error(str(exc))
            sys.exit(1)
        side = out.with_name(out.stem + ".compare.png")
        cmp.side_by_side(src, regen_img).save(side)
    psnr = "inf (identical)" if c.identical else f"{c.psnr:.2f} dB"
    click.echo(f"compare    PSNR {psnr}, SSIM {c.ssim:.4f}, max |diff| {c.max_abs}; "
               f"side by side: {side}")
