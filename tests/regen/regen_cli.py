"""What the regen tests share: a source PNG with infotext, the CLI run, and reading results back."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from click.testing import CliRunner
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from gendata.cli import main
from gendata.regen import REPORT_KEY

INFOTEXT = ("a (red:1.2) cat, <lora:none:0.5>\nNegative prompt: ugly\nSteps: 12, Sampler: "
            "DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 42, Size: 64x64, "
            "Model hash: abcdef1234, ENSD: 31337, Version: v1.10.1")


def make_png(path: Path, text: str = INFOTEXT, size: tuple[int, int] = (64, 64)) -> Path:
    info = PngInfo()
    info.add_text("parameters", text)
    Image.new("RGB", size, (120, 80, 40)).save(path, pnginfo=info)
    return path


def invoke(*args: str) -> tuple[int, str]:
    """Exit code and output of `gendata ARGS`; a crash (not a 0/1/2 exit) adds its exception."""
    r = CliRunner().invoke(main, list(args))
    return r.exit_code, r.output + (str(r.exception) if r.exit_code not in (0, 1, 2) else "")


def regen(*args: str) -> tuple[int, str]:
    return invoke("regen", *args)


def pixels(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def report(path: Path) -> dict:
    """The regen report a run wrote into its output PNG."""
    with Image.open(path) as im:
        return json.loads(im.text[REPORT_KEY])
