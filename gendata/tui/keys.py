"""Front end (TUI): where each key goes, decided as the app takes it off its queue.

Textual hands a key to the focused widget's own queue and runs a binding only once the key
has bubbled back up to the app, so keys typed in one burst (a paste, `tmux send-keys`, a fast
typist) can overtake each other: `ab`, backspace, `c` in a text area gave `ab`; a key typed
right behind the one that opens the edit form went to the list. The mixin here routes every
key at the moment the app takes it, so a burst lands as typed:

- in a one-line box or a text area, characters are inserted and bindings run right away;
- on the browser, typing goes to the filter box (`q` on an empty filter quits instead);
- while a screen is opening, keys are held and handed to it once it has focus.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import events
from textual.widgets import Input, TextArea

if TYPE_CHECKING:
    from textual.app import App

    _Base = App[None]
else:
    _Base = object

HOLD_SECONDS = 3.0  # a screen that never takes its keys gets them back after this long

# Keys a text area inserts itself rather than through a binding.
_TEXT_AREA_INSERTS = {"enter": "\n"}


class KeyRouting(_Base):
    """Mixin for the app: key routing as described in the module docstring. The app
    provides `browser_filter_key(event) -> bool`, which handles a key on the browser."""

    _held: list[events.Key] | None = None

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded:
            if self._held is not None:
                self._held.append(event)
                return
            if await self._route_key(event):
                return
        await super().on_event(event)

    async def _route_key(self, event: events.Key) -> bool:
        if len(self.screen_stack) == 1 and await self.browser_key(event):
            return True
        return await self._text_key_now(event)

    if TYPE_CHECKING:
        async def browser_key(self, event: events.Key) -> bool: ...  # the app's

    # --- holding keys while a screen opens -------------------------------------------------

    def hold_keys(self, seconds: float = HOLD_SECONDS) -> None:
        """Keep the keys that arrive from now on until `release_keys`: a screen being pushed
        has no focused widget until it has mounted, and keys sent to it before then would be
        lost or go to the screen below."""
        if self._held is None:
            self._held = []
            self.set_timer(seconds, self.release_keys)

    async def release_keys(self) -> None:
        """Hand the held keys on, in order, to whatever has focus now. Called by the screen
        once its first field has focus, through the app's queue, so keys still queued behind
        that call are held too and keep their place."""
        held, self._held = self._held, None
        for event in held or ():
            if not await self._route_key(event):
                await super().on_event(event)

    # --- text boxes -----------------------------------------------------------------------

    async def _text_key_now(self, event: events.Key) -> bool:
        """Type into the focused one-line box or text area now, and run its bindings (or the
        screen's: ctrl+s, tab) now, so that neither overtakes the other in a burst."""
        box: Any = self.focused
        if isinstance(box, Input):
            if event.is_printable and event.character is not None:
                if box.selection.is_empty:
                    box.insert_text_at_cursor(event.character)
                else:
                    box.replace(event.character, *box.selection)
                return True
        elif isinstance(box, TextArea):
            insert = _TEXT_AREA_INSERTS.get(event.key)
            if insert is None and event.is_printable:
                insert = event.character
            if insert is not None:
                if not box.read_only:
                    box.replace(insert, *box.selection, maintain_selection_offset=False)
                return True
        else:
            return False
        active = self.screen.active_bindings.get(event.key)
        if active is None or not active.enabled or active.binding.priority:
            return False
        return bool(await self.run_action(active.binding.action, active.node))
