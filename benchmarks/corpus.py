"""Build a benchmark library shaped like a Stable Diffusion WebUI output folder (docs/batch.md).

    python benchmarks/corpus.py DIR [--png 3000 --jpeg 1000 --webp 1000] [--seed 1]

What real libraries look like, and this one does:

- PNGs as A1111 saves them: Pillow's encoder with a `PngInfo` holding `parameters` (tEXt, or
  iTXt when the text is not Latin-1: ~15% of prompts here carry Japanese words), so the image
  data comes in Pillow's 64 KiB IDAT chunks; 512x512 to 1024x1024, noisy enough to weigh
  ~2 bytes a pixel (8 to 31 IDAT chunks a file);
- JPEG and WebP as A1111 saves them: Pillow writes the image, then `piexif.insert` adds an
  EXIF block whose UserComment holds the text as `UNICODE\\0` + UTF-16;
- infotexts with what A1111 and its common extensions write: weighted prompts, LoRA tags,
  `BREAK`, multi-line prompts, hires fix, ADetailer (quoted values with commas), `Lora hashes`
  and `TI hashes`, Forge version strings;
- folders by date, as the WebUI files them: `outputs/txt2img-images/2024-03-07/00042-<seed>.png`.

Encoding every picture costs seconds, so a few pictures of each size are encoded once, each
with Pillow and piexif, and every file is that output with its own text in place of the
first file's: the bytes are what Pillow and piexif write for that text, which `build`
checks for a sample by encoding it again from scratch.

`manifest.jsonl` in DIR lists every file with the CSV cells `gendata export -f csv` must give
it (worked out here from the values written, not by gendata), so a benchmark can check that
every row is complete and right.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import struct
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

WORDS = [
    "masterpiece", "best", "quality", "ultra", "detailed", "portrait", "woman", "man", "girl",
    "knight", "wizard", "cat", "fox", "dragon", "castle", "forest", "city", "street", "night",
    "rain", "snow", "sunset", "cinematic", "lighting", "volumetric", "fog", "bokeh", "depth",
    "of", "field", "sharp", "focus", "8k", "photorealistic", "oil", "painting", "watercolor",
    "anime", "illustration", "concept", "art", "trending", "on", "artstation", "intricate",
    "elegant", "highly", "smooth", "golden", "hour", "dramatic", "sky", "reflections", "neon",
    "cyberpunk", "steampunk", "armor", "dress", "hat", "flowers", "looking", "at", "viewer",
    "upper", "body", "full", "close-up", "wide", "shot", "from", "above", "smile", "long",
    "hair"]
JAPANESE = ["猫", "城", "桜", "夜景", "着物", "少女", "雨の街", "紅葉", "富士山"]
SAMPLERS = ["Euler a", "DPM++ 2M", "DPM++ SDE", "DPM++ 2M SDE", "UniPC", "DDIM"]
SCHEDULES = ["Karras", "Automatic", "Exponential", "SGM Uniform"]
MODELS = [("v1-5-pruned-emaonly", "6ce0161689"), ("dreamshaper_8", "879db523c3"),
          ("realisticVisionV60B1_v51VAE", "15012c538f"), ("sd_xl_base_1.0", "31e35c80fc")]
LORAS = [("add_detail", "7c6bad76eb54"), ("foxStyle_v2", "1a2b3c4d5e6f"),
         ("epiNoiseoffset_v2", "d1ccec6f5a6f"), ("more_details", "3b8aa1d351ef")]
EMBEDDINGS = [("easynegative", "c74b4e810b03"), ("bad-hands-5", "aa7651be154c")]
SIZES = [(512, 512), (512, 768), (768, 512), (768, 768), (1024, 1024), (768, 1024)]
VERSIONS = ["v1.10.1", "v1.9.4", "f2.0.1v1.10.1-previous-313-g8a042934"]


@dataclass
class Sample:
    """One file to write: where, which container, its infotext and the CSV cells it must give."""

    relpath: str
    kind: str
    size: tuple[int, int]
    text: str
    cells: dict[str, str] = field(default_factory=dict)


def _num(value: float | int) -> str:
    """A number as gendata's CSV writes it (Python's repr: 7 -> "7", 7.0 -> "7.0")."""
    return repr(value)


def _prompt(rng: random.Random) -> tuple[str, list[tuple[str, float, str]]]:
    words = [rng.choice(WORDS) for _ in range(rng.randint(20, 80))]
    if rng.random() < 0.15:
        for _ in range(rng.randint(1, 3)):
            words[rng.randrange(len(words))] = rng.choice(JAPANESE)
    groups = [" ".join(words[i:i + 3]) for i in range(0, len(words), 3)]
    if rng.random() < 0.4:
        i = rng.randrange(len(groups))
        groups[i] = f"({groups[i]}:{rng.choice([1.1, 1.2, 1.3])})"
    text = ", ".join(groups)
    if rng.random() < 0.15:
        text = text.replace(", ", " BREAK ", 1)
    if rng.random() < 0.1:
        text = text.replace(", ", ",\n", 1)  # multi-line prompts happen
    loras = []
    for name, h in rng.sample(LORAS, rng.choice([0, 0, 1, 1, 2])):
        weight = rng.choice([0.4, 0.6, 0.8, 1])
        loras.append((name, weight, h))
        text += f", <lora:{name}:{weight}>"
    return text, loras


def sample(rng: random.Random, i: int, kind: str, day: str) -> Sample:
    """The i-th file: a random but complete A1111 infotext and the cells it gives."""
    prompt, loras = _prompt(rng)
    embeds = rng.sample(EMBEDDINGS, rng.choice([0, 1, 2]))
    negative = ", ".join([*(e for e, _ in embeds), "(worst quality, low quality:1.4)",
                          "lowres, bad anatomy, bad hands, text, error, missing fingers"])
    w, h = rng.choice(SIZES[:4])
    steps, sampler = rng.randint(20, 40), rng.choice(SAMPLERS)
    schedule, cfg = rng.choice(SCHEDULES), rng.choice([5, 6.5, 7, 8])
    seed = rng.randint(0, 2**32 - 1)
    model, model_hash = rng.choice(MODELS)
    version = rng.choice(VERSIONS)
    entries: list[tuple[str, str]] = [
        ("Steps", str(steps)), ("Sampler", sampler), ("Schedule type", schedule),
        ("CFG scale", str(cfg)), ("Seed", str(seed)), ("Size", f"{w}x{h}"),
        ("Model hash", model_hash), ("Model", model), ("VAE hash", "735e4c3a44"),
        ("VAE", "vae-ft-mse-840000-ema-pruned.safetensors")]
    cells = {
        "container": kind, "generator": "forge" if version.startswith("f") else "a1111",
        "prompt": prompt, "negative_prompt": negative, "steps": _num(steps),
        "sampler": sampler, "scheduler": schedule, "cfg_scale": _num(float(cfg)),
        "seed": _num(seed), "width": _num(w), "height": _num(h), "model": model,
        "model_hash": model_hash, "vae": "vae-ft-mse-840000-ema-pruned.safetensors",
        "vae_hash": "735e4c3a44", "version": version, "error": "", "warnings": "",
        "loras": " ".join(f"<lora:{n}:{_num(float(wt))}>" for n, wt, _ in loras),
        "embeddings": "; ".join(e for e, _ in embeds),
    }
    size = (w, h)
    if rng.random() < 0.3:
        denoise, scale, hsteps = rng.choice([0.3, 0.45, 0.55]), rng.choice([1.5, 2]), 15
        entries += [("Denoising strength", str(denoise)), ("Clip skip", "2"),
                    ("Hires upscale", str(scale)), ("Hires steps", str(hsteps)),
                    ("Hires upscaler", "R-ESRGAN 4x+")]
        cells.update(denoising_strength=_num(denoise), clip_skip="2",
                     hires_upscale=_num(float(scale)), hires_steps=_num(hsteps),
                     hires_upscaler="R-ESRGAN 4x+")
        size = (int(w * scale), int(h * scale)) if w * scale <= 1024 and h * scale <= 1024 \
            else (1024, 1024)
    else:
        entries.append(("Clip skip", "2"))
        cells["clip_skip"] = "2"
    if rng.random() < 0.25:
        ad = [("ADetailer model", "face_yolov8n.pt"),
              ("ADetailer prompt", '"smile, detailed eyes"'),
              ("ADetailer confidence", "0.3"), ("ADetailer dilate erode", "4"),
              ("ADetailer mask blur", "4"), ("ADetailer denoising strength", "0.4"),
              ("ADetailer inpaint only masked", "True"), ("ADetailer inpaint padding", "32"),
              ("ADetailer version", "24.9.0")]
        entries += ad
        for key, value in ad:
            cells[f"extra.{key}"] = value.strip('"')
    if loras:
        value = ", ".join(f"{n}: {hh}" for n, _, hh in loras)
        entries.append(("Lora hashes", f'"{value}"'))
        cells["extra.Lora hashes"] = value
    if embeds:
        value = ", ".join(f"{e}: {hh}" for e, hh in embeds)
        entries.append(("TI hashes", f'"{value}"'))
        cells["extra.TI hashes"] = value
    if rng.random() < 0.5:
        entries.append(("Emphasis", "No norm"))
        cells["extra.Emphasis"] = "No norm"
    entries.append(("Version", version))
    text = (f"{prompt}\nNegative prompt: {negative}\n"
            + ", ".join(f"{k}: {v}" for k, v in entries))
    folder = "txt2img-images" if i % 5 else "img2img-images"
    ext = {"png": "png", "jpeg": "jpg", "webp": "webp"}[kind]
    return Sample(f"outputs/{folder}/{day}/{i:05d}-{seed}.{ext}", kind, size, text, cells)


def _picture(size: tuple[int, int], seed: int) -> Any:
    """A gradient under noise: compresses to ~2 bytes a pixel, as generated images do."""
    import numpy as np
    from PIL import Image

    w, h = size
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([x * 255 // w, y * 255 // h, (x + y) * 255 // (w + h)], -1)
    noisy = np.clip(base + rng.normal(0, 6, (h, w, 3)), 0, 255).astype(np.uint8)
    return Image.fromarray(noisy)


def _pillow_png(picture: Any, text: str) -> bytes:
    """The PNG A1111 saves: `image.save(path, pnginfo=PngInfo with parameters)`."""
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("parameters", text)
    buf = io.BytesIO()
    picture.save(buf, "PNG", pnginfo=info)
    return buf.getvalue()


def _pillow_text_chunk(text: str) -> bytes:
    """The chunk Pillow's `PngInfo.add_text("parameters", text)` writes: tEXt when the text is
    Latin-1, else uncompressed iTXt with empty language and translated keyword."""
    try:
        ctype, data = b"tEXt", b"parameters\0" + text.encode("latin-1")
    except UnicodeEncodeError:
        ctype, data = b"iTXt", b"parameters\0\0\0\0\0" + text.encode("utf-8")
    return struct.pack(">I4s", len(data), ctype) + data + struct.pack(
        ">I", zlib.crc32(data, zlib.crc32(ctype)))


def _exif(text: str) -> bytes:
    """A1111's EXIF: piexif.dump of UserComment = piexif.helper.UserComment.dump(unicode)."""
    import piexif
    import piexif.helper

    return piexif.dump({"Exif": {piexif.ExifIFD.UserComment: piexif.helper.UserComment.dump(
        text, encoding="unicode")}})


