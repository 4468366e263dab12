"""Build a tiny random-weight SD1-shaped pipeline, a kohya LoRA and an A1111 embedding in code.

Used by the pipeline tests and benchmarks/regen_gpu.py. Nothing is downloaded: the CLIP
tokenizer is a byte-level BPE vocabulary written here (512 byte tokens, a few merges).
"""

from __future__ import annotations

import json
from pathlib import Path


def _bytes_to_unicode() -> dict[int, str]:
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(
        range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs], strict=True))


MERGES = [("c", "a"), ("ca", "t</w>"), ("d", "o"), ("do", "g</w>"), ("r", "e"), ("re", "d</w>")]


def write_tokenizer(folder: Path, pad: str = "<|endoftext|>") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    chars = list(_bytes_to_unicode().values())
    tokens = chars + [c + "</w>" for c in chars] + ["".join(m) for m in MERGES]
    tokens += ["<|startoftext|>", "<|endoftext|>"]
    vocab = {t: i for i, t in enumerate(dict.fromkeys(tokens))}
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text(
        "#version: 0.2\n" + "\n".join(f"{a} {b}" for a, b in MERGES) + "\n")
    (folder / "special_tokens_map.json").write_text(json.dumps({
        "bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>",
        "unk_token": "<|endoftext|>", "pad_token": pad}))
    (folder / "tokenizer_config.json").write_text(json.dumps({
        "model_max_length": 77, "tokenizer_class": "CLIPTokenizer",
        "bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>",
        "unk_token": "<|endoftext|>", "pad_token": pad}))


def build_pipeline(folder: Path) -> Path:
    """save_pretrained a tiny StableDiffusionPipeline into `folder` and return it."""
    import torch
    from diffusers import (
        AutoencoderKL,
        PNDMScheduler,
        StableDiffusionPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    torch.manual_seed(0)
    write_tokenizer(folder / "_tok")
    tok = CLIPTokenizer.from_pretrained(folder / "_tok")
    te = CLIPTextModel(CLIPTextConfig(
        vocab_size=len(tok), hidden_size=32, intermediate_size=37, num_hidden_layers=4,
        num_attention_heads=4, max_position_embeddings=77, bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id, pad_token_id=tok.eos_token_id, projection_dim=32))
    with torch.no_grad():  # a real CLIP's final LayerNorm has a bias; zero would zero the mean
        getattr(te, "text_model", te).final_layer_norm.bias.normal_(0.0, 0.5)
    unet = UNet2DConditionModel(
        sample_size=8, in_channels=4, out_channels=4, layers_per_block=1,
        block_out_channels=(32, 64), down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"), cross_attention_dim=32,
        attention_head_dim=8, norm_num_groups=32)
    vae = AutoencoderKL(
        in_channels=3, out_channels=3, latent_channels=4, layers_per_block=1,
        block_out_channels=(8, 8, 8, 8), norm_num_groups=8,
        down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4)
    sched = PNDMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                          skip_prk_steps=True, steps_offset=1, set_alpha_to_one=False)
    pipe = StableDiffusionPipeline(vae=vae, text_encoder=te, tokenizer=tok, unet=unet,
                                   scheduler=sched, safety_checker=None, feature_extractor=None,
                                   requires_safety_checker=False)
    pipe.save_pretrained(folder)
    return folder


def build_sdxl_pipeline(folder: Path) -> Path:
    """save_pretrained a tiny StableDiffusionXLPipeline: a UNet with SDXL's text_time added
    conditioning (6 size numbers + the pooled vector), CLIP-L-like and OpenCLIP-G-like
    (with projection) text encoders, the second tokenizer padding with "!" like SDXL's."""
    import torch
    from diffusers import (
        AutoencoderKL,
        EulerDiscreteScheduler,
        StableDiffusionXLPipeline,
        UNet2DConditionModel,
    )
    from transformers import (
        CLIPTextConfig,
        CLIPTextModel,
        CLIPTextModelWithProjection,
        CLIPTokenizer,
    )

    torch.manual_seed(0)
    write_tokenizer(folder / "_tok")
    write_tokenizer(folder / "_tok2", pad="!")
    tok = CLIPTokenizer.from_pretrained(folder / "_tok")
    tok2 = CLIPTokenizer.from_pretrained(folder / "_tok2")

    def clip_config(hidden: int) -> CLIPTextConfig:
        return CLIPTextConfig(
            vocab_size=len(tok), hidden_size=hidden, intermediate_size=37, num_hidden_layers=4,
            num_attention_heads=4, max_position_embeddings=77, bos_token_id=tok.bos_token_id,
            eos_token_id=tok.eos_token_id, pad_token_id=tok2.pad_token_id,
            projection_dim=16, hidden_act="gelu")

    te = CLIPTextModel(clip_config(32))
    te2 = CLIPTextModelWithProjection(clip_config(32))
    unet = UNet2DConditionModel(
        sample_size=8, in_channels=4, out_channels=4, layers_per_block=1,
        block_out_channels=(32, 64), down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=64,
        attention_head_dim=(2, 4), use_linear_projection=True, addition_embed_type="text_time",
        addition_time_embed_dim=8, transformer_layers_per_block=(1, 1),
        projection_class_embeddings_input_dim=6 * 8 + 16, norm_num_groups=32)
    vae = AutoencoderKL(
        in_channels=3, out_channels=3, latent_channels=4, layers_per_block=1,
        block_out_channels=(8, 8, 8, 8), norm_num_groups=8, scaling_factor=0.13025,
        down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4)
    sched = EulerDiscreteScheduler(beta_start=0.00085, beta_end=0.012,
                                   beta_schedule="scaled_linear", steps_offset=1,
                                   timestep_spacing="leading")
    pipe = StableDiffusionXLPipeline(vae=vae, text_encoder=te, text_encoder_2=te2,
                                     tokenizer=tok, tokenizer_2=tok2, unet=unet,
                                     scheduler=sched, force_zeros_for_empty_prompt=True,
                                     add_watermarker=False)
    pipe.save_pretrained(folder)
    return folder


