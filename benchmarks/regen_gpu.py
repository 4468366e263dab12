"""GPU verification of `gendata regen` (docs/regen.md, "GPU verification").

On a CUDA machine, in one call of a few minutes:

    python benchmarks/regen_gpu.py --json OUT.json --budget-s 360

- nv_noise: the NV emulation (nvrng.PhiloxNV) against torch.randn(device="cuda") for latents
  4x64x64, 4x96x96 and 4x128x128, seeds 0, 1, 2^32-1 and a fixed random dozen, first and second
  draw (the second is where ancestral samplers' step noise comes from); A1111's float64
  Box-Muller and a float32 one; and a latent larger than the card's thread count, against
  PhiloxNV(threads=the card's count).
- nv_variation: regen's own noise (variation seed, Seed resize from, ENSD, step draws) with
  the CUDA generator against the emulation.
- determinism: the tiny pipeline (tests/regen/tiny.py) in fp32 and fp16, twice in a process
  and in two processes, by default and with torch.use_deterministic_algorithms(True) and
  CUBLAS_WORKSPACE_CONFIG; the cost of deterministic mode on an SD 1.5-shaped model.
- overhead: regen against a bare diffusers call with the same scheduler, steps and seed, median
  of 5, at 512² and 1024², on SD 1.5's architecture with random weights (fp16), and the peak GPU
  memory of both.

`--cpu-smoke` runs every section at toy sizes on the CPU, for CI: the CUDA-only checks are
marked "skipped: no CUDA", and the JSON (`device_kind: "cpu"`) never goes to
docs/regen-gpu.json. `--budget-s` stops measuring at that wall time and writes what it has;
the JSON is rewritten after every section, so a killed run leaves its results too.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "regen")]
DOC_JSON = ROOT / "docs" / "regen-gpu.json"
PROMPT, NEGATIVE = "a (red:1.2) cat, dog, [blue] sky", "ugly, blurry"

from regen_gpu_noise import BUDGET, NO_CUDA, card_threads, nv_noise, nv_variation  # noqa: E402


class Session:
    """The results, the budget, and the JSON file rewritten after every section."""

    def __init__(self, args: argparse.Namespace, out: Path) -> None:
        self.args, self.out, self.t0 = args, out, time.monotonic()
        self.cuda = not args.cpu_smoke
        self.device = "cuda" if self.cuda else "cpu"
        self.results: dict[str, Any] = {
            "device_kind": self.device, "complete": False,
            "command": shlex.join([sys.executable, *sys.argv]), "budget_s": args.budget_s,
        }

    def left(self) -> float:
        return self.args.budget_s - (time.monotonic() - self.t0)

    def section(self, name: str, fn: Callable[[], Any], always: bool = False) -> None:
        if self.left() <= 0 and not always:
            self.results[name] = BUDGET
        else:
            started = time.monotonic()
            try:
                self.results[name] = fn()
            except Exception as exc:  # a broken section must not lose the others
                self.results[name] = {"error": f"{type(exc).__name__}: {exc}",
                                      "traceback": traceback.format_exc()[-4000:]}
            if isinstance(self.results[name], dict):
                self.results[name]["seconds"] = round(time.monotonic() - started, 2)
        self.write()

    def write(self) -> None:
        self.results.update(summary(self.results))
        self.results["complete"] = not _gaps(self.results)
        self.results["wall_s"] = round(time.monotonic() - self.t0, 2)
        tmp = self.out.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.results, indent=1, default=str) + "\n")
        tmp.replace(self.out)


def _gaps(node: Any) -> bool:
    """Whether anything was skipped or failed: the run is complete only without either."""
    if isinstance(node, str):
        return node.startswith("skipped")
    if isinstance(node, dict):
        return "error" in node or any(_gaps(v) for v in node.values())
    if isinstance(node, list):
        return any(_gaps(v) for v in node)
    return False


def environment(s: Session) -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version

    env: dict[str, Any] = {"python": sys.version.split()[0], "platform": sys.platform}
    for pkg in ("torch", "diffusers", "transformers", "numpy", "safetensors"):
        try:
            env[pkg] = version(pkg)
        except PackageNotFoundError:
            env[pkg] = None
    if not s.cuda:
        return env
    import torch

    p = torch.cuda.get_device_properties(0)
    env.update(gpu=p.name, cuda=torch.version.cuda, cudnn=torch.backends.cudnn.version(),
               capability=f"{p.major}.{p.minor}", sms=p.multi_processor_count,
               threads_per_sm=p.max_threads_per_multi_processor, wave_threads=card_threads(s),
               memory_mib=p.total_memory // 2**20)
    try:
        env["driver"] = subprocess.run(
            ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
            capture_output=True, text=True, timeout=20).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        env["driver"] = None
    return env


def build_sd15_shaped(folder: Path, device: str, toy: bool) -> Path:
    """SD 1.5's architecture with random weights (or a toy of it), so a run costs what a real
    model costs without weights to download; saved in fp16 like a user's model folder."""
    import tiny
    import torch
    from diffusers import (
        AutoencoderKL,
        PNDMScheduler,
        StableDiffusionPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    torch.manual_seed(0)
    tiny.write_tokenizer(folder / "_tok")
    tok = CLIPTokenizer.from_pretrained(folder / "_tok")
    hidden, layers = (32, 2) if toy else (768, 12)
    unet_ch = (32, 32, 64, 64) if toy else (320, 640, 1280, 1280)
    vae_ch = (32, 32, 32, 32) if toy else (128, 256, 512, 512)
    with torch.device(device):
        te = CLIPTextModel(CLIPTextConfig(
            vocab_size=len(tok), hidden_size=hidden, intermediate_size=4 * hidden,
            num_hidden_layers=layers, num_attention_heads=4 if toy else 12,
            max_position_embeddings=77, bos_token_id=tok.bos_token_id,
            eos_token_id=tok.eos_token_id, pad_token_id=tok.eos_token_id,
            projection_dim=hidden))
        unet = UNet2DConditionModel(sample_size=64, block_out_channels=unet_ch,
                                    layers_per_block=1 if toy else 2,
                                    cross_attention_dim=hidden)
        vae = AutoencoderKL(block_out_channels=vae_ch, layers_per_block=1 if toy else 2,
                            down_block_types=("DownEncoderBlock2D",) * 4,
                            up_block_types=("UpDecoderBlock2D",) * 4, latent_channels=4,
                            sample_size=512)
    sched = PNDMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                          skip_prk_steps=True, steps_offset=1, set_alpha_to_one=False)
    pipe = StableDiffusionPipeline(vae=vae, text_encoder=te, tokenizer=tok, unet=unet,
                                   scheduler=sched, safety_checker=None, feature_extractor=None,
                                   requires_safety_checker=False)
    pipe.to("cpu", torch.float16 if device == "cuda" else torch.float32)
    pipe.save_pretrained(folder)
    return folder


