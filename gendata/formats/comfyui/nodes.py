"""The node vocabulary the walker reads a ComfyUI graph with (docs/formats.md#the-api-graph).

Nothing here follows a link: these are the input names and class names that say what a
node is (a sampler, a prompt encoder, an output), and the small value rules shared by the
walk. Core nodes are named; custom nodes are recognised by the inputs they have.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .graph import Node

if TYPE_CHECKING:
    from ...model import Lora

OUTPUT_HINTS = ("save", "preview")
# Inputs that hold an encoder's prompt text, most usual first.
TEXT_KEYS = ("text", "prompt", "text_g", "t5xxl", "clip_l", "text_l", "user_prompt", "bert",
             "mt5xl", "clip_g", "llama", "Text", "string")
# Inputs a value node (primitive, seed, string) hands on, most usual first.
VALUE_KEYS = (
    "value",
    "seed",
    "noise_seed",
    "int",
    "float",
    "number",
    "string",
    "text",
    "Text",
    "String",
    "prompt",
    "boolean",
    "Number",
    "INT",
    "FLOAT",
    "STRING",
)
# Inputs that never carry conditioning: the prompt search does not follow them.
NOT_CONDITIONING = {
    "clip",
    "opt_clip",
    "model",
    "vae",
    "control_net",
    "image",
    "images",
    "pixels",
    "mask",
    "samples",
    "latent",
    "latent_image",
    "upscale_model",
    "style_model",
    "clip_vision",
    "clip_vision_output",
    "seed",
    "noise",
    "sampler",
    "sigmas",
    "guider",
    "lora_stack",
}
LATENT_KEYS = ("latent_image", "latent", "samples", "pixels", "image", "images", "LATENT")
# A seed widget's "control after generate" setting, stored beside the seed.
CONTROL_VALUES = {"fixed", "increment", "decrement", "randomize"}
# Sigma-schedule nodes that name their scheduler only by their class.
SCHEDULER_CLASSES = {
    "KarrasScheduler": "karras",
    "ExponentialScheduler": "exponential",
    "PolyexponentialScheduler": "polyexponential",
    "SDTurboScheduler": "sd_turbo",
    "AlignYourStepsScheduler": "ays",
    "BetaSamplingScheduler": "beta",
    "LaplaceScheduler": "laplace",
    "VPScheduler": "vp",
    "GITSScheduler": "gits",
}
# Inputs naming the checkpoint of a loader, and those leading from a model to its loader.
CHECKPOINT_KEYS = ("ckpt_name", "unet_name", "model_path", "base_ckpt_name")
MODEL_LINK_KEYS = ("model", "model1", "lora_stack", "unet", "base_model")
IMAGE_LOADERS = ("LoadImage", "LoadImageMask", "Image Load")


def is_sampler(node: Node) -> bool:
    inp = node.inputs
    ct = node.class_type
    if ct in ("KSampler", "KSamplerAdvanced", "SamplerCustom", "SamplerCustomAdvanced"):
        return True
    if ct == "KSamplerSelect" or "select" in ct.lower():
        return False
    has_cond = "positive" in inp or "guider" in inp
    has_latent = "latent_image" in inp or "latent" in inp
    if has_cond and has_latent:
        return True
    return (
        "sampler_name" in inp
        and "steps" in inp
        and "cfg" in inp
        and ("seed" in inp or "noise_seed" in inp or has_latent)
    )


def is_encoder(node: Node) -> bool:
    ct = node.class_type
    if "TextEncode" in ct or "CLIPText" in ct:
        return True
    return any(k in node.inputs for k in ("text", "prompt", "text_g", "t5xxl", "user_prompt",
                                           "bert")) and (
        "clip" in node.inputs or "opt_clip" in node.inputs
    )


def is_generator(node: Node) -> bool:
    """A node that makes the image from a prompt and a seed by itself, with no sampler
    (ComfyUI's API nodes: FluxKontextProImageNode, StabilityStableImageSD_3_5Node, ...)."""
    inp = node.inputs
    return ("seed" in inp and ("prompt" in inp or "text" in inp)
            and not is_encoder(node) and "positive" not in inp and "conditioning" not in inp)


def is_output(node: Node) -> bool:
    return any(h in node.class_type.lower() for h in OUTPUT_HINTS) and (
        "images" in node.inputs or "image" in node.inputs
    )


def is_scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool))


def make_lora(name: Any, strength_model: float | None, strength_clip: float | None
              ) -> Lora | None:
    """A loader's LoRA; None for an empty slot or one switched off by zero strengths."""
    if not isinstance(name, str) or not name or name.lower() == "none":
        return None
    if strength_model == 0 and (strength_clip in (None, 0)):
        return None
    from ...model import Lora

    weight = strength_clip if strength_clip is not None else strength_model
    unet = strength_model if strength_model is not None and strength_model != weight else None
    return Lora(name=name, weight=weight, unet_weight=unet)