def write_lora(path: Path, model_folder: Path, rank: int = 4, scale: float = 0.5) -> Path:
    """A kohya/A1111-format LoRA (lora_unet_*/lora_te_*, .alpha) for the tiny pipeline."""
    import torch
    from diffusers import UNet2DConditionModel
    from safetensors.torch import save_file
    from transformers import CLIPTextModel

    g = torch.Generator().manual_seed(1)
    sd: dict[str, torch.Tensor] = {}
    unet = UNet2DConditionModel.from_pretrained(model_folder / "unet")
    te = CLIPTextModel.from_pretrained(model_folder / "text_encoder")
    targets = [("lora_unet_", n, m) for n, m in unet.named_modules()
               if n.endswith(("attn1.to_q", "attn1.to_k", "attn1.to_v", "attn1.to_out.0",
                              "attn2.to_q", "attn2.to_k", "attn2.to_v", "attn2.to_out.0"))]
    targets += [("lora_te_", n, m) for n, m in te.named_modules()
                if n.endswith(("q_proj", "k_proj", "v_proj", "out_proj"))]
    for prefix, name, mod in targets:
        key = prefix + name.replace(".", "_")
        sd[f"{key}.lora_down.weight"] = torch.randn(rank, mod.in_features, generator=g) * scale
        sd[f"{key}.lora_up.weight"] = torch.randn(mod.out_features, rank, generator=g) * scale
        sd[f"{key}.alpha"] = torch.tensor(float(rank))
    save_file(sd, str(path), metadata={"ss_network_dim": str(rank)})
    return path


def write_embedding(path: Path, vectors: int = 2, dim: int = 32, seed: int = 2) -> Path:
    """An A1111 textual-inversion .pt file (`string_to_param`)."""
    import torch

    g = torch.Generator().manual_seed(seed)
    emb = torch.randn(vectors, dim, generator=g) * 3
    torch.save({"string_to_param": {"*": emb}, "name": path.stem, "step": 1}, path)
    return path