def regen_plan(model: Path, size: int, steps: int, device: str) -> Any:
    from gendata.model import GenParams
    from gendata.regen import RegenOptions, plan

    params = GenParams(prompt=PROMPT, negative_prompt=NEGATIVE, steps=steps, sampler="Euler a",
                       cfg_scale=7, seed=1234, width=size, height=size,
                       extra={"ENSD": "31337"})
    return plan(params, RegenOptions(model=str(model), device=device))


def regen_once(p: Any, dtype: str) -> dict[str, Any]:
    """One regen run: the sha256 of its float output (before the 8-bit cut) and pixels."""
    import gendata.regen.runner as runner
    from gendata.regen import run

    seen: list[np.ndarray] = []
    cut = runner._to_uint8

    def capture(arr: np.ndarray) -> np.ndarray:
        seen.append(np.ascontiguousarray(arr))
        return cut(arr)

    runner._to_uint8 = capture
    t = time.perf_counter()
    try:
        result = run(p, dtype=dtype)
        _sync(p.device)
    finally:
        runner._to_uint8 = cut
    return {"float_sha256": hashlib.sha256(seen[-1].tobytes()).hexdigest()[:16],
            "pixels_sha256": hashlib.sha256(np.asarray(result.image).tobytes()).hexdigest()[:16],
            "seconds": round(time.perf_counter() - t, 4),
            "deviations": [d.code for d in result.report.deviations]}


