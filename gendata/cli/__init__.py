"""Front end: the `gendata` command. Each command lives in its own module and is imported
only when it runs, so `gendata show` never pays for the TUI or regen imports."""

from __future__ import annotations

import importlib
import sys

import click

# command name -> "module:attribute" under gendata.cli
COMMANDS: dict[str, str] = {
    "show": "show:show",
    "set": "edit:set_cmd",
    "strip": "edit:strip",
    "copy": "edit:copy",
    "write": "edit:write",
    "export": "export:export",
    "diff": "diff:diff",
    "tui": "tui:tui",
    "edit": "tui:edit",
    "ti": "ti:ti",
    "convert": "convert:convert",
    "regen": "regen:regen",
    "index": "index:index", "search": "search:search",
    "serve": "serve:serve",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, attr = target.split(":")
        return getattr(importlib.import_module(f"{__name__}.{module}"), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="gendata")
def main() -> None:
    """Read, edit, export, diff and reproduce Stable Diffusion generation data in images."""
    # A file's text can hold lone surrogates (a JSON `\ud800` escape, a file name's
    # undecodable byte), which UTF-8 cannot encode: print them as that escape, the one export
    # writes (docs/guide.md#file-names-that-are-not-utf-8), never fail on them.
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None:
        reconfigure(errors="backslashreplace")
