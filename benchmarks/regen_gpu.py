"""GPU check for `gendata regen` (docs/regen.md, "Verification").

On CUDA: tiny-pipeline determinism, the NV Philox emulation against torch.randn(device="cuda")
for latent shapes (4,64,64), (4,96,64), (4,128,128), and regen's wall time against a bare
diffusers call with the same inputs (target: overhead <= 5%). Without CUDA it runs the same
checks that can run on the CPU and says which were skipped.

    python benchmarks/regen_gpu.py [--steps 20] [--size 512] [--repeats 5] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "regen"))

SHAPES = [(4, 64, 64), (4, 96, 64), (4, 128, 128)]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()

    import tiny
    import torch

    from gendata.model import GenParams
    from gendata.regen import RegenOptions, plan, run
    from gendata.regen.nvrng import PhiloxNV
    from gendata.regen.runner import _load

    cuda = torch.cuda.is_available()
    device = "cuda" if cuda else "cpu"
    if not cuda:
        torch.set_num_threads(1)
    results: dict = {"device": torch.cuda.get_device_name() if cuda else "cpu",
                     "torch": torch.__version__, "checks": {}}
    checks = results["checks"]

    # 1. NV emulation vs CUDA torch.randn
    if cuda:
        for shape in SHAPES:
            for seed in (0, 1234, 2**32 + 5):
                g = torch.Generator("cuda").manual_seed(seed)
                ref = torch.randn(shape, generator=g, device="cuda").cpu().numpy()
                emu = PhiloxNV(seed).randn(shape)
                diff = float(np.abs(ref - emu).max())
                checks[f"nv_vs_cuda_{shape}_{seed}"] = {"max_abs": diff, "ok": diff < 1e-5}
    else:
        doc = np.array([[-0.92466259, -0.42534415, -2.6438457, 0.14518388],
                        [-0.12086647, -0.57972564, -0.62285122, -0.32838709],
                        [-1.07454231, -0.36314407, -1.67105067, 2.26550497]])
        diff = float(np.abs(PhiloxNV(0).randn((3, 4)) - doc).max())
        checks["nv_vs_documented_cuda_values"] = {"max_abs": diff, "ok": diff < 1e-6}
        checks["nv_vs_cuda_shapes"] = {"skipped": "no CUDA device"}

    with tempfile.TemporaryDirectory() as tmp:
        folder = tiny.build_pipeline(Path(tmp) / "tiny")
        params = GenParams(prompt="a red cat, dog", negative_prompt="ugly", steps=args.steps,
                           sampler="Euler a", cfg_scale=7, seed=42, width=args.size,
                           height=args.size, extra={"RNG": "NV"})
        p = plan(params, RegenOptions(model=str(folder), device=device))

        # 2. determinism
        a = np.asarray(run(p).image)
        b = np.asarray(run(p).image)
        checks["determinism"] = {"identical": bool(np.array_equal(a, b)), "ok":
                                 bool(np.array_equal(a, b))}

        # 3. overhead vs a bare diffusers call with the same scheduler, steps and size
        pipe = _load(p, device, torch.float16 if cuda else torch.float32)
        dtype = pipe.unet.dtype

        def bare() -> None:
            g = torch.Generator("cpu").manual_seed(42)
            pipe(prompt="a red cat, dog", negative_prompt="ugly", num_inference_steps=args.steps,
                 guidance_scale=7, height=args.size, width=args.size, generator=g,
                 output_type="np")
            if cuda:
                torch.cuda.synchronize()

        def ours() -> None:
            run(p)
            if cuda:
                torch.cuda.synchronize()

        bare()
        ours()
        tb, to = [], []
        for _ in range(args.repeats):
            t = time.perf_counter()
            bare()
            tb.append(time.perf_counter() - t)
            t = time.perf_counter()
            ours()
            to.append(time.perf_counter() - t)
        mb, mo = statistics.median(tb), statistics.median(to)
        overhead = (mo - mb) / mb
        checks["overhead"] = {"bare_s": round(mb, 4), "regen_s": round(mo, 4),
                              "overhead": round(overhead, 4), "ok": overhead <= 0.05,
                              "steps": args.steps, "size": args.size, "dtype": str(dtype)}

    print(json.dumps(results, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    failed = [k for k, v in checks.items() if v.get("ok") is False]
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
