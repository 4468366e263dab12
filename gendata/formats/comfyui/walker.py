"""Walk a ComfyUI API graph backwards from what made the image (docs/formats.md#the-api-graph).

Nothing is guessed: every value is read from a node reached by following links, and what
cannot be followed is reported in notes. Every traversal is iterative, keeps a visited set
and draws from one step budget, so cyclic links, deep chains and huge graphs give a partial
result with a note, never a hang or a RecursionError.

The Walker holds the graph, the budget and the notes, follows links and resolves values;
inputs.py reads what a sampler's inputs lead to and passes.py reads the sampler passes.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .graph import Graph, Link, Node, as_link
from .nodes import CONTROL_VALUES, VALUE_KEYS, is_scalar
from .widgets import OUTPUT_WIDGETS, OUTPUT_WIDGETS_BY_NAME

__all__ = ["STEP_BUDGET", "OutOfBudget", "Site", "Walker"]

STEP_BUDGET = 400_000


class OutOfBudget(Exception):
    """The walk took its whole step budget; the result so far is partial."""


@dataclass(frozen=True, slots=True)
class Site:
    """Where a value the walk read sits in the graph: input `key` of node `node` (and, for
    an input holding an object, such as rgthree's LoRA rows, its member `sub`). An edit
    writes there."""

    node: str
    key: str
    sub: str | None = None


class Walker:
    def __init__(self, graph: Graph, budget: int = STEP_BUDGET) -> None:
        self.g = graph
        self.budget = budget
        self.notes: list[str] = []

    def step(self) -> None:
        """Spend one step of the budget; raises OutOfBudget when it is gone."""
        self.budget -= 1
        if self.budget < 0:
            raise OutOfBudget

    def backwards(
        self, start: Link, what: str | None, *, per_slot: bool = False
    ) -> Iterator[tuple[Node, int, deque[Link]]]:
        """Breadth-first over the nodes reached backwards from `start`.

        Yields (node, output slot it was reached through, queue); the caller extends the
        queue with the links it wants followed. Each node is visited once (once per slot
        with `per_slot`) and costs one step of the budget; a link to a missing node is
        noted when `what` names the input, else skipped.
        """
        queue: deque[Link] = deque([start])
        seen: set[Any] = set()
        while queue:
            link = queue.popleft()
            key = link if per_slot else link[0]
            if key in seen:
                continue
            seen.add(key)
            self.step()
            node = self.g.get(link[0])
            if node is None:
                if what is not None:
                    self.notes.append(f"{what} links to missing node {link[0]}")
                continue
            yield node, link[1], queue

    def upstream(self, start: str) -> list[str]:
        """Ids reachable backwards from `start` (inclusive), nearest first."""
        order: list[str] = []
        for node, _, queue in self.backwards((start, 0), None):
            order.append(node.id)
            queue.extend(link for _, link in node.links())
        return order

    # --- values ------------------------------------------------------------------------

    def resolve(self, value: Any, what: str) -> Any:
        """A literal, or the literal a chain of value nodes (primitives, seeds) hands on."""
        return self._chase(value, what, None)[0]

    def trace(self, node: Node, key: str, what: str) -> tuple[Any, Site | str | None]:
        """`node.inputs[key]` resolved like `resolve`, and where its literal sits: a Site,
        or the reason it cannot be edited (it is computed by a node gendata cannot
        evaluate, or its link leads nowhere); None when the input is absent."""
        if key not in node.inputs:
            return None, None
        return self._chase(node.inputs[key], what, Site(node.id, key))

    def _chase(self, value: Any, what: str, site: Site | str | None
               ) -> tuple[Any, Site | str | None]:
        seen: set[str] = set()
        while True:
            link = as_link(value)
            if link is None:
                return value, site
            node = self.g.get(link[0])
            if node is None:
                note = f"{what} links to missing node {link[0]}"
                self.notes.append(note)
                return None, note
            if node.id in seen:
                note = f"{what} follows a cycle of links at {node.label()}"
                self.notes.append(note)
                return None, note
            seen.add(node.id)
            self.step()
            found = self._value_of(node, link[1])
            if found is None:
                note = f"{what} comes from {node.label()}, which gendata cannot evaluate"
                self.notes.append(note)
                return None, note
            key, value = found
            site = Site(node.id, key) if key is not None else (
                f"{what} is computed by {node.label()}")

    def _value_of(self, node: Node, slot: int) -> tuple[str | None, Any] | None:
        """(input name, value) a value node hands on through output `slot`; (None, value)
        for a value it computes (text joined by a concatenation node); None when gendata
        cannot tell."""
        inp = node.inputs
        by_name = OUTPUT_WIDGETS_BY_NAME.get(node.class_type)
        if by_name is not None:
            name = node.outputs[slot] if node.outputs and 0 <= slot < len(node.outputs) else None
            key = by_name.get(name) if name is not None else None
            if key is None or key not in inp:
                return None
            return _parameter_output(node, key)
        by_slot = OUTPUT_WIDGETS.get(node.class_type)
        if by_slot is not None:
            key = by_slot.get(slot)
            return (key, inp.get(key)) if key is not None and key in inp else None
        literals = {k: v for k, v in inp.items() if as_link(v) is None and is_scalar(v)}
        links = dict(node.links())
        ct = node.class_type.lower()
        if ("concat" in ct or "join" in ct or "combine" in ct) and "conditioning" not in ct:
            return None, self._concat(node)
        for key in VALUE_KEYS:
            if key in literals and not (
                isinstance(literals[key], str) and literals[key] in CONTROL_VALUES
            ):
                return key, literals[key]
        for key in VALUE_KEYS:
            if key in links:
                return key, inp[key]
        if len(literals) == 1 and not links:
            key = next(iter(literals))
            return key, literals[key]
        if len(links) == 1 and not literals:
            key = next(iter(links))
            return key, inp[key]
        return None

    def _concat(self, node: Node) -> Any:
        sep = node.inputs.get("delimiter", node.inputs.get("separator", ""))
        if not isinstance(sep, str):
            sep = ""
        parts: list[str] = []
        for name, value in node.inputs.items():
            if name in ("delimiter", "separator", "clean_whitespace"):
                continue
            v = self.resolve(value, f"input {name} of {node.label()}")
            if isinstance(v, str) and v:
                parts.append(v)
        return sep.join(parts)


# SD Prompt Reader's generator: its aspect-ratio presets (width, height at SD 1.x) and how
# each model version scales them (nodes.py of receyuki/comfyui-prompt-reader-node).
_ASPECT = {"1:1": (512, 512), "4:3": (576, 448), "3:4": (448, 576), "3:2": (608, 416),
           "2:3": (416, 608), "16:9": (672, 384), "9:16": (384, 672), "21:9": (768, 320),
           "9:21": (320, 768)}
_SCALE = {"SDv1 512px": 1.0, "SDv2 768px": 1.5, "SDXL 1024px": 2.0}


def _parameter_output(node: Node, key: str) -> tuple[str | None, Any] | None:
    """What a parameter node's output named for widget `key` gives: the widget as set, or
    the size its aspect-ratio preset computes (None as the key: not a widget to edit);
    None for a seed below 0, which it draws when it runs."""
    value = node.inputs[key]
    if as_link(value) is not None:  # the widget made an input: follow the link
        return key, value
    if key == "seed" and not (type(value) is int and value >= 0):
        return None
    ratio = node.inputs.get("aspect_ratio", "custom")
    if key in ("width", "height") and ratio != "custom":
        preset = _ASPECT.get(str(ratio).split(" - ")[0])
        scale = _SCALE.get(str(node.inputs.get("model_version", "SDv1 512px")))
        if preset is None or scale is None:
            return None
        return None, int(preset[0 if key == "width" else 1] * scale)
    return key, value