def _unet_to_ldm(sd: dict, config: dict) -> dict:
    """diffusers UNet2DConditionModel keys -> the original `model.diffusion_model.*` layout,
    the inverse of diffusers' `convert_ldm_unet_checkpoint` for any block count and
    layers_per_block (input/output block numbering as in the LDM code)."""
    n_blocks = len(config["block_out_channels"])
    per = config["layers_per_block"]
    resnet = [("norm1", "in_layers.0"), ("conv1", "in_layers.2"), ("norm2", "out_layers.0"),
              ("conv2", "out_layers.3"), ("time_emb_proj", "emb_layers.1"),
              ("conv_shortcut", "skip_connection")]
    fixed = {"time_embedding.linear_1": "time_embed.0", "time_embedding.linear_2": "time_embed.2",
             "add_embedding.linear_1": "label_emb.0.0", "add_embedding.linear_2": "label_emb.0.2",
             "conv_in": "input_blocks.0.0", "conv_norm_out": "out.0", "conv_out": "out.2"}
    prefixes: dict[str, str] = {}
    for b in range(n_blocks):
        for j in range(per):
            i = 1 + b * (per + 1) + j
            prefixes[f"down_blocks.{b}.resnets.{j}."] = f"input_blocks.{i}.0."
            prefixes[f"down_blocks.{b}.attentions.{j}."] = f"input_blocks.{i}.1."
        down = 1 + b * (per + 1) + per
        prefixes[f"down_blocks.{b}.downsamplers.0.conv."] = f"input_blocks.{down}.0.op."
        has_attn = any(k.startswith(f"up_blocks.{b}.attentions.") for k in sd)
        for j in range(per + 1):
            i = b * (per + 1) + j
            prefixes[f"up_blocks.{b}.resnets.{j}."] = f"output_blocks.{i}.0."
            prefixes[f"up_blocks.{b}.attentions.{j}."] = f"output_blocks.{i}.1."
        last = b * (per + 1) + per
        prefixes[f"up_blocks.{b}.upsamplers.0.conv."] = (
            f"output_blocks.{last}.{2 if has_attn else 1}.conv.")
    prefixes["mid_block.resnets.0."] = "middle_block.0."
    prefixes["mid_block.attentions.0."] = "middle_block.1."
    prefixes["mid_block.resnets.1."] = "middle_block.2."
    out = {}
    for key, value in sd.items():
        stem, _, leaf = key.rpartition(".")
        if stem in fixed:
            out[f"{fixed[stem]}.{leaf}"] = value
            continue
        for dp, lp in prefixes.items():
            if key.startswith(dp):
                rest = key[len(dp):]
                if ".resnets." in dp:
                    for a, b2 in resnet:
                        rest = rest.replace(a, b2)
                out[lp + rest] = value
                break
        else:
            raise KeyError(f"no LDM name for UNet key {key}")
    return {"model.diffusion_model." + k: v for k, v in out.items()}


def _vae_to_ldm(sd: dict, config: dict) -> dict:
    """diffusers AutoencoderKL keys -> `first_stage_model.*` (mid attention as 1x1 convs)."""
    n_up = len(config["up_block_types"])
    out = {}
    for key, value in sd.items():
        k = key.replace("conv_norm_out", "norm_out").replace("conv_shortcut", "nin_shortcut")
        k = k.replace("mid_block.resnets.0.", "mid.block_1.").replace(
            "mid_block.resnets.1.", "mid.block_2.")
        if "mid_block.attentions.0." in k:
            k = k.replace("mid_block.attentions.0.", "mid.attn_1.")
            for a, b in (("group_norm.", "norm."), ("to_q.", "q."), ("to_k.", "k."),
                         ("to_v.", "v."), ("to_out.0.", "proj_out.")):
                k = k.replace(a, b)
            if value.ndim == 2:
                value = value[:, :, None, None]
        if k.startswith("encoder.down_blocks."):
            parts = k.split(".")
            i = parts[2]
            if parts[3] == "resnets":
                k = ".".join(["encoder", "down", i, "block", *parts[4:]])
            else:  # downsamplers.0.conv
                k = ".".join(["encoder", "down", i, "downsample", *parts[5:]])
        elif k.startswith("decoder.up_blocks."):
            parts = k.split(".")
            i = str(n_up - 1 - int(parts[2]))
            if parts[3] == "resnets":
                k = ".".join(["decoder", "up", i, "block", *parts[4:]])
            else:  # upsamplers.0.conv
                k = ".".join(["decoder", "up", i, "upsample", *parts[5:]])
        out["first_stage_model." + k] = value
    return out


def write_single_file(model_folder: Path, path: Path) -> Path:
    """The tiny diffusers pipeline as one A1111-style checkpoint (`model.diffusion_model.*`,
    `first_stage_model.*`, `cond_stage_model.transformer.*`), which diffusers'
    `from_single_file` converts back; returns `path`."""
    from safetensors.torch import load_file, save_file

    def comp(name: str) -> tuple[dict, dict]:
        cfg = json.loads((model_folder / name / "config.json").read_text())
        return load_file(str(next((model_folder / name).glob("*.safetensors")))), cfg

    unet, ucfg = comp("unet")
    vae, vcfg = comp("vae")
    te, _ = comp("text_encoder")
    sd = {**_unet_to_ldm(unet, ucfg), **_vae_to_ldm(vae, vcfg)}
    # A1111 checkpoints nest CLIP under `text_model.`; transformers 5 saves it flattened.
    sd.update({"cond_stage_model.transformer." + (k if k.startswith("text_model.") else
                                                  "text_model." + k): v for k, v in te.items()})
    save_file({k: v.contiguous() for k, v in sd.items()}, str(path))
    return path


def config_only_copy(model_folder: Path, target: Path) -> Path:
    """The pipeline folder without its weights: what `--config` needs for a single file."""
    import shutil

    shutil.copytree(model_folder, target, ignore=shutil.ignore_patterns(
        "*.safetensors", "*.bin", "_tok"))
    return target
