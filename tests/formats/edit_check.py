"""What every in-place edit must keep (issue 12): the same generator, the values read back,
the other fields as they were, pixels and non-text data byte for byte, and a value set back
giving the original entries."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import gendata
from gendata import api
from gendata.containers import open_raw
from gendata.diff import flatten

from ..helpers import jpeg_scan_data, pixels, png_chunks, webp_image_chunks

_TEXT = (b"tEXt", b"zTXt", b"iTXt", b"eXIf")


def carried(data: bytes) -> Any:
    """What an edit must leave byte for byte: every PNG chunk but text and EXIF, a JPEG's
    scan data and segments other than EXIF, a WebP's image chunks."""
    if data[:4] == b"\x89PNG":
        return [c for c in png_chunks(data) if c[0] not in _TEXT]
    if data[:2] == b"\xff\xd8":
        return jpeg_scan_data(data)
    return webp_image_chunks(data)


def texts(path: Path) -> dict[str, str]:
    """Key -> text of every entry, stealth payload included when the file has one."""
    rec = gendata.read(path)
    return rec.raw_texts()


def stealth_only(path: Path) -> bool:
    return any(e.location.startswith("stealth:") for e in gendata.read(path).raw.entries)


def edited(path: Path, **changes: Any) -> None:
    rec = gendata.read(path)
    gendata.write(path, api.update(api.editable_params(rec), changes))


def check_roundtrip(src: Path, tmp: Path, *, seed: int | None = None,
                    prompt: str = "a red fox in the snow, テスト") -> None:
    """`set --seed`, setting it back, and `set --prompt` on a copy of `src`."""
    p = tmp / src.name
    shutil.copyfile(src, p)
    before_bytes = p.read_bytes()
    rec = gendata.read(p)
    params = api.editable_params(rec)
    hidden = stealth_only(p)
    old_seed = params.seed
    new_seed = seed if seed is not None else (old_seed or 0) + 1234567
    before = flatten(params)
    original_texts = texts(p)

    edited(p, seed=new_seed)
    after = gendata.read(p).params
    assert after is not None
    assert after.generator == params.generator
    assert after.seed == new_seed
    changed = {k for k in set(before) | set(flatten(after))
               if before.get(k) != flatten(after).get(k)}
    assert changed == {"seed"}, changed
    if not hidden:
        assert carried(p.read_bytes()) == carried(before_bytes)
    if old_seed is not None:
        edited(p, seed=old_seed)
        assert texts(p) == original_texts
        if not hidden:
            assert p.read_bytes() == before_bytes or _same_but_exif(p, before_bytes)

    edited(p, prompt=prompt)
    again = gendata.read(p).params
    assert again is not None and again.generator == params.generator
    assert again.prompt == prompt
    changed = {k for k in set(before) | set(flatten(again))
               if before.get(k) != flatten(again).get(k)}
    # LoRAs named by the prompt's own <lora:...> tags go with the prompt, and so do values
    # a generator builds from it (Fooocus' style-expanded full_prompt)
    tagged = all(f"<lora:{lo.name}" in params.prompt for lo in params.loras)
    derived = {k for k, v in before.items() if k.startswith("extra.") and params.prompt
               and params.prompt in json.dumps(v, ensure_ascii=False)}
    assert changed <= {"prompt", "seed"} | ({"loras"} if tagged else set()) | derived, changed
    if hidden:
        # the payload's bits change, nothing else: the colours in alpha mode, all but the
        # lowest bit of each colour in RGB mode
        mask = 0xFE if any(e.location.startswith("stealth:stealth_rgb")
                           for e in gendata.read(src).raw.entries) else 0xFF
        assert _rgb(p, mask) == _rgb(src, mask)
    else:
        assert carried(p.read_bytes()) == carried(before_bytes)
        if src.stat().st_size < 3_000_000:
            assert pixels(p) == pixels(src)


def _rgb(path: Path, mask: int) -> bytes:
    from PIL import Image

    with Image.open(path) as im:
        return bytes(b & mask for b in im.convert("RGB").tobytes())


def _same_but_exif(path: Path, before: bytes) -> bool:
    """A value set back may leave an EXIF block laid out differently (a value that had to
    move); its entries must still read the same."""
    now = open_raw(path)
    copy = path.with_name("before-" + path.name)
    copy.write_bytes(before)
    then = open_raw(copy)
    return [(e.key, e.text) for e in now.entries] == [(e.key, e.text) for e in then.entries]
