"""Build the files in fixtures/ from known parameters.

Run from the repository root: `python scripts/make_fixtures.py`. Every fixture is made here,
from parameters written out below, so tests know exactly what each file must contain.
"""

from __future__ import annotations

import io
import struct
import sys
import zlib
from pathlib import Path

import piexif
from PIL import Image, ImageDraw
from PIL.PngImagePlugin import PngInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gendata.containers.exif import encode_user_comment  # noqa: E402
from gendata.containers.png import make_chunk  # noqa: E402

OUT = ROOT / "fixtures"

BASIC = (
    "masterpiece, best quality, (a red fox:1.2) sitting in snow, [blurry], "
    "<lora:foxStyle_v2:0.8>, <lora:- Detail Tweaker XL -:.5>\n"
    "soft morning light, film grain\n"
    "Negative prompt: lowres, bad anatomy, (worst quality:1.4), text, watermark\n"
    "Steps: 28, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6.5, Seed: 3141592653, "
    "Size: 512x768, Model hash: 45a21ea00a, Model: dreamFox_v10, VAE hash: 735e4c3a44, "
    "VAE: sdxl_vae.safetensors, Denoising strength: 0.35, Clip skip: 2, "
    "Hires upscale: 1.5, Hires steps: 12, Hires upscaler: R-ESRGAN 4x+, "
    'Lora hashes: "foxStyle_v2: 1a2b3c4d5e6f, - Detail Tweaker XL -: 0f1e2d3c4b5a", '
    'TI hashes: "easynegative: c74b4e810b03", '
    'Hashes: {"model": "45a21ea00a", "lora:foxStyle_v2": "1a2b3c4d5e"}, '
    'ADetailer model: face_yolov8n.pt, ADetailer prompt: "smiling, detailed eyes", '
    "Custom key: kept as is, Version: v1.10.1"
)
UNICODE = (
    "1girl, solo, hatsune miku, テスト, 城の上の猫\n"
    "Negative prompt: 悪い品質, lowres\n"
    "Steps: 20, Sampler: Euler a, Schedule type: Automatic, CFG scale: 7, Seed: 42, "
    "Size: 512x512, Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, "
    "Version: f2.0.1v1.10.1-previous-669-gdfdcbab6"
)
NO_NEGATIVE = (
    "a lighthouse on a cliff at dusk\n"
    "Steps: 30, Sampler: Euler, CFG scale: 5, Seed: 7, Size: 640x384, Model: sd_xl_base_1.0"
)
SWEEP_BASE = (
    "portrait of an astronaut, studio lighting\n"
    "Negative prompt: blurry\n"
    "Steps: 24, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: {seed}, "
    "Size: 256x256, Model hash: 31e35c80fc, Model: sd_xl_base_1.0, Version: v1.10.1"
)


