"""A ComfyUI API graph (`prompt` chunk): node ids mapped to `{class_type, inputs}`.

docs/formats.md#the-api-graph: ids are arbitrary strings ("3", "30:6", "CheckpointLoader_Base");
an input is a literal or a link `[source_id, output_index]`. This module only holds the
graph; walker.py and what it calls read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...errors import ParseError

__all__ = ["MAX_NODES", "Graph", "Link", "Node", "as_link"]

MAX_NODES = 100_000

Link = tuple[str, int]


def as_link(value: Any) -> Link | None:
    """`["4", 0]` / `[4, 0]` -> ("4", 0); anything else (a literal) -> None."""
    if (
        isinstance(value, list)
        and len(value) == 2
        and isinstance(value[0], (str, int))
        and not isinstance(value[0], bool)
        and isinstance(value[1], int)
        and not isinstance(value[1], bool)
    ):
        return str(value[0]), value[1]
    return None


# The key under which a graph converted from an editor workflow keeps each node's output
# names (not a ComfyUI key: the converted graph is gendata's own, never written out).
OUTPUT_NAMES_KEY = "_gendata_outputs"


@dataclass(slots=True)
class Node:
    id: str
    class_type: str
    inputs: dict[str, Any]
    title: str | None = None
    # output names by slot, where the graph came from an editor workflow (which names them;
    # an API graph does not): a custom node's outputs move between its versions, names stay
    outputs: tuple[str | None, ...] | None = None

    def label(self) -> str:
        return f"node {self.id} ({self.class_type})"

    def links(self) -> list[tuple[str, Link]]:
        """(input name, link) for every input that is a link, in input order."""
        out = []
        for name, value in self.inputs.items():
            link = as_link(value)
            if link is not None:
                out.append((name, link))
        return out


class Graph:
    """The nodes of one API-format graph, keyed by string id."""

    def __init__(self, nodes: dict[str, Node]) -> None:
        self.nodes = nodes

    @classmethod
    def from_api(cls, data: Any, what: str = "prompt") -> Graph:
        if not isinstance(data, dict):
            raise ParseError(
                f"{what}: ComfyUI graph must be a JSON object, got {type(data).__name__}"
            )
        nodes: dict[str, Node] = {}
        for key, value in data.items():
            if not isinstance(value, dict):
                continue
            ctype = value.get("class_type")
            if not isinstance(ctype, str):
                continue
            inputs = value.get("inputs")
            if not isinstance(inputs, dict):
                inputs = {}
            meta = value.get("_meta")
            title = meta.get("title") if isinstance(meta, dict) else None
            names = value.get(OUTPUT_NAMES_KEY)
            outputs = tuple(n if isinstance(n, str) else None for n in names) \
                if isinstance(names, list) else None
            nodes[str(key)] = Node(
                str(key), ctype, inputs, title if isinstance(title, str) else None, outputs
            )
            if len(nodes) > MAX_NODES:
                raise ParseError(f"{what}: ComfyUI graph has more than {MAX_NODES} nodes")
        if not nodes:
            raise ParseError(f"{what}: no ComfyUI nodes (objects with class_type) in the graph")
        return cls(nodes)

    def get(self, node_id: str) -> Node | None:
        return self.nodes.get(node_id)
