"""The model and the plain-data field tables it is built from (model_fields), and the
JSON form of the model read back (GenParams.from_json)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from gendata import api
from gendata.errors import ParseError
from gendata.model import Embedding, GenParams, Lora, SamplerPass
from gendata.model_fields import (
    EMBEDDING,
    GENPARAMS,
    LORA,
    REQUIRED,
    SAMPLER_PASS,
    FieldSpec,
    conforms,
)

from .conftest import CORPUS, FIXTURES

TABLES: list[tuple[type[BaseModel], dict[str, FieldSpec]]] = [
    (GenParams, GENPARAMS), (Lora, LORA), (Embedding, EMBEDDING), (SamplerPass, SAMPLER_PASS)]
CANDIDATES: list[Any] = [None, 0, 1, -1, 2**64, 0.0, 0.5, -0.5, 1.0, "", "x", "3", True, False,
                         [], {}]


@pytest.mark.parametrize(("model", "table"), TABLES, ids=lambda x: getattr(x, "__name__", ""))
def test_models_take_their_fields_from_the_tables(model: type[BaseModel],
                                                  table: dict[str, FieldSpec]) -> None:
    assert list(model.model_fields)[:len(table)] == list(table)
    for name, spec in table.items():
        info = model.model_fields[name]
        assert info.is_required() == (spec.default is REQUIRED)
        if spec.default is not REQUIRED:
            assert info.default == spec.default


@pytest.mark.parametrize(("model", "table"), TABLES, ids=lambda x: getattr(x, "__name__", ""))
def test_static_annotations_match_the_tables(model: type[BaseModel],
                                             table: dict[str, FieldSpec]) -> None:
    """The classes spell their scalar fields out for type checkers; the table stays the one
    source of defaults and bounds, so the two must list the same fields, in the same order,
    with the same types, and no bound of the table may be left out."""
    declared = [k for k in vars(model).get("__annotations__", {}) if not k.startswith("_")
                and k != "model_config"]
    assert declared[:len(table)] == list(table)
    for name, spec in table.items():
        info = model.model_fields[name]
        expected = spec.type | None if spec.nullable else spec.type
        assert info.annotation == expected, (name, info.annotation, expected)
        bounds = {(type(m).__name__, getattr(m, "gt", None), getattr(m, "ge", None))
                  for m in info.metadata}
        want = set()
        if spec.gt is not None:
            want.add(("Gt", spec.gt, None))
        if spec.ge is not None:
            want.add(("Ge", None, spec.ge))
        assert bounds == want, (name, info.metadata)


@pytest.mark.parametrize(("model", "table"), TABLES, ids=lambda x: getattr(x, "__name__", ""))
def test_conforming_values_are_what_validation_gives(model: type[BaseModel],
                                                     table: dict[str, FieldSpec]) -> None:
    """The read path builds models without validation for values `conforms` accepts: that is
    safe only if validation would accept them and change nothing."""
    required = {k: "n" for k, spec in table.items() if spec.default is REQUIRED}
    for name in table:
        for value in CANDIDATES:
            values = {**required, name: value}
            if not conforms(values, table):
                continue
            built = model.model_validate(values)
            got = getattr(built, name)
            assert got == value and type(got) is type(value), (name, value)


def test_bounds_of_the_table_are_enforced() -> None:
    for name, spec in GENPARAMS.items():
        if spec.gt is not None:
            with pytest.raises(PydanticValidationError):
                GenParams(**{name: spec.type(spec.gt)})
            assert not conforms({name: spec.type(spec.gt)})
        if spec.ge is not None:
            assert getattr(GenParams(**{name: spec.type(spec.ge)}), name) == spec.ge
            with pytest.raises(PydanticValidationError):
                GenParams(**{name: spec.type(spec.ge) - 1})


def images() -> list[Path]:
    found = [p for p in FIXTURES.rglob("*") if p.suffix in (".png", ".jpg", ".webp")]
    if CORPUS.is_dir():
        found += [p for p in CORPUS.rglob("*") if p.suffix in (".png", ".jpg", ".jpeg", ".webp")]
    return sorted(found)


@pytest.mark.parametrize("path", images(), ids=str)
def test_from_json_reads_back_what_to_json_wrote(path: Path) -> None:
    rec = api.read_safe(path)
    if rec.params is None:
        return
    obj = json.loads(json.dumps(rec.to_json()))  # through real JSON text
    back = GenParams.from_json(obj, str(path))
    assert back.model_dump() == rec.params.model_dump()
    assert back.json_fields() == rec.params.json_fields()
    assert back.origin is None


def test_from_json_reports_what_is_wrong() -> None:
    with pytest.raises(ParseError, match=r"x\.json: expected a JSON object"):
        GenParams.from_json([1], "x.json")
    with pytest.raises(ParseError, match=r"x\.json: steps must be a positive integer, got 0"):
        GenParams.from_json({"steps": 0}, "x.json")
    p = GenParams.from_json({"path": "a.png", "prompt": "a cat", "seed": None, "raw": {}}, "-")
    assert (p.prompt, p.seed) == ("a cat", None)
