"""Interop with the real libraries, when installed: torch pickles (safely), diffusers' loader."""

from __future__ import annotations

import json
import pickle
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gendata import ti
from gendata.containers import safetensors as st
from gendata.errors import ContainerError, UsageError


def _cover(path: Path) -> Path:
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(20, 256, size=(64, 48, 3), dtype=np.uint8)).save(path)
    return path


def test_pt_without_torch_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # as if torch were not installed
    pt = tmp_path / "emb.pt"
    pt.write_bytes(b"PK\x03\x04 a zipped pickle")
    with pytest.raises(UsageError, match=r"pickles.*\.safetensors"):
        ti.embed(pt, _cover(tmp_path / "c.png"), tmp_path / "card.png")
    assert not (tmp_path / "card.png").exists()


def test_a1111_pt_loads_with_weights_only(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    vec = torch.randn(3, 768, dtype=torch.float32, requires_grad=True)
    pt = tmp_path / "trained.pt"
    torch.save(
        {
            "string_to_token": {"*": 265},
            "string_to_param": {"*": vec},
            "name": "trained",
            "step": 500,
            "sd_checkpoint": "abcdef0123",
            "sd_checkpoint_name": "v1-5-pruned",
        },
        pt,
    )
    made = ti.embed(pt, _cover(tmp_path / "c.png"), tmp_path / "card.png")
    info = ti.inspect(made.output, pixels=True)
    assert info is not None
    assert (info.name, info.step, info.sd_checkpoint, info.sd_checkpoint_name) == (
        "trained",
        500,
        "abcdef0123",
        "v1-5-pruned",
    )
    out = ti.extract(made.output, tmp_path / "trained.safetensors")
    back = st.load(out.output)[0]["emb_params"]
    assert back.tobytes() == vec.detach().numpy().tobytes()


def test_malicious_pickle_is_not_executed(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self) -> tuple:
            return (Path.touch, (marker,))

    pt = tmp_path / "evil.pt"
    torch.save(
        {"string_to_param": {"*": torch.zeros(1, 768)}, "x": Evil()}, pt, pickle_module=pickle
    )
    with pytest.raises(ContainerError, match="refused"):
        ti.embed(pt, _cover(tmp_path / "c.png"), tmp_path / "card.png")
    assert not marker.exists()
    assert not (tmp_path / "card.png").exists()


def _tiny_clip(tmp_path: Path):
    transformers = pytest.importorskip("transformers")
    words = ["a", "photo", "of", "cat"]
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for word in words:
        vocab[f"{word}</w>"] = len(vocab)
    for ch in "abcdefghijklmnopqrstuvwxyz<>-":
        vocab.setdefault(ch, len(vocab))
        vocab.setdefault(f"{ch}</w>", len(vocab))
    (tmp_path / "vocab.json").write_text(json.dumps(vocab))
    (tmp_path / "merges.txt").write_text("#version: 0.2\n")
    tokenizer = transformers.CLIPTokenizer(
        str(tmp_path / "vocab.json"), str(tmp_path / "merges.txt")
    )
    config = transformers.CLIPTextConfig(
        vocab_size=len(vocab),
        hidden_size=768,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=4,
        max_position_embeddings=77,
        bos_token_id=0,
        eos_token_id=1,
        pad_token_id=1,
    )
    return tokenizer, transformers.CLIPTextModel(config)


def test_diffusers_load_textual_inversion_reads_extracted_file(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    loaders = pytest.importorskip("diffusers.loaders")
    tokenizer, text_encoder = _tiny_clip(tmp_path)
    vec = np.random.default_rng(9).standard_normal((2, 768)).astype(np.float32)
    src = tmp_path / "src.safetensors"
    src.write_bytes(st.dumps({"emb_params": vec}))
    card = ti.embed(src, _cover(tmp_path / "c.png"), tmp_path / "card.png", name="kitty").output
    out = ti.extract(card, tmp_path / "kitty.safetensors").output

    class Pipe(loaders.TextualInversionLoaderMixin):
        def __init__(self) -> None:
            self.tokenizer = tokenizer
            self.text_encoder = text_encoder
            self.components = {"tokenizer": tokenizer, "text_encoder": text_encoder}
            self.hf_device_map = None

    pipe = Pipe()
    pipe.load_textual_inversion(str(out), token="<kitty>")
    ids = tokenizer.convert_tokens_to_ids(["<kitty>", "<kitty>_1"])
    weights = text_encoder.get_input_embeddings().weight.detach().numpy()
    assert np.array_equal(weights[ids], vec)
