"""Presentation, neutral: what a front end shows for a record, as plain strings and rows.

Field labels, generator display names, value text, the rows and sections of a record, and the
edit form's view of a model live here once, so that the CLI (rich), the TUI (Textual) and a
web gallery (HTML) show the same words and differ only in how they draw them. Nothing here
imports click, rich or Textual, and importing this package does not import pydantic (the
`show` path reads deferred parameters without building the model).
"""

from __future__ import annotations

from .labels import (
    A1111_FAMILY,
    FIELD_LABELS,
    GENERATOR_DISPLAY_NAMES,
    HIRES_FIELDS,
    MAIN_FIELDS,
    SECTION_TITLES,
    dialect_label,
    generator_name,
    section_title,
)
from .record import (
    RAW_COLUMNS,
    SAMPLER_COLUMNS,
    NetworkRow,
    Row,
    Span,
    data_locations,
    dialect_of,
    extra_rows,
    extras_sections,
    field_rows,
    format_summary,
    hires_rows,
    network_rows,
    new_data_location,
    no_data_message,
    params_view,
    prompt_spans,
    raw_rows,
    raw_title,
    remarks,
    sampler_pass_rows,
    sampler_pass_summary,
    sampler_pass_title,
    sampler_rows,
    summary_parts,
)
from .values import escape_char, field_value, format_value, shorten, visible, visible_parts

__all__ = [
    "A1111_FAMILY",
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
    "data_locations",
    "dialect_label",
    "dialect_of",
    "escape_char",
    "extra_rows",
    "extras_sections",
    "field_rows",
    "field_value",
    "format_summary",
    "format_value",
    "generator_name",
    "hires_rows",
    "network_rows",
    "new_data_location",
    "no_data_message",
    "params_view",
    "prompt_spans",
    "raw_rows",
    "raw_title",
    "remarks",
    "sampler_pass_rows",
    "sampler_pass_summary",
    "sampler_pass_title",
    "sampler_rows",
    "section_title",
    "shorten",
    "summary_parts",
    "visible",
    "visible_parts",
]
