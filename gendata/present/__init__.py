"""Presentation, neutral: what a front end shows for a record, as plain strings and rows.

Field labels, generator display names, value text, the rows and sections of a record, and the
edit form's view of a model live here once, so that the CLI (rich), the TUI (Textual) and a
web gallery (HTML) show the same words and differ only in how they draw them. Nothing here
imports click, rich or Textual, and importing this package does not import pydantic (the
`show` path reads deferred parameters without building the model).
"""

from __future__ import annotations

from .labels import (
    FIELD_LABELS,
    GENERATOR_DISPLAY_NAMES,
    HIRES_FIELDS,
    MAIN_FIELDS,
    SECTION_TITLES,
    generator_name,
    section_title,
)
from .record import (
    RAW_COLUMNS,
    SAMPLER_COLUMNS,
    NetworkRow,
    Row,
    Span,
    extra_rows,
    extras_sections,
    field_rows,
    hires_rows,
    network_rows,
    no_data_message,
    params_view,
    prompt_spans,
    raw_rows,
    raw_title,
    remarks,
    sampler_pass_summary,
    sampler_rows,
    summary_parts,
)
from .values import field_value, format_value, shorten

__all__ = [
    "FIELD_LABELS",
    "GENERATOR_DISPLAY_NAMES",
    "HIRES_FIELDS",
    "MAIN_FIELDS",
    "RAW_COLUMNS",
    "SAMPLER_COLUMNS",
    "SECTION_TITLES",
    "NetworkRow",
    "Row",
    "Span",
    "extra_rows",
    "extras_sections",
    "field_rows",
    "field_value",
    "format_value",
    "generator_name",
    "hires_rows",
    "network_rows",
    "no_data_message",
    "params_view",
    "prompt_spans",
    "raw_rows",
    "raw_title",
    "remarks",
    "sampler_pass_summary",
    "sampler_rows",
    "section_title",
    "shorten",
    "summary_parts",
]
