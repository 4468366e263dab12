"""One error tree: every exception class gendata defines derives from GenDataError, so that
`except GenDataError` catches everything gendata raises on purpose (gendata/errors.py)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import gendata
from gendata.errors import GenDataError

# Raised and caught inside one function of their module; they never reach a caller.
INTERNAL = {
    "gendata.formats.comfyui.walker.OutOfBudget",  # ends a graph walk that ran out of budget
}
# Modules whose imports need an extra that may be missing (torch for a regen run).
OPTIONAL = ("torch", "diffusers", "transformers", "accelerate", "safetensors")


def _modules() -> list[str]:
    names = [gendata.__name__]
    for info in pkgutil.walk_packages(gendata.__path__, prefix=f"{gendata.__name__}."):
        if not info.name.endswith(".__main__"):  # importing it runs the CLI
            names.append(info.name)
    return names


def _exception_classes() -> tuple[dict[str, type[BaseException]], list[str]]:
    """(qualified name -> class for every exception class defined in gendata, the modules
    skipped because an optional extra is not installed)."""
    found: dict[str, type[BaseException]] = {}
    skipped: list[str] = []
    for name in _modules():
        try:
            mod = importlib.import_module(name)
        except ImportError as exc:
            if exc.name and exc.name.split(".")[0] in OPTIONAL:
                skipped.append(name)
                continue
            raise
        for obj in vars(mod).values():
            if (inspect.isclass(obj) and issubclass(obj, BaseException)
                    and obj.__module__ == name):
                found[f"{name}.{obj.__qualname__}"] = obj
    return found, skipped


def test_every_exception_class_derives_from_gendata_error() -> None:
    classes, skipped = _exception_classes()
    assert {"gendata.errors.ContainerError", "gendata.containers", "gendata.tui.app"} <= {
        *classes, *_modules()}
    assert all(name.startswith("gendata.regen.") for name in skipped), skipped
    strays = sorted(name for name, cls in classes.items()
                    if name not in INTERNAL and not issubclass(cls, GenDataError))
    assert strays == [], "derive these from an error in gendata/errors.py"