def _sync(device: str) -> None:
    if device == "cuda":
        import torch

        torch.cuda.synchronize()


def _guarded(torch: Any, fn: Callable[[], Any]) -> tuple[Any, str | None]:
    """fn(), and in deterministic mode the op that has no deterministic kernel, if one stops it
    (then fn() again with warnings only, to see whether the result repeats anyway)."""
    try:
        return fn(), None
    except RuntimeError as exc:
        if not torch.are_deterministic_algorithms_enabled():
            raise
        torch.use_deterministic_algorithms(True, warn_only=True)
        try:
            return fn(), str(exc).splitlines()[0]
        finally:
            torch.use_deterministic_algorithms(True)


def child(spec: dict[str, Any]) -> dict[str, Any]:
    """One process of the determinism check: each mode and dtype run twice, plus the cost of
    the mode on the SD 1.5-shaped model when asked."""
    import torch

    out: dict[str, Any] = {}
    for mode in spec["modes"]:
        det = mode == "deterministic"
        torch.use_deterministic_algorithms(det)
        torch.backends.cudnn.deterministic = det
        torch.backends.cudnn.benchmark = False
        res: dict[str, Any] = {}
        p = regen_plan(Path(spec["tiny"]), spec["size"], spec["steps"], spec["device"])
        for dtype in spec["dtypes"]:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                runs, op = _guarded(torch, lambda d=dtype, p=p: [regen_once(p, d),
                                                                 regen_once(p, d)])
            res[dtype] = {"runs": runs, "nondeterministic_op": op, "warnings": sorted({
                str(w.message).splitlines()[0] for w in caught if "determinis" in str(w.message)}),
                "rerun_identical": runs[0]["float_sha256"] == runs[1]["float_sha256"]}
        if spec.get("cost_model"):
            cp = regen_plan(Path(spec["cost_model"]), spec["cost_size"], spec["steps"],
                            spec["device"])
            dtype = spec["dtypes"][-1]
            times, op = _guarded(torch, lambda d=dtype, cp=cp: [
                regen_once(cp, d)["seconds"] for _ in range(spec["cost_repeats"] + 1)][1:])
            res["cost_s"], res["cost_nondeterministic_op"] = statistics.median(times), op
        out[mode] = res
    return out


def spawn(s: Session, spec: dict[str, Any]) -> dict[str, Any]:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    if "deterministic" in spec["modes"] and s.cuda:
        env["CUBLAS_WORKSPACE_CONFIG"] = ":4096:8"
    try:
        proc = subprocess.run([sys.executable, __file__, "--child", json.dumps(spec)],
                              capture_output=True, text=True, env=env,
                              timeout=max(1.0, min(s.left(), 300)))
    except subprocess.TimeoutExpired:
        return {m: BUDGET for m in spec["modes"]}
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    return {"error": f"child exited {proc.returncode}: {proc.stderr[-2000:]}"}


def determinism(s: Session, tiny_model: Path, cost_model: Path) -> dict[str, Any]:
    """Two processes per mode on CUDA; in the smoke run one child runs both modes and this
    process is the second for the default mode."""
    a = s.args
    spec = {"tiny": str(tiny_model), "size": a.det_size, "steps": a.steps,
            "device": s.device, "dtypes": ["fp32", "fp16"] if s.cuda else ["fp32"],
            "cost_model": str(cost_model), "cost_size": a.sizes[0], "cost_repeats": a.repeats}
    if s.cuda:
        procs = [spawn(s, {**spec, "modes": [m], "cost_model": None if i else str(cost_model)})
                 for m in ("default", "deterministic") for i in range(2)]
    else:
        procs = [spawn(s, {**spec, "modes": ["default", "deterministic"]}),
                 child({**spec, "modes": ["default"], "cost_model": None})]
    out: dict[str, Any] = {"processes": procs}
    for mode in ("default", "deterministic"):
        seen = [p[mode] for p in procs if isinstance(p.get(mode), dict)]
        res: dict[str, Any] = {}
        for dtype in spec["dtypes"]:
            runs = [r[dtype] for r in seen if "runs" in r.get(dtype, {})]
            hashes = {r["runs"][0]["float_sha256"] for r in runs}
            res[dtype] = {
                "rerun_identical": bool(runs) and all(r["rerun_identical"] for r in runs),
                "processes_identical": (len(hashes) == 1 if len(runs) >= 2 else
                                        "skipped: one process ran"),
                "nondeterministic_ops": sorted({r["nondeterministic_op"] for r in runs
                                                if r["nondeterministic_op"]}),
                "warnings": sorted({w for r in runs for w in r["warnings"]})}
        costs = [p["cost_s"] for p in seen if "cost_s" in p]
        res["cost_s"] = costs[0] if costs else None
        out[mode] = res
    d, n = out["deterministic"]["cost_s"], out["default"]["cost_s"]
    out["deterministic_cost_pct"] = round((d - n) / n * 100, 2) if d and n else None
    if not s.cuda:
        out["fp16"] = NO_CUDA
    return out


