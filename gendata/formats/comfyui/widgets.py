"""Where each input of a ComfyUI node sits in the editor graph's `widgets_values`.

docs/formats.md#the-editor-graph: the editor stores a node's widget values by position, in the order
its node class declares its inputs (`INPUT_TYPES` "required" then "optional", or the
`inputs` of a `define_schema`), leaving out inputs that take links only (MODEL, CLIP,
CONDITIONING, LATENT, IMAGE, ... and `forceInput` values). An input with
`control_after_generate` (every seed) is followed by the control's own value ("fixed",
"randomize", ...; `true`/`false` in 2023 files). A widget converted to an input, or linked
to a primitive, keeps its place and its value.

WIDGETS was written from the node definitions in comfyanonymous/ComfyUI: nodes.py
(samplers, loaders, latents, CLIPTextEncode, images), comfy_extras/nodes_custom_sampler.py
(SamplerCustom, RandomNoise, guiders, schedulers), nodes_flux.py, nodes_sd3.py,
nodes_hidream.py, nodes_qwen.py, nodes_hunyuan.py, nodes_clip_sdxl.py, nodes_lumina2.py,
nodes_stable_cascade.py, nodes_wan.py, nodes_lt.py, nodes_mochi.py, nodes_cosmos.py,
nodes_model_advanced.py, nodes_primitive.py, nodes_images.py, nodes_video_model.py,
nodes_upscale_model.py, nodes_hypernetwork.py, nodes_model_patch.py,
comfy_api_nodes/nodes_bfl.py and nodes_stability.py; and for two custom node packs seen in
real files, ltdrdata/ComfyUI-Impact-Pack (impact_pack.py), rgthree/rgthree-comfy
(power_prompt.py), Suzie1/ComfyUI_Comfyroll_CustomNodes (CR_Seed) and
receyuki/comfyui-prompt-reader-node (nodes.py). A name ending in "+" has a
control_after_generate value after it.

Newer front ends list every widget input on the node, in the order of the definition the
file was saved with; where that list covers the table's names it is used instead (a node
that gained a widget since), and nodes not in the table are laid out from it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["CONTROL_VALUES", "OUTPUT_WIDGETS", "OUTPUT_WIDGETS_BY_NAME", "WIDGETS", "layout",
           "names_for"]

WIDGETS: dict[str, tuple[str, ...]] = {
    # nodes.py
    "KSampler": ("seed+", "steps", "cfg", "sampler_name", "scheduler", "denoise"),
    "KSamplerAdvanced": ("add_noise", "noise_seed+", "steps", "cfg", "sampler_name",
                         "scheduler", "start_at_step", "end_at_step",
                         "return_with_leftover_noise"),
    "CheckpointLoaderSimple": ("ckpt_name",),
    "CheckpointLoader": ("config_name", "ckpt_name"),
    "DiffusersLoader": ("model_path",),
    "unCLIPCheckpointLoader": ("ckpt_name",),
    "CLIPSetLastLayer": ("stop_at_clip_layer",),
    "LoraLoader": ("lora_name", "strength_model", "strength_clip"),
    "LoraLoaderModelOnly": ("lora_name", "strength_model"),
    "VAELoader": ("vae_name",),
    "UNETLoader": ("unet_name", "weight_dtype"),
    "CLIPLoader": ("clip_name", "type", "device"),
    "DualCLIPLoader": ("clip_name1", "clip_name2", "type", "device"),
    "CLIPVisionLoader": ("clip_name",),
    "CLIPVisionEncode": ("crop",),
    "StyleModelLoader": ("style_model_name",),
    "StyleModelApply": ("strength", "strength_type"),
    "ControlNetLoader": ("control_net_name",),
    "ControlNetApply": ("strength",),
    "ControlNetApplyAdvanced": ("strength", "start_percent", "end_percent"),
    "CLIPTextEncode": ("text",),
    "ConditioningSetArea": ("width", "height", "x", "y", "strength"),
    "ConditioningSetAreaPercentage": ("width", "height", "x", "y", "strength"),
    "ConditioningSetAreaStrength": ("strength",),
    "ConditioningSetMask": ("strength", "set_cond_area"),
    "ConditioningSetTimestepRange": ("start", "end"),
    "ConditioningAverage": ("conditioning_to_strength",),
    "EmptyLatentImage": ("width", "height", "batch_size"),
    "LatentUpscale": ("upscale_method", "width", "height", "crop"),
    "LatentUpscaleBy": ("upscale_method", "scale_by"),
    "LatentComposite": ("x", "y", "feather"),
    "ImageScale": ("upscale_method", "width", "height", "crop"),
    "ImageScaleBy": ("upscale_method", "scale_by"),
    "ImagePadForOutpaint": ("left", "top", "right", "bottom", "feathering"),
    "VAEDecodeTiled": ("tile_size", "overlap", "temporal_size", "temporal_overlap"),
    "VAEEncodeForInpaint": ("grow_mask_by",),
    "InpaintModelConditioning": ("noise_mask",),
    "SaveImage": ("filename_prefix",),
    "LoadImage": ("image", "upload"),
    "LoadImageMask": ("image", "channel", "upload"),
    "GLIGENTextBoxApply": ("text", "width", "height", "x", "y"),
    # comfy_extras/nodes_custom_sampler.py
    "SamplerCustom": ("add_noise", "noise_seed+", "cfg"),
    "RandomNoise": ("noise_seed+",),
    "CFGGuider": ("cfg",),
    "DualCFGGuider": ("cfg_conds", "cfg_cond2_negative", "style"),
    "KSamplerSelect": ("sampler_name",),
    "BasicScheduler": ("scheduler", "steps", "denoise"),
    "KarrasScheduler": ("steps", "sigma_max", "sigma_min", "rho"),
    "ExponentialScheduler": ("steps", "sigma_max", "sigma_min"),
    "PolyexponentialScheduler": ("steps", "sigma_max", "sigma_min", "rho"),
    "VPScheduler": ("steps", "beta_d", "beta_min", "eps_s"),
    "SDTurboScheduler": ("steps", "denoise"),
    "BetaSamplingScheduler": ("steps", "alpha", "beta"),
    "LaplaceScheduler": ("steps", "sigma_max", "sigma_min", "mu", "beta"),
    "AlignYourStepsScheduler": ("model_type", "steps", "denoise"),
    "GITSScheduler": ("coeff", "steps", "denoise"),
    # encoders of the model families (nodes_clip_sdxl, nodes_flux, nodes_sd3, nodes_hidream,
    # nodes_hunyuan, nodes_lumina2, nodes_qwen, nodes_pixart)
    "CLIPTextEncodeSDXL": ("width", "height", "crop_w", "crop_h", "target_width",
                           "target_height", "text_g", "text_l"),
    "CLIPTextEncodeSDXLRefiner": ("ascore", "width", "height", "text"),
    "CLIPTextEncodeFlux": ("clip_l", "t5xxl", "guidance"),
    "CLIPTextEncodeSD3": ("clip_l", "clip_g", "t5xxl", "empty_padding"),
    "CLIPTextEncodeHiDream": ("clip_l", "clip_g", "t5xxl", "llama"),
    "CLIPTextEncodeHunyuanDiT": ("bert", "mt5xl"),
    "TextEncodeHunyuanVideo_ImageToVideo": ("prompt", "image_interleave"),
    "CLIPTextEncodeLumina2": ("system_prompt", "user_prompt"),
    "CLIPTextEncodePixArtAlpha": ("width", "height", "text"),
    "TextEncodeQwenImageEdit": ("prompt",),
    "TextEncodeQwenImageEditPlus": ("prompt",),
    "FluxGuidance": ("guidance",),
    "FluxKontextMultiReferenceLatentMethod": ("reference_latents_method",),
    "TripleCLIPLoader": ("clip_name1", "clip_name2", "clip_name3"),
    "QuadrupleCLIPLoader": ("clip_name1", "clip_name2", "clip_name3", "clip_name4"),
    # latents and video conditioning
    "EmptySD3LatentImage": ("width", "height", "batch_size"),
    "EmptyFlux2LatentImage": ("width", "height", "batch_size"),
    "EmptyHunyuanImageLatent": ("width", "height", "batch_size"),
    "EmptyChromaRadianceLatentImage": ("width", "height", "batch_size"),
    "EmptyHunyuanLatentVideo": ("width", "height", "length", "batch_size"),
    "EmptyMochiLatentVideo": ("width", "height", "length", "batch_size"),
    "EmptyLTXVLatentVideo": ("width", "height", "length", "batch_size"),
    "EmptyCosmosLatentVideo": ("width", "height", "length", "batch_size"),
    "StableCascade_EmptyLatentImage": ("width", "height", "compression", "batch_size"),
    "StableCascade_StageC_VAEEncode": ("compression",),
    "WanImageToVideo": ("width", "height", "length", "batch_size"),
    "WanFirstLastFrameToVideo": ("width", "height", "length", "batch_size"),
    "HunyuanImageToVideo": ("width", "height", "length", "batch_size", "guidance_type"),
    "LTXVImgToVideo": ("width", "height", "length", "batch_size", "strength"),
    "LTXVConditioning": ("frame_rate",),
    "LTXVAddGuide": ("frame_idx", "strength"),
    "LTXVScheduler": ("steps", "max_shift", "base_shift", "stretch", "terminal"),
    "Flux2Scheduler": ("steps", "width", "height"),
    "StableZero123_Conditioning": ("width", "height", "batch_size", "elevation", "azimuth"),
    "SVD_img2vid_Conditioning": ("width", "height", "video_frames", "motion_bucket_id", "fps",
                                 "augmentation_level"),
    # model patches and loaders
    "ModelSamplingDiscrete": ("sampling", "zsnr"),
    "ModelSamplingSD3": ("shift",),
    "ModelSamplingAuraFlow": ("shift",),
    "ModelSamplingStableCascade": ("shift",),
    "ModelSamplingFlux": ("max_shift", "base_shift", "width", "height"),
    "ImageOnlyCheckpointLoader": ("ckpt_name",),
    "UpscaleModelLoader": ("model_name",),
    "HypernetworkLoader": ("hypernetwork_name", "strength"),
    "ModelPatchLoader": ("name",),
    # images and savers
    "ImageScaleToTotalPixels": ("upscale_method", "megapixels"),
    "ImageStitch": ("direction", "match_image_size", "spacing_width", "spacing_color"),
    "SaveAnimatedWEBP": ("filename_prefix", "fps", "lossless", "quality", "method"),
    "SaveAnimatedPNG": ("filename_prefix", "fps", "compress_level"),
    "SaveWEBM": ("filename_prefix", "codec", "fps", "crf"),
    # nodes_primitive.py (executed nodes, unlike the editor's PrimitiveNode)
    "PrimitiveString": ("value",),
    "PrimitiveStringMultiline": ("value",),
    "PrimitiveInt": ("value+",),
    "PrimitiveFloat": ("value",),
    "PrimitiveBoolean": ("value",),
    # comfy_api_nodes: generators that take the prompt and seed themselves
    "FluxKontextProImageNode": ("prompt", "aspect_ratio", "guidance", "steps", "seed+",
                                "prompt_upsampling"),
    "FluxKontextMaxImageNode": ("prompt", "aspect_ratio", "guidance", "steps", "seed+",
                                "prompt_upsampling"),
    "StabilityStableImageSD_3_5Node": ("prompt", "model", "aspect_ratio", "style_preset",
                                       "cfg_scale", "seed+", "image_denoise"),
    # ltdrdata/ComfyUI-Impact-Pack
    "ImpactKSamplerBasicPipe": ("seed+", "steps", "cfg", "sampler_name", "scheduler",
                                "denoise"),
    # Suzie1/ComfyUI_Comfyroll_CustomNodes (CR_Seed)
    "CR Seed": ("seed+",),
    # rgthree/rgthree-comfy (power_prompt.py; the two pickers are front-end widgets)
    "Power Prompt (rgthree)": ("prompt", "insert_lora", "insert_embedding"),
    "Power Prompt - Simple (rgthree)": ("prompt", "insert_embedding"),
    # receyuki/comfyui-prompt-reader-node (the three text widgets show what it read; the
    # generator's text widgets after batch_size only show what it computed)
    "SDPromptReader": ("image", "upload", "data_index", "positive", "negative", "settings"),
    "SDParameterGenerator": ("ckpt_name", "vae_name", "model_version", "config_name", "seed",
                             "steps", "refiner_start", "cfg", "sampler_name", "scheduler",
                             "positive_ascore", "negative_ascore", "aspect_ratio", "width",
                             "height", "batch_size"),
}

# Custom nodes whose outputs hand on one of their own widgets, by output slot.
OUTPUT_WIDGETS: dict[str, dict[int, str]] = {
    "SDPromptReader": {2: "positive", 3: "negative"},
}
# The same by output name, for nodes whose output slots moved between their versions (an
# editor workflow names each output; an API graph, which does not, gets no value from them).
OUTPUT_WIDGETS_BY_NAME: dict[str, dict[str, str]] = {
    "SDParameterGenerator": {"MODEL_NAME": "ckpt_name", "VAE_NAME": "vae_name",
                             "SEED": "seed", "STEPS": "steps", "CFG": "cfg",
                             "SAMPLER_NAME": "sampler_name", "SCHEDULER": "scheduler",
                             "WIDTH": "width", "HEIGHT": "height"},
}

# A seed's control_after_generate value, as the front ends write it.
CONTROL_VALUES = frozenset({"fixed", "increment", "decrement", "randomize"})
_SEED_NAMES = frozenset({"seed", "noise_seed"})


def _is_control(value: Any) -> bool:
    return isinstance(value, bool) or (isinstance(value, str) and value in CONTROL_VALUES)


def names_for(node: dict[str, Any]) -> tuple[str, ...] | None:
    """The widget names of an editor node, in `widgets_values` order ("+" marks a
    control value after it): the widget inputs the node lists itself when they cover every
    widget WIDGETS knows for its type (newer front ends list them all, in the order of the
    definition the file was saved with), else WIDGETS, else whatever the node lists; None
    when nothing says."""
    ntype = node.get("type")
    table = WIDGETS.get(ntype) if isinstance(ntype, str) else None
    listed: list[str] = []
    inputs = node.get("inputs")
    for inp in inputs if isinstance(inputs, list) else ():
        if isinstance(inp, dict) and isinstance(inp.get("widget"), dict):
            name = inp["widget"].get("name", inp.get("name"))
            if isinstance(name, str):
                listed.append(name)
    if table is None:
        return tuple(n + "+" if n in _SEED_NAMES else n for n in listed) or None
    if not listed or not {n.rstrip("+") for n in table} <= set(listed):
        return table
    controlled = {n.rstrip("+") for n in table if n.endswith("+")} | _SEED_NAMES
    return tuple(n + "+" if n in controlled else n for n in listed)


def layout(names: tuple[str, ...], values: list[Any]) -> dict[str, int]:
    """Widget name -> index in `values`, skipping each seed's control value where the file
    holds one (2023 files and nodes without the control hold none)."""
    out: dict[str, int] = {}
    i = 0
    for raw in names:
        if i >= len(values):
            break
        name = raw.rstrip("+")
        out.setdefault(name, i)
        i += 1
        if raw.endswith("+") and i < len(values) and _is_control(values[i]):
            i += 1
    return out
