"""A small, real library for the gallery's tests and screenshots: pictures drawn with Pillow,
generation data written by gendata itself, indexed by `gendata.index`."""

from __future__ import annotations

import json
import math
import random
import struct
import zlib
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

import gendata
from gendata import write_text

PALETTES = [
    ((18, 32, 64), (230, 120, 60)),    # dusk
    ((10, 40, 30), (140, 220, 160)),   # forest
    ((40, 10, 50), (250, 90, 170)),    # neon
    ((200, 220, 240), (40, 60, 120)),  # snow
    ((60, 30, 10), (250, 200, 80)),    # desert
    ((5, 5, 20), (90, 160, 255)),      # night
]


def picture(seed: int, size: tuple[int, int] = (384, 384)) -> Image.Image:
    """A picture with something to see: a gradient sky, a sun, hills and soft shapes."""
    rng = random.Random(seed)
    top, bottom = PALETTES[seed % len(PALETTES)]
    w, h = size
    im = Image.new("RGB", size)
    px = ImageDraw.Draw(im)
    for y in range(h):
        t = y / max(1, h - 1)
        colour = tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        px.line([(0, y), (w, y)], fill=colour)
    sun = (rng.randint(w // 5, 4 * w // 5), rng.randint(h // 8, h // 2))
    r = rng.randint(w // 12, w // 6)
    px.ellipse([sun[0] - r, sun[1] - r, sun[0] + r, sun[1] + r], fill=(255, 236, 180))
    for layer in range(3):
        shade = tuple(max(0, c - 40 * (layer + 1)) for c in bottom)
        base = h * (0.55 + 0.13 * layer)
        amp, freq, phase = h * 0.08, rng.uniform(1.5, 4), rng.uniform(0, 6)
        points = [(x, base + amp * math.sin(freq * x / w * math.pi + phase)) for x in
                  range(0, w + 8, 8)]
        px.polygon([*points, (w, h), (0, h)], fill=shade)
    for _ in range(rng.randint(2, 5)):
        x, y, s = rng.randint(0, w), rng.randint(0, h // 2), rng.randint(6, w // 10)
        px.ellipse([x - s, y - s // 2, x + s, y + s // 2], fill=(255, 255, 255))
    return im.filter(ImageFilter.GaussianBlur(0.6))


def save_picture(path: Path, seed: int, size: tuple[int, int] = (384, 384)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    kind = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}[
        path.suffix.lower()]
    picture(seed, size).save(path, kind, **({"quality": 88} if kind != "PNG" else {}))
    return path


def infotext(prompt: str, negative: str = "", **settings: object) -> str:
    base: dict[str, object] = {"Steps": 28, "Sampler": "DPM++ 2M", "Schedule type": "Karras",
                               "CFG scale": 7, "Seed": 1, "Size": "384x384",
                               "Model hash": "6ce0161689", "Model": "dreamshaper_8"}
    for key, value in settings.items():
        base[key.replace("_", " ")] = value
    line = ", ".join(f"{k}: {v}" for k, v in base.items())
    neg = f"\nNegative prompt: {negative}" if negative else ""
    return f"{prompt}{neg}\n{line}"


def a1111(path: Path, seed: int, prompt: str, negative: str = "", **settings: object) -> Path:
    save_picture(path, seed)
    write_text(path, infotext(prompt, negative, Seed=seed, **settings))
    return path


def comfyui(path: Path, seed: int, prompt: str, lora: str | None = None) -> Path:
    """A PNG with a ComfyUI API graph, as ComfyUI's SaveImage writes it."""
    from gendata.containers import write_raw
    from gendata.containers.raw import Changes

    model_src = ["4", 0]
    graph: dict[str, dict[str, object]] = {
        "4": {"class_type": "CheckpointLoaderSimple",
              "inputs": {"ckpt_name": "sd_xl_base_1.0.safetensors"}},
        "5": {"class_type": "EmptyLatentImage",
              "inputs": {"width": 1024, "height": 1024, "batch_size": 1}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": prompt, "clip": ["4", 1]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["4", 1]}},
        "9": {"class_type": "SaveImage", "inputs": {"images": ["8", 0]}},
    }
    if lora:
        graph["10"] = {"class_type": "LoraLoader", "inputs": {
            "lora_name": f"{lora}.safetensors", "strength_model": 0.7, "strength_clip": 0.7,
            "model": ["4", 0], "clip": ["4", 1]}}
        model_src = ["10", 0]
    graph["3"] = {"class_type": "KSampler", "inputs": {
        "seed": seed, "steps": 25, "cfg": 6.5, "sampler_name": "euler_ancestral",
        "scheduler": "normal", "denoise": 1.0, "model": model_src, "positive": ["6", 0],
        "negative": ["7", 0], "latent_image": ["5", 0]}}
    save_picture(path, seed)
    write_raw(path, path, Changes(set={"prompt": json.dumps(graph)}))
    return path


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data)))


def bomb_png(path: Path, text: str) -> Path:
    """A PNG whose header claims 30000 x 30000 RGBA pixels (3.6 GB decoded) in a file of a
    few hundred bytes, with an A1111 `parameters` chunk, so the index takes it."""
    ihdr = struct.pack(">IIBBBBB", 30000, 30000, 8, 6, 0, 0, 0)
    body = zlib.compress(b"\0" * 4096)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr)
                     + _chunk(b"tEXt", b"parameters\0" + text.encode("latin-1"))
                     + _chunk(b"IDAT", body) + _chunk(b"IEND", b""))
    return path


# name -> (prompt, what else); every test reads from this one table.
SCENES = [
    ("fox_snow.png", "a red fox in deep snow, golden hour, <lora:foxStyle_v2:0.8>",
     {"Steps": 30}),
    ("fox_forest.png", "a red fox in a pine forest, morning mist, <lora:foxStyle_v2:0.6>",
     {"Steps": 30}),
    ("castle_rain.png", "an old castle on a hill in the rain, dramatic sky",
     {"Sampler": "Euler a", "Steps": 20}),
    ("castle_dusk.jpg", "a castle at dusk, lanterns, <lora:add_detail:0.5>", {"Steps": 24}),
    ("desert.webp", "a desert caravan under a huge sun", {"Model": "juggernautXL_v9",
                                                          "Sampler": "Euler a"}),
    ("cyrillic.png", "кошка на крыше, ночь, звёзды", {}),
    ("japanese.png", "東京の夜景, 猫, ネオン", {"Model": "animagineXL_v3"}),
    ("hostile.png", "<script>alert('x')</script> a \x1b[31mred\x1b[0m \u202eevil prompt",
     {"Model": "evil\u202emodel"}),
]


STUDIES = ["a lake with mountains", "a lighthouse at dawn", "a field of sunflowers",
           "a snowy village at night", "a lake at sunset, boats"]
STUDY_LORAS = ["watercolor_v1", "detail_tweaker"]
STUDY_SAMPLERS = ["DPM++ 2M", "Euler a", "DPM++ SDE", "UniPC"]


def build(root: Path, db: Path, *, extra: int = 0) -> dict[str, int]:
    """Write the scenes (and `extra` more A1111 pictures) under `root`, index them into
    `db`, and return each file's name -> its id in the index."""
    root.mkdir(parents=True, exist_ok=True)
    for n, (name, prompt, settings) in enumerate(SCENES, 1):
        a1111(root / name, 1000 + n, prompt, "lowres, blurry, watermark", **settings)
    comfyui(root / "comfy" / "ComfyUI_00001_.png", 424242, "a lighthouse on a cliff at night",
            lora="moody_light")
    comfyui(root / "comfy" / "ComfyUI_00002_.png", 424243, "a lighthouse in a storm")
    bomb_png(root / "huge.png", infotext("a picture too big to decode", Seed=7))
    (root / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    for i in range(extra):
        subject = STUDIES[i % len(STUDIES)]
        lora = f", <lora:{STUDY_LORAS[i % 3]}:0.7>" if i % 3 < 2 else ""
        a1111(root / "more" / f"{i:05d}-{2000 + i}.png", 2000 + i,
              f"study number {i}, {subject}{lora}", Steps=20 + i % 10,
              Sampler=STUDY_SAMPLERS[i % len(STUDY_SAMPLERS)])
    gendata.index([root], db=db, jobs=1)
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        return {Path(p).relative_to(root).as_posix(): i
                for i, p in conn.execute("SELECT id, path FROM images")}
    finally:
        conn.close()