def overhead(s: Session, model: Path) -> dict[str, Any]:
    """regen against the pipeline called as a user of diffusers would: the same weights, the
    plan's scheduler class and config, steps, seed, CFG and size; interleaved, median."""
    import diffusers
    import torch

    from gendata.regen import run
    from gendata.regen.runner import _load

    dtype = "fp16" if s.cuda else "fp32"
    tdtype = torch.float16 if s.cuda else torch.float32
    out: dict[str, Any] = {"dtype": dtype, "steps": s.args.steps, "repeats": s.args.repeats}
    for size in s.args.sizes:
        if s.left() <= 0:
            out[str(size)] = BUDGET
            continue
        p = regen_plan(model, size, s.args.steps, s.device)
        pipe = _load(p, s.device, tdtype)

        def bare(p: Any = p, pipe: Any = pipe, size: int = size) -> None:
            pipe.scheduler = getattr(diffusers, p.scheduler.cls).from_config(p.scheduler.config)
            g = torch.Generator(s.device).manual_seed(p.noise.seed)
            pipe(prompt=PROMPT, negative_prompt=NEGATIVE, num_inference_steps=s.args.steps,
                 guidance_scale=7, height=size, width=size, generator=g, output_type="np")
            _sync(s.device)

        def ours(p: Any = p) -> None:
            run(p, dtype=dtype)
            _sync(s.device)

        peaks = {}
        for name, fn in (("bare", bare), ("regen", ours)):
            if s.cuda:
                torch.cuda.reset_peak_memory_stats()
            fn()  # warm-up, and the peak memory of one run
            peaks[name] = (round(torch.cuda.max_memory_allocated() / 2**20, 1) if s.cuda
                           else NO_CUDA)
        tb: list[float] = []
        to: list[float] = []
        for _ in range(s.args.repeats):
            for fn, acc in ((bare, tb), (ours, to)):
                t = time.perf_counter()
                fn()
                acc.append(time.perf_counter() - t)
        mb, mo = statistics.median(tb), statistics.median(to)
        out[str(size)] = {"bare_s": round(mb, 4), "regen_s": round(mo, 4),
                          "overhead_pct": round((mo - mb) / mb * 100, 2),
                          "bare_runs_s": [round(t, 4) for t in tb],
                          "regen_runs_s": [round(t, 4) for t in to],
                          "peak_mib": peaks}
    return out


