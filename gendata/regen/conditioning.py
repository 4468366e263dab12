"""Regen's prompt conditioning: a PromptPlan turned into the text encoders' states the way
A1111 builds them (docs/regen.md#how-a1111-is-matched, prompts), handed to the stock pipelines as
`prompt_embeds` so that diffusers' own prompt handling is never used.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from ..model import GenParams
from .backend import require
from .emphasis import chunk_tokens
from .recipe import PromptPlan
from .report import Deviation

__all__ = ["Cond", "cond_kwargs", "encoders", "pad_conds", "pair"]


@dataclass
class Cond:
    """Conditioning for one prompt: the cross-attention states, plus SDXL's pooled vector."""

    states: Any
    pooled: Any = None


def encoders(pipe: Any) -> list[tuple[Any, Any]]:
    """(tokenizer, text encoder) pairs: CLIP for SD 1.x; CLIP-L and OpenCLIP-G for SDXL."""
    pairs = [(pipe.tokenizer, pipe.text_encoder)]
    if getattr(pipe, "text_encoder_2", None) is not None:
        pairs.append((pipe.tokenizer_2, pipe.text_encoder_2))
    return pairs


def _encode_one(tok: Any, te: Any, pp: PromptPlan, emb_ids: dict[str, list[int]],
                pooled: bool) -> tuple[Any, Any]:
    """A1111's conditioning for one text encoder: 75-token chunks, the plan's hidden state
    (with CLIP's final LayerNorm for SD 1.x, without for SDXL), emphasis with mean
    restoration per encoder, chunks concatenated; the pooled vector, for SDXL's OpenCLIP-G,
    comes from the first chunk and carries no emphasis (docs/regen.md#how-a1111-is-matched; A1111
    sd_hijack_clip)."""
    torch, _ = require()
    vocab = tok.get_vocab()
    comma = vocab.get(",</w>", -1)
    bos, eos = tok.bos_token_id, tok.eos_token_id
    # SD 1.x pads with the end token; OpenCLIP-G (SDXL's second encoder) pads with its pad
    # token (id 0, "!") after the first end token.
    pad_id = eos if not pooled or tok.pad_token_id is None else tok.pad_token_id

    def tokenize(text: str) -> list[int]:
        return list(tok(text, add_special_tokens=False, truncation=False).input_ids)

    chunks = chunk_tokens(pp.pieces, tokenize, comma_id=comma, embeddings=emb_ids)
    final_ln = getattr(te, "text_model", te).final_layer_norm
    out, pool = [], None
    for ch in chunks:
        pad = 75 - len(ch.tokens)
        ids = torch.tensor([[bos, *ch.tokens, eos, *([pad_id] * pad)]], device=te.device)
        w = torch.tensor([1.0, *ch.weights, 1.0, *([1.0] * pad)], device=te.device)
        res = te(ids, output_hidden_states=True)
        if pooled and pool is None:
            pool = res.text_embeds
        if pp.clip_skip > 1:
            z = res.hidden_states[-pp.clip_skip]
            if pp.final_norm:
                z = final_ln(z)
        else:
            z = res.last_hidden_state
        if pp.emphasis in ("Original", "No norm"):
            before = z.float().mean()
            z = z * w.to(z.dtype)[None, :, None]
            after = z.float().mean()
            if pp.emphasis == "Original" and after != 0:
                z = z * (before / after).to(z.dtype)
        out.append(z)
    return torch.cat(out, dim=1), pool


def _encode(pipe: Any, pp: PromptPlan, emb_ids: list[dict[str, list[int]]],
            zero_if_empty: bool = False) -> Cond:
    torch, _ = require()
    pairs = encoders(pipe)
    parts = [_encode_one(tok, te, pp, emb_ids[i] if i < len(emb_ids) else {},
                         pooled=len(pairs) > 1 and i == len(pairs) - 1)
             for i, (tok, te) in enumerate(pairs)]
    states = torch.cat([z for z, _ in parts], dim=-1)
    pooled = parts[-1][1]
    if zero_if_empty and pp.text == "":
        # A1111's SDXL conditioning zeroes an empty negative prompt (force_zero_embeddings).
        states = torch.zeros_like(states)
        pooled = torch.zeros_like(pooled) if pooled is not None else None
    return Cond(states, pooled)


def pair(pipe: Any, pos: PromptPlan, neg: PromptPlan, emb: list[dict[str, list[int]]],
          devs: list[Deviation], pad_conds: bool) -> tuple[Cond, Cond]:
    """Prompt and negative conditioning. diffusers needs both the same length, so the shorter
    gets empty-prompt chunks: that is A1111's "Pad conds" option; without it A1111 runs the two
    through the UNet separately, unpadded, which this cannot do — reported as a deviation."""
    torch, _ = require()
    sdxl = getattr(pipe, "text_encoder_2", None) is not None
    c, u = _encode(pipe, pos, emb), _encode(pipe, neg, emb, zero_if_empty=sdxl)
    if c.states.shape[1] != u.states.shape[1]:
        if not pad_conds:
            devs.append(Deviation(
                "cond-padded", "close",
                f"prompt and negative prompt have {c.states.shape[1] // 77} and "
                f"{u.states.shape[1] // 77} 75-token chunks; the shorter is padded with empty "
                "chunks (A1111 runs them separately unless 'Pad conds' is on)"))
        empty = _encode(pipe, replace(neg, text="", pieces=[("", 1.0)]), [])
        while c.states.shape[1] < u.states.shape[1]:
            c.states = torch.cat([c.states, empty.states], dim=1)
        while u.states.shape[1] < c.states.shape[1]:
            u.states = torch.cat([u.states, empty.states], dim=1)
    return c, u


def cond_kwargs(c: Cond, u: Cond, size: Any) -> dict[str, Any]:
    kw = {"prompt_embeds": c.states, "negative_prompt_embeds": u.states}
    if c.pooled is not None:
        kw.update(pooled_prompt_embeds=c.pooled, negative_pooled_prompt_embeds=u.pooled)
    if size is not None:
        kw.update(original_size=tuple(size.original), crops_coords_top_left=tuple(size.crop),
                  target_size=tuple(size.target))
    return kw


def pad_conds(params: GenParams) -> bool:
    """Whether A1111's "Pad conds" option was on for the image (see `pair`)."""
    return str(params.extra.get("Pad conds", "")).lower() == "true"
