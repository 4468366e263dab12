"""Container layer: value classes without dataclasses.

`@dataclass` costs a `gendata show` ~7 ms before it reads a byte: the dataclasses module
imports inspect (and with it ast, dis, tokenize), and each class it builds is compiled from
generated source. The classes every read creates (raw entries, the raw metadata, the edit
of a file's entries) take their equality, repr, hash and pickling from a field list instead,
with the same results as the dataclasses they replace.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Frozen", "Value"]


class Value:
    """== and repr over the fields named in `_fields` (in the order `__init__` takes them;
    a subclass also lists them in `__slots__`), pickled by calling the class with them."""

    __slots__ = ()
    _fields: tuple[str, ...] = ()

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._fields)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    # Defining __eq__ leaves __hash__ None: mutable values are not hashable.

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__qualname__}({fields})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.__class__, self._values())

    def replace(self, **changes: Any) -> Any:
        """A copy with `changes` (field -> value), as `dataclasses.replace` gives one."""
        unknown = changes.keys() - set(self._fields)
        if unknown:
            raise TypeError(f"{type(self).__name__} has no field {sorted(unknown)[0]!r}")
        return self.__class__(*(changes.get(name, getattr(self, name))
                                for name in self._fields))


class Frozen(Value):
    """A Value whose fields cannot change once `__init__` has set them (with
    `object.__setattr__`); hashable when its fields are."""

    __slots__ = ()

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}")

    def __hash__(self) -> int:
        return hash(self._values())