def summary(r: dict[str, Any]) -> dict[str, Any]:
    """The headline numbers of docs/regen.md's table, from the sections run so far."""
    keys = ("nv_vs_cuda_max_abs_diff", "nv_vs_cuda_values_differing", "nv_wave_max_abs_diff",
            "nv_variation_max_abs_diff", "rerun_bit_identical", "rerun_bit_identical_by_mode",
            "deterministic_cost_pct", "overhead_pct", "peak_gpu_memory_mib")
    out: dict[str, Any] = dict.fromkeys(keys, NO_CUDA)
    if r.get("device_kind") != "cuda":
        return out
    nv, var, det, ov = (r.get(k) for k in ("nv_noise", "nv_variation", "determinism", "overhead"))
    if isinstance(nv, dict) and "rows" in nv:
        out["nv_vs_cuda_max_abs_diff"] = nv["max_abs_diff"]
        out["nv_vs_cuda_values_differing"] = nv["values_differing"]
        waves = [w["threads_first"]["max_abs"] for w in nv["wave"] if isinstance(w, dict)]
        out["nv_wave_max_abs_diff"] = max(waves, default=None)
    if isinstance(var, dict):
        out["nv_variation_max_abs_diff"] = max(
            (v["max_abs"] for v in var.values() if isinstance(v, dict) and "max_abs" in v),
            default=None)
    if isinstance(det, dict) and isinstance(det.get("default"), dict):
        by_mode = {m: {d: det[m][d]["rerun_identical"] and det[m][d]["processes_identical"]
                       is True for d in ("fp32", "fp16") if isinstance(det[m].get(d), dict)}
                   for m in ("default", "deterministic") if isinstance(det.get(m), dict)}
        out["rerun_bit_identical"] = by_mode["default"].get("fp32")
        out["rerun_bit_identical_by_mode"] = by_mode
        out["deterministic_cost_pct"] = det.get("deterministic_cost_pct")
    if isinstance(ov, dict):
        rows = {k: v for k, v in ov.items() if isinstance(v, dict) and "overhead_pct" in v}
        out["overhead_pct"] = max((v["overhead_pct"] for v in rows.values()), default=None)
        out["peak_gpu_memory_mib"] = {k: v["peak_mib"] for k, v in rows.items()}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", type=Path, default=None,
                    help="output file (on CUDA default docs/regen-gpu.json)")
    ap.add_argument("--cpu-smoke", action="store_true",
                    help="toy sizes on the CPU, one repeat; CUDA-only checks are skipped")
    ap.add_argument("--budget-s", type=float, default=480.0,
                    help="stop measuring after this many seconds and write what was measured")
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--repeats", type=int, default=None)
    ap.add_argument("--sizes", type=int, nargs="+", default=None)
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        print("RESULT " + json.dumps(child(json.loads(args.child))), flush=True)
        return 0
    smoke = args.cpu_smoke
    args.steps = args.steps or (2 if smoke else 20)
    args.repeats = args.repeats or (1 if smoke else 5)
    args.sizes = args.sizes or ([64] if smoke else [512, 1024])
    args.det_size = 64 if smoke else 512
    out = args.json
    if smoke and out is not None and out.resolve() == DOC_JSON.resolve():
        print(f"a CPU run never writes {DOC_JSON.relative_to(ROOT)}: pass another --json",
              file=sys.stderr)
        return 2
    if out is None:
        out = Path(tempfile.gettempdir()) / "regen-gpu-cpu-smoke.json" if smoke else DOC_JSON
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if smoke:
        os.environ.setdefault("OMP_NUM_THREADS", "1")
    s = Session(args, out)
    if not smoke:
        import torch

        if not torch.cuda.is_available():
            print("no CUDA device: run with --cpu-smoke on a CPU", file=sys.stderr)
            return 2
    s.section("environment", lambda: environment(s), always=True)
    for key in ("gpu", "torch", "cuda"):
        s.results[key] = s.results["environment"].get(key) if isinstance(
            s.results["environment"], dict) else None
    s.section("nv_noise", lambda: nv_noise(s))
    s.section("nv_variation", lambda: nv_variation(s))
    with tempfile.TemporaryDirectory() as tmp:
        models: dict[str, Path] = {}

        def build() -> dict[str, Any]:
            import tiny
            import torch

            if smoke:
                torch.set_num_threads(1)
            models["tiny"] = tiny.build_pipeline(Path(tmp) / "tiny")
            models["sd15"] = build_sd15_shaped(Path(tmp) / "sd15", s.device, toy=smoke)
            return {"sd15_shaped": "toy" if smoke else "SD 1.5 architecture, random weights"}

        s.section("models", build)
        ready = len(models) == 2
        s.section("overhead", lambda: overhead(s, models["sd15"]) if ready else BUDGET)
        s.section("determinism", lambda: determinism(s, models["tiny"], models["sd15"])
                  if ready else BUDGET)
    s.write()
    print(json.dumps({k: v for k, v in s.results.items() if not isinstance(v, dict)}, indent=1))
    print(f"wrote {out}")
    failed = [k for k, v in s.results.items() if isinstance(v, dict) and "error" in v]
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
