"""Small pieces of class plumbing the recorder's types share (and the integrations built on them).

- :class:`AsyncWith`: ``async with`` for a block that never waits to be entered or left, the same as ``with``.
- :class:`Wrapper`: an object standing in for another one (a wrapped client, a recorded stream).
- :class:`Forwarded`: a read-only attribute that is another object's (``call.attempt`` is ``call.request.attempt``),
  typed, documented, and read by ``operator.attrgetter`` (no Python frame per read).
"""

from __future__ import annotations

import operator
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["AsyncWith", "Forwarded", "Wrapper"]

_T = TypeVar("_T")


class AsyncWith:
    """``async with`` for a block whose ``__enter__`` and ``__exit__`` never wait: the same as ``with``."""

    __slots__ = ()

    def __enter__(self) -> Self:
        raise NotImplementedError

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        return self.__enter__()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.__exit__(exc_type, exc, tb)


class Forwarded(Generic[_T]):
    """A read-only attribute whose value is at ``path`` from its object: ``attempt: Forwarded[int] =
    Forwarded("request.attempt", "0 for a first try, ...")``. ``doc`` is its docstring."""

    def __init__(self, path: str, doc: str | None = None) -> None:
        self.path = path
        self.__doc__ = doc
        self._get = operator.attrgetter(path)
        self._name = path

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self._name = name

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> Forwarded[_T]: ...

    @overload
    def __get__(self, obj: object, owner: type[Any]) -> _T: ...

    def __get__(self, obj: object, owner: type[Any]) -> Forwarded[_T] | _T:
        if obj is None:
            return self
        value: _T = self._get(obj)
        return value

    def __set__(self, obj: object, value: object) -> None:
        raise AttributeError(f"{self._name} is read-only (it is {self.path})")


class Wrapper:
    """Stands in for ``inner`` (kept as ``_inner``): every attribute it does not define itself is ``inner``'s."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)
