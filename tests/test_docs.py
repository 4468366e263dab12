"""Docs that cannot go stale: every module, file and link that README.md and docs/*.md name
must exist, and every `docs/formats.md#anchor` cited in code, tests or docs must be a heading
of that file. A module moved without its docs fails here, not in a reader's hands."""

from __future__ import annotations

import importlib
import re
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FORMATS = ROOT / "docs" / "formats.md"

_TOP = ("gendata", "docs", "tests", "benchmarks", "scripts", "fixtures")
_PATH = re.compile(r"(?<![\w./-])((?:" + "|".join(_TOP) + r")/[\w./*-]*)")
_DOTTED = re.compile(r"(?<![\w.])gendata(?:\.[A-Za-z_]\w*)+")
_FROM_IMPORT = re.compile(r"\bfrom\s+(gendata(?:\.\w+)*)\s+import\s+([\w, ]+)")
_LINK = re.compile(r"\]\(([^)\s]+)\)")
_FORMATS_CITE = re.compile(r"formats\.md#([\w-]+)")
# The numbered style the anchors replace: "formats.md section 2.1", "formats.md §4",
# "formats.md 17", "architecture.md habit 2".
_NUMBERED_CITE = re.compile(r"formats\.md,?\s*(?:§\s*|sections?\s+)?\d|architecture\.md habit \d")


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to dashes."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def headings(path: Path) -> list[str]:
    in_code = False
    out: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and line.startswith("#"):
            out.append(line.lstrip("#").strip())
    return out


def anchors(path: Path) -> set[str]:
    return {slug(h) for h in headings(path)}


def _module_path(parts: list[str]) -> Path | None:
    base = ROOT.joinpath(*parts)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


@cache
def _has_attribute(module: str, name: str) -> bool:
    return hasattr(importlib.import_module(module), name)


def dotted_exists(name: str) -> bool:
    """`gendata.a.b` is a module or package, or `b` is an attribute of module `gendata.a`."""
    parts = name.split(".")
    for n in range(len(parts), 0, -1):
        if _module_path(parts[:n]) is not None:
            return n == len(parts) or _has_attribute(".".join(parts[:n]), parts[n])
    return False


def path_exists(ref: str) -> bool:
    if "*" in ref:
        return any(ROOT.glob(ref))
    target = ROOT / ref
    return target.is_dir() if ref.endswith("/") else target.exists()


def references(text: str) -> set[str]:
    """Repository paths and dotted gendata names a document mentions."""
    refs = {m.rstrip(".,:;") for m in _PATH.findall(text)}
    refs |= set(_DOTTED.findall(text))
    for module, names in _FROM_IMPORT.findall(text):
        refs |= {f"{module}.{n.strip()}" for n in names.split(",") if n.strip()}
    return {r for r in refs if r not in _TOP and r.rstrip("/") not in _TOP}


def exists(ref: str) -> bool:
    return dotted_exists(ref) if "/" not in ref else path_exists(ref)


def broken_links(doc: Path, text: str) -> list[str]:
    bad: list[str] = []
    for target in _LINK.findall(text):
        if re.match(r"[a-z]+:", target):
            continue  # http:, https:, mailto:
        file_part, _, anchor = target.partition("#")
        dest = (doc.parent / file_part).resolve() if file_part else doc
        if not dest.exists() or (
                anchor and dest.suffix == ".md" and anchor not in anchors(dest)):
            bad.append(target)
    return bad


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_named_modules_and_files_exist(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    missing = sorted(r for r in references(text) if not exists(r))
    assert not missing, f"{doc.name} names what does not exist: {missing}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    assert not broken_links(doc, text), f"{doc.name}: broken links {broken_links(doc, text)}"


def test_formats_headings_are_unique() -> None:
    """Code cites sections by anchor; a repeated heading would make GitHub number them."""
    slugs = [slug(h) for h in headings(FORMATS)]
    repeated = sorted({s for s in slugs if slugs.count(s) > 1})
    assert not repeated, f"docs/formats.md repeats headings: {repeated}"


def _sources() -> list[Path]:
    here = Path(__file__).resolve()
    files = [*ROOT.glob("gendata/**/*.py"), *ROOT.glob("tests/**/*.py"), *DOCS]
    return [f for f in files if f.resolve() != here]


def test_formats_citations_resolve() -> None:
    known = anchors(FORMATS)
    bad = [
        f"{path.relative_to(ROOT)}: #{anchor}"
        for path in _sources()
        for anchor in _FORMATS_CITE.findall(path.read_text(encoding="utf-8"))
        if anchor not in known
    ]
    assert not bad, f"citations of docs/formats.md sections that do not exist: {bad}"


def test_no_numbered_citations() -> None:
    """Section numbers shift when a section is added; anchors (formats.md#png-chunks) do not."""
    hits = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in _sources()
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if _NUMBERED_CITE.search(line)
    ]
    assert not hits, f"numbered doc citations: {hits}"