def picture(w: int, h: int, mode: str = "RGB", hue: int = 0) -> Image.Image:
    """A small deterministic picture with some structure (so pixel checks mean something)."""
    img = Image.new("RGB", (w, h), (30 + hue % 200, 60, 90))
    draw = ImageDraw.Draw(img)
    for i in range(0, w, 16):
        draw.line([(i, 0), (w - i, h)], fill=((i * 7 + hue) % 256, (i * 3) % 256, 200))
    draw.ellipse([w // 4, h // 4, 3 * w // 4, 3 * h // 4], outline=(250, 240, 10), width=3)
    return img.convert(mode)


def png_bytes(img: Image.Image, texts: dict[str, str] | None = None) -> bytes:
    info = PngInfo()
    for k, v in (texts or {}).items():
        info.add_text(k, v)
    buf = io.BytesIO()
    img.save(buf, "PNG", pnginfo=info, compress_level=9)
    return buf.getvalue()


def chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    out = []
    pos = 8
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        out.append((data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]))
        pos += 12 + n
    return out


def assemble(parts: list[tuple[bytes, bytes]]) -> bytes:
    return b"\x89PNG\r\n\x1a\n" + b"".join(make_chunk(t, d) for t, d in parts)


def icc_profile() -> bytes:
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def a1111_basic() -> bytes:
    """Parameters tEXt before IDAT, plus an iCCP, a private chunk and a comment after IDAT,
    which every edit must keep byte for byte."""
    parts = chunks(png_bytes(picture(64, 96), {"parameters": BASIC}))
    head = parts[:1]
    rest = parts[1:]
    iccp = (b"iCCP", b"sRGB\0\0" + zlib.compress(icc_profile(), 9))
    private = (b"gdTa", b"private ancillary chunk: must survive edits \x00\x01\x02")
    trailer = (b"tEXt", b"Comment\0written after the image data")
    idat_end = max(i for i, (t, _) in enumerate(rest) if t == b"IDAT")
    rest = [*rest[:idat_end + 1], trailer, *rest[idat_end + 1:]]
    return assemble([*head, iccp, private, *rest])


def after_idat() -> bytes:
    """`parameters` as a zTXt chunk after IDAT, as ImageMagick re-saves write it."""
    parts = chunks(png_bytes(picture(48, 48, hue=40)))
    z = (b"zTXt", b"parameters\0\0" + zlib.compress(NO_NEGATIVE.encode("latin-1"), 9))
    return assemble([*parts[:-1], z, parts[-1]])


def exif_with_comment(text: str) -> bytes:
    return piexif.dump({"0th": {}, "Exif": {piexif.ExifIFD.UserComment:
                                            encode_user_comment(text)}})


def jpeg(text: str) -> bytes:
    buf = io.BytesIO()
    picture(64, 48, hue=90).save(buf, "JPEG", quality=90, exif=exif_with_comment(text))
    return buf.getvalue()


def webp(text: str, lossless: bool) -> bytes:
    buf = io.BytesIO()
    picture(64, 48, "RGBA" if lossless else "RGB", hue=120).save(
        buf, "WEBP", lossless=lossless, quality=80, exif=exif_with_comment(text))
    return buf.getvalue()


def main() -> None:
    OUT.mkdir(exist_ok=True)
    files = {
        "a1111_basic.png": a1111_basic(),
        "a1111_unicode.png": png_bytes(picture(64, 64, "RGBA", hue=10),
                                       {"parameters": UNICODE}),
        "a1111_after_idat.png": after_idat(),
        "a1111.jpg": jpeg(BASIC),
        "a1111_unicode.jpg": jpeg(UNICODE),
        "a1111.webp": webp(BASIC, lossless=False),
        "a1111_lossless.webp": webp(UNICODE, lossless=True),
        "no_metadata.png": png_bytes(picture(32, 32, hue=200)),
        "prompt_only.png": png_bytes(picture(32, 32, hue=220),
                                     {"parameters": "just a prompt, no settings line"}),
    }
    for i, seed in enumerate((1001, 1002, 1003, 1004)):
        files[f"seed_sweep/astronaut_{i + 1}.png"] = png_bytes(
            picture(32, 32, hue=seed), {"parameters": SWEEP_BASE.format(seed=seed)})
    files.update(comfyui_fixtures())
    for name, data in files.items():
        path = OUT / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        print(f"{path.relative_to(ROOT)}  {len(data)} bytes")
    (OUT / "a1111_basic.txt").write_text(BASIC + "\n", encoding="utf-8")
    (OUT / "not_an_image.png").write_bytes(b"this is plain text pretending to be a PNG\n")
    print("fixtures/a1111_basic.txt, fixtures/not_an_image.png")


def comfyui_fixtures() -> dict[str, bytes]:
    """ComfyUI files of the model families and layouts the readers and the in-place edit
    must know (HiDream, Z-Image, OmniGen2's DualCFGGuider, an API node, a Wan video saved as
    WebP, an editor-only file), built by the test suite's graph builder so that the tests
    know exactly what each holds (tests/formats/comfyui_graphs.py)."""
    from tests.formats.comfyui_graphs import family_fixtures

    return {name: data for name, (data, _expected) in family_fixtures().items()}


if __name__ == "__main__":
    main()