def _with_exif(image: bytes, text: str) -> bytes:
    import piexif

    out = io.BytesIO()
    piexif.insert(_exif(text), image, out)
    return out.getvalue()


class _Encoded:
    """One picture encoded once per container; `file(kind, text)` gives a file's bytes."""

    def __init__(self, picture: Any, first_text: str) -> None:
        png = _pillow_png(picture, first_text)
        chunk = _pillow_text_chunk(first_text)
        at = png.find(chunk)
        if at < 0:
            raise SystemExit("Pillow wrote the text chunk differently than expected")
        self.png_head, self.png_tail = png[:at], png[at + len(chunk):]
        jpeg, webp = io.BytesIO(), io.BytesIO()
        picture.save(jpeg, "JPEG", quality=80)  # A1111's default jpeg_quality
        picture.save(webp, "WEBP", quality=80)
        self.jpeg, self.webp = jpeg.getvalue(), webp.getvalue()

    def file(self, kind: str, text: str) -> bytes:
        if kind == "png":
            return self.png_head + _pillow_text_chunk(text) + self.png_tail
        return _with_exif(self.jpeg if kind == "jpeg" else self.webp, text)


def build(root: Path, n_png: int = 3000, n_jpeg: int = 1000, n_webp: int = 1000,
          seed: int = 1, pictures: int = 3) -> list[Path]:
    """Write the library under `root` and its manifest; return the files in walk order."""
    rng = random.Random(seed)
    kinds = ["png"] * n_png + ["jpeg"] * n_jpeg + ["webp"] * n_webp
    rng.shuffle(kinds)  # real folders mix them
    samples: list[Sample] = []
    day, left = 1, 0
    for i, kind in enumerate(kinds):
        if left == 0:
            day, left = day + 1, rng.randint(40, 160)
        left -= 1
        samples.append(sample(rng, i, kind, f"2024-{1 + day // 28:02d}-{1 + day % 28:02d}"))
    encoded: dict[tuple[tuple[int, int], int], _Encoded] = {}
    checked: set[tuple[tuple[int, int], int, str]] = set()
    with open(root / "manifest.jsonl", "w", encoding="utf-8") as manifest:
        for n, s in enumerate(samples):
            variant = n % pictures
            key = (s.size, variant)
            pic_seed = variant * 10000 + s.size[0] + s.size[1]
            if key not in encoded:
                encoded[key] = _Encoded(_picture(s.size, pic_seed), s.text)
            data = encoded[key].file(s.kind, s.text)
            if (s.size, variant, s.kind) not in checked:  # the splice is what Pillow writes
                checked.add((s.size, variant, s.kind))
                if s.kind == "png":
                    again = _pillow_png(_picture(s.size, pic_seed), s.text)
                    if again != data:
                        raise SystemExit(f"{s.relpath}: differs from Pillow's own output")
            path = root / s.relpath
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            manifest.write(json.dumps({"path": s.relpath, "cells": s.cells},
                                      ensure_ascii=False) + "\n")
    files = sorted(root / s.relpath for s in samples)
    for kind, ext in (("png", ".png"), ("jpeg", ".jpg"), ("webp", ".webp")):
        # one list per kind, for scripts that export from a list (bench_ab.py)
        group = [str(p) for p in files if p.suffix == ext]
        if group:
            (root / f"{kind}.list").write_text("\n".join(group) + "\n", encoding="utf-8")
    return files


def make_corpus(root: Path, n_png: int, n_jpeg: int, n_webp: int, seed: int = 1) -> list[Path]:
    """`build` under the name other benchmarks import it by (bench_index.py)."""
    root.mkdir(parents=True, exist_ok=True)
    return build(root, n_png, n_jpeg, n_webp, seed)


def infotext(rng: random.Random) -> str:
    """One random infotext of the library's kind."""
    return sample(rng, 0, "png", "2024-01-01").text


def load_manifest(root: Path) -> dict[str, dict[str, str]]:
    """Relative path -> the CSV cells its row must hold."""
    out = {}
    with open(root / "manifest.jsonl", encoding="utf-8") as f:
        for line in f:
            item = json.loads(line)
            out[item["path"]] = item["cells"]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("root", type=Path)
    ap.add_argument("--png", type=int, default=3000)
    ap.add_argument("--jpeg", type=int, default=1000)
    ap.add_argument("--webp", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    args.root.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    files = build(args.root, args.png, args.jpeg, args.webp, args.seed)
    size = sum(p.stat().st_size for p in files)
    print(f"{len(files)} files, {size / 2**20:.0f} MiB in {args.root} "
          f"({time.perf_counter() - t:.0f} s)")


if __name__ == "__main__":
    main()
