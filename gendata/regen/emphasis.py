"""Regen service, pure: A1111 prompt syntax -> weighted pieces -> 75-token chunks.

docs/regen.md#how-a1111-is-matched, prompts. A1111 weights tokens with `(x)` x1.1, `[x]` /1.1 and
`(x:w)` xw, splits on BREAK, packs tokens into chunks of 75 (never splitting an embedding, moving
text after a nearby comma to the next chunk) and encodes each chunk as BOS + 75 + EOS. compel and
diffusers' long-prompt pipeline use other rules, so this is written here, from that description. The
only non-pure piece, tokenization, is a callable the caller passes in.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

__all__ = [
    "BREAK",
    "Chunk",
    "ExtraNetwork",
    "chunk_tokens",
    "extract_extra_networks",
    "flatten_prompt_schedules",
    "parse_attention",
    "split_and",
]

BREAK = ("BREAK", -1.0)

_TOKEN = re.compile(
    r"""
    \\[()\[\]\\]          # escaped bracket or backslash: literal
  | \\                    # lone backslash: literal
  | \(                    # open round
  | \[                    # open square
  | :\s*([+-]?[.\d]+)\s*\)  # ':weight)' closes a round bracket with an explicit weight
  | \)                    # close round
  | ]                     # close square
  | [^\\()\[\]:]+         # plain text
  | :                     # a colon that is not a weight
    """,
    re.X,
)
_BREAK_RE = re.compile(r"\s*\bBREAK\b\s*", re.S)
_EXTRA_NET = re.compile(r"<(\w+):([^>]+)>")
ROUND, SQUARE = 1.1, 1 / 1.1


def parse_attention(text: str) -> list[tuple[str, float]]:
    """Split `text` into (piece, weight) the way A1111's emphasis parser does.

    Unclosed brackets apply to the end of the prompt; `BREAK` becomes the BREAK marker;
    neighbouring pieces of equal weight merge.
    """
    res: list[list] = []
    rounds: list[int] = []
    squares: list[int] = []

    def scale(start: int, factor: float) -> None:
        for item in res[start:]:
            item[1] *= factor

    for m in _TOKEN.finditer(text):
        tok, weight = m.group(0), m.group(1)
        if tok.startswith("\\"):
            res.append([tok[1:], 1.0])
        elif tok == "(":
            rounds.append(len(res))
        elif tok == "[":
            squares.append(len(res))
        elif weight is not None and rounds:
            scale(rounds.pop(), float(weight))
        elif tok == ")" and rounds:
            scale(rounds.pop(), ROUND)
        elif tok == "]" and squares:
            scale(squares.pop(), SQUARE)
        else:
            for i, part in enumerate(_BREAK_RE.split(tok)):
                if i > 0:
                    res.append(list(BREAK))
                res.append([part, 1.0])
    for pos in rounds:
        scale(pos, ROUND)
    for pos in squares:
        scale(pos, SQUARE)
    if not res:
        res = [["", 1.0]]
    merged: list[list] = [res[0]]
    for item in res[1:]:
        if item[1] == merged[-1][1] and item[1] != -1.0:
            merged[-1][0] += item[0]
        else:
            merged.append(item)
    return [(t, w) for t, w in merged]


@dataclass(frozen=True)
class ExtraNetwork:
    """A `<kind:name:args>` tag: `<lora:n:0.8>`, `<lora:n:te=1:unet=0.5>`, `<hypernet:x:1>`."""

    kind: str
    name: str
    te_weight: float
    unet_weight: float


def extract_extra_networks(prompt: str) -> tuple[str, list[ExtraNetwork]]:
    """Remove extra-network tags from the prompt, as A1111 does before parsing emphasis."""
    found: list[ExtraNetwork] = []

    def take(m: re.Match[str]) -> str:
        kind, args = m.group(1), m.group(2).split(":")
        named = {}
        positional = []
        for a in args:
            if "=" in a:
                k, _, v = a.partition("=")
                named[k.strip()] = v.strip()
            else:
                positional.append(a.strip())
        name = positional[0] if positional else named.get("name", "")

        def num(v: str | None, default: float) -> float:
            try:
                return float(v) if v not in (None, "") else default
            except ValueError:
                return default

        te = num(named.get("te", positional[1] if len(positional) > 1 else None), 1.0)
        unet = num(named.get("unet", positional[2] if len(positional) > 2 else None), te)
        found.append(ExtraNetwork(kind.lower(), name, te, unet))
        return ""

    return _EXTRA_NET.sub(take, prompt), found


def split_and(prompt: str) -> list[str]:
    """Composable-diffusion subprompts (`a AND b`); one element when there is no AND."""
    return [p for p in re.split(r"\bAND\b", prompt)]


def flatten_prompt_schedules(prompt: str) -> tuple[str, bool]:
    """Replace prompt editing `[a:b:n]`, `[b:n]`, `[a::n]` and alternation `[a|b]` with the text
    that is active at the first step; return (text, whether anything was replaced).

    A1111 changes the conditioning during sampling there; a single conditioning is used here.
    """
    changed = False

    def resolve(inner: str) -> str | None:
        depth, colons, bars = 0, [], []
        for i, ch in enumerate(inner):
            if ch in "([":
                depth += 1
            elif ch in ")]":
                depth -= 1
            elif depth == 0 and ch == ":":
                colons.append(i)
            elif depth == 0 and ch == "|":
                bars.append(i)
        if bars:
            return inner[: bars[0]]
        if colons and re.fullmatch(r"\s*[+-]?\d*\.?\d+\s*", inner[colons[-1] + 1 :]):
            if len(colons) >= 2:
                return inner[: colons[0]]  # [from:to:when] -> from
            return ""  # [to:when] -> nothing at first
        return None

    out: list[str] = []
    stack: list[int] = []
    i = 0
    while i < len(prompt):
        ch = prompt[i]
        if ch == "\\" and i + 1 < len(prompt):
            out.append(prompt[i : i + 2])
            i += 2
            continue
        if ch == "[":
            stack.append(len(out))
            out.append(ch)
        elif ch == "]" and stack:
            start = stack.pop()
            inner = "".join(out[start + 1 :])
            rep = resolve(inner)
            if rep is None:
                out.append(ch)
            else:
                changed = True
                del out[start:]
                out.append(rep)
        else:
            out.append(ch)
        i += 1
    return "".join(out), changed


@dataclass
class Chunk:
    """75 token ids and multipliers, before BOS/EOS are added; `embeddings` are (position, name)."""

    tokens: list[int] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)
    embeddings: list[tuple[int, str]] = field(default_factory=list)


def chunk_tokens(
    pieces: Sequence[tuple[str, float]],
    tokenize: Callable[[str], list[int]],
    *,
    comma_id: int,
    embeddings: dict[str, list[int]] | None = None,
    length: int = 75,
    comma_backtrack: int = 20,
) -> list[Chunk]:
    """Pack weighted pieces into chunks of `length` tokens the way A1111 does.

    `embeddings` maps an embedding's trigger word to the token ids of its vectors; such a run
    is kept in one chunk. Padding to `length` is left to the encoder (SD1 pads with EOS).
    """
    embeddings = embeddings or {}
    names = "|".join(re.escape(k) for k in sorted(embeddings, key=len, reverse=True))
    emb_re = re.compile(r"(?<![\w])(" + names + r")(?![\w])") if embeddings else None
    chunks: list[Chunk] = []
    cur = Chunk()
    last_comma = -1

    def flush() -> None:
        nonlocal cur, last_comma
        chunks.append(cur)
        cur = Chunk()
        last_comma = -1

    for text, weight in pieces:
        if (text, weight) == BREAK:
            flush()
            continue
        items: list[tuple[list[int], str | None]] = []
        segments = emb_re.split(text) if emb_re else [text]
        for j, seg in enumerate(segments):
            if emb_re and j % 2 == 1:
                items.append((list(embeddings[seg]), seg))
            elif seg:
                items.extend(([t], None) for t in tokenize(seg))
        for ids, emb in items:
            if emb is None:
                tok = ids[0]
                if tok == comma_id:
                    last_comma = len(cur.tokens)
                elif (
                    comma_backtrack
                    and len(cur.tokens) == length
                    and last_comma != -1
                    and len(cur.tokens) - last_comma <= comma_backtrack
                ):
                    cut = last_comma + 1
                    moved_t, moved_w = cur.tokens[cut:], cur.weights[cut:]
                    cur.tokens, cur.weights = cur.tokens[:cut], cur.weights[:cut]
                    flush()
                    cur.tokens, cur.weights = moved_t, moved_w
                if len(cur.tokens) == length:
                    flush()
                cur.tokens.append(tok)
                cur.weights.append(weight)
            else:
                if len(cur.tokens) == length or len(cur.tokens) + len(ids) > length:
                    flush()
                cur.embeddings.append((len(cur.tokens), emb))
                cur.tokens.extend(ids)
                cur.weights.extend([weight] * len(ids))
    if cur.tokens or not chunks:
        chunks.append(cur)
    return chunks
