"""Presentation, neutral: the words a front end puts next to values (field labels, generator
names, section titles)."""

from __future__ import annotations

# Model field -> label, in the order `show` and the TUI's detail view list them. The labels
# are A1111's infotext keys where there is one, so what is shown reads like what is stored.
MAIN_FIELDS: list[tuple[str, str]] = [
    ("steps", "Steps"), ("sampler", "Sampler"), ("scheduler", "Schedule type"),
    ("cfg_scale", "CFG scale"), ("seed", "Seed"), ("size", "Size"), ("model", "Model"),
    ("model_hash", "Model hash"), ("vae", "VAE"), ("vae_hash", "VAE hash"),
    ("clip_skip", "Clip skip"), ("variation_seed", "Variation seed"),
    ("variation_seed_strength", "Variation seed strength"), ("version", "Version"),
]
HIRES_FIELDS: list[tuple[str, str]] = [
    ("hires_upscale", "Hires upscale"), ("hires_size", "Hires resize"),
    ("hires_steps", "Hires steps"), ("hires_upscaler", "Hires upscaler"),
    ("denoising_strength", "Denoising strength"),
]

# Every model field (and the two combined sizes) -> label, for forms and column headers.
FIELD_LABELS: dict[str, str] = {
    "generator": "Generator", "prompt": "Prompt", "negative_prompt": "Negative prompt",
    **dict(MAIN_FIELDS), **dict(HIRES_FIELDS),
    "width": "Width", "height": "Height", "hires_width": "Hires width",
    "hires_height": "Hires height", "loras": "LoRAs", "embeddings": "Embeddings",
    "samplers": "Sampler passes", "extra": "Other parameters", "notes": "Notes",
}

# Generator key (GenParams.generator) -> the name its users know it by. A local table until
# each dialect declares its own display name (formats.display_name); keys not listed are shown
# as they are.
GENERATOR_DISPLAY_NAMES: dict[str, str] = {
    "a1111": "AUTOMATIC1111", "forge": "Forge", "reforge": "reForge",
    "forge-classic": "Forge Classic", "forge-neo": "Forge Neo", "sdnext": "SD.Next",
    "comfyui": "ComfyUI", "novelai": "NovelAI", "invokeai": "InvokeAI", "fooocus": "Fooocus",
    "swarmui": "SwarmUI",
}

# Generators whose data is A1111's infotext (one dialect, gendata.formats.a1111).
A1111_FAMILY = frozenset({"a1111", "forge", "forge-neo", "forge-classic", "reforge", "sdnext"})

# Record.extras key -> title of its section; other keys are titled from the key itself.
SECTION_TITLES: dict[str, str] = {"textual_inversion": "Textual-inversion embedding"}


def generator_name(key: str) -> str:
    """"ComfyUI" for "comfyui"; an unknown key as it is, so a new dialect still shows."""
    return GENERATOR_DISPLAY_NAMES.get(key, key)


def section_title(key: str) -> str:
    return SECTION_TITLES.get(key, key.replace("_", " ").capitalize())


def dialect_label(dialect: str | None) -> str:
    """A dialect (or, where the model does not say which dialect read it, the generator) as
    a user names the format: "A1111 infotext", "ComfyUI metadata"."""
    if not dialect or dialect in A1111_FAMILY:
        return "A1111 infotext"
    return f"{generator_name(dialect)} metadata"
