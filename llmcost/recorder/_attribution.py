"""Attribution: who and what a call is for (agent, session, user, workflow, tags, metadata), as one value.

The same six fields can be given to a tracker (its defaults), a wrapped client, an integration (LangChain handler,
LiteLLM logger), a scope and one call. :class:`Attribution` holds them wherever they are given: it is checked once,
when it is built (values the wire format would refuse are made into values it takes, and counted), and read on every
call without further checks.

The merge rule, :meth:`Attribution.over`: a more specific attribution over a less specific one. Its names win where
it has them, tags join (the base's first, no repeats), metadata merges key by key (its keys win). The layers, least
specific first: the tracker's defaults, the wrapper's or integration's, the open scopes (outer, then inner), the
call's own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, ClassVar, TypedDict

import msgspec

from llmcost.recorder._wire import METADATA_MAX, TAGS_MAX, wire_tags, wire_text

__all__ = ["NO_ATTRIBUTION", "Attribution", "AttributionArgs", "attribution_from"]

_encoder = msgspec.json.Encoder()


class Attribution:
    """Who and what a call is for. Every field is optional; ``None`` means "not said here". Immutable.

    Built from any values: a name that is not text is written as its text, a single string given as ``tags`` is one
    tag, metadata becomes plain JSON (text keys, no cycles, at most 32 levels and 64 KiB); ``fixes`` and
    ``metadata_fixed`` say whether that happened (a tracker counts it in ``stats.bad_values`` and
    ``stats.bad_metadata`` when it uses the attribution). ``metadata`` is a read-only view of that JSON.
    """

    # A plain class with slots rather than a dataclass: ``dataclasses`` (and the ``inspect`` it imports) would add
    # about 10 ms to ``import llmcost``.
    __slots__ = (
        "agent",
        "fixes",
        "line_tail",
        "metadata",
        "metadata_fixed",
        "metadata_json",
        "session_id",
        "tags",
        "user_id",
        "workflow",
    )

    #: The fields given when it is built, in order.
    FIELDS: ClassVar[tuple[str, ...]] = ("agent", "session_id", "user_id", "workflow", "tags", "metadata")

    agent: str | None
    session_id: str | None
    user_id: str | None
    workflow: str | None
    tags: tuple[str, ...] | None
    metadata: Mapping[str, Any] | None
    #: How many names and tags had to change to be written.
    fixes: int
    #: Whether the metadata had to change to be written.
    metadata_fixed: bool
    #: ``metadata`` encoded, as it goes into the line.
    metadata_json: msgspec.Raw | None
    #: The line's encoding of this attribution, kept by the line writer (``llmcost.recorder._line``) on first use.
    line_tail: Any

    def __init__(
        self,
        agent: str | None = None,
        session_id: str | None = None,
        user_id: str | None = None,
        workflow: str | None = None,
        tags: Sequence[str] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        agent, fixed_agent = wire_text(agent)
        session_id, fixed_session = wire_text(session_id)
        user_id, fixed_user = wire_text(user_id)
        workflow, fixed_workflow = wire_text(workflow)
        checked_tags, fixed_tags = wire_tags(tags)
        fixes = fixed_agent + fixed_session + fixed_user + fixed_workflow + fixed_tags
        _fill(self, agent, session_id, user_id, workflow, checked_tags)
        object.__setattr__(self, "fixes", fixes)
        if metadata is not None:
            from llmcost.recorder._plain_json import clean_json  # imported on first use (import llmcost skips it)

            meta, fixed = clean_json(metadata if isinstance(metadata, Mapping) else {"value": metadata})
            if not isinstance(meta, dict):  # the whole mapping was over the cap
                meta = {"cut": meta}
            object.__setattr__(self, "metadata_fixed", fixed or not isinstance(metadata, Mapping))
            self._set_metadata(meta)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"Attribution is immutable: make a new one (or .over() one) instead of setting {name}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Attribution is immutable")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Attribution):
            return NotImplemented
        return self._key() == other._key()

    def __repr__(self) -> str:
        given = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.FIELDS if getattr(self, name) is not None)
        return f"Attribution({given})"

    def _key(self) -> tuple[Any, ...]:
        meta = None if self.metadata_json is None else bytes(self.metadata_json)
        return (self.agent, self.session_id, self.user_id, self.workflow, self.tags, meta)

    def _set_metadata(self, meta: dict[str, Any]) -> None:
        if meta:
            object.__setattr__(self, "metadata", MappingProxyType(meta))
            object.__setattr__(self, "metadata_json", msgspec.Raw(_encoder.encode(meta)))
        else:
            object.__setattr__(self, "metadata", None)
            object.__setattr__(self, "metadata_json", None)

    def __hash__(self) -> int:
        return hash(self._key())

    def over(self, base: Attribution) -> Attribution:
        """This attribution over ``base`` (the merge rule of the module docstring)."""
        if base is NO_ATTRIBUTION:
            return self
        if self is NO_ATTRIBUTION:
            return base
        tags = self.tags if base.tags is None else base.tags if self.tags is None else _join(base.tags, self.tags)
        out = _new(
            base.agent if self.agent is None else self.agent,
            base.session_id if self.session_id is None else self.session_id,
            base.user_id if self.user_id is None else self.user_id,
            base.workflow if self.workflow is None else self.workflow,
            tags,
        )
        if self.metadata is None or base.metadata is None:
            source = base if self.metadata is None else self
            object.__setattr__(out, "metadata", source.metadata)
            object.__setattr__(out, "metadata_json", source.metadata_json)
            return out
        merged = {**base.metadata, **self.metadata}
        assert base.metadata_json is not None
        assert self.metadata_json is not None
        if len(base.metadata_json) + len(self.metadata_json) > METADATA_MAX:  # together they may pass the cap
            from llmcost.recorder._plain_json import clean_json

            cleaned, fixed = clean_json(merged)
            merged = cleaned if isinstance(cleaned, dict) else {"cut": cleaned}
            object.__setattr__(out, "metadata_fixed", fixed)
        out._set_metadata(merged)
        return out

    def with_metadata(self, **items: Any) -> Attribution:
        """The same attribution with more metadata (``items`` win over keys it has)."""
        return Attribution(metadata=items).over(self)

    @property
    def names(self) -> dict[str, str | None]:
        """``agent``, ``session_id``, ``user_id`` and ``workflow`` by name."""
        return {"agent": self.agent, "session_id": self.session_id, "user_id": self.user_id, "workflow": self.workflow}


def _new(
    agent: str | None, session_id: str | None, user_id: str | None, workflow: str | None, tags: tuple[str, ...] | None
) -> Attribution:
    """An attribution from values already checked (a merge of two attributions): no checks again."""
    out = object.__new__(Attribution)
    _fill(out, agent, session_id, user_id, workflow, tags)
    object.__setattr__(out, "fixes", 0)
    return out


def _fill(
    out: Attribution,
    agent: str | None,
    session_id: str | None,
    user_id: str | None,
    workflow: str | None,
    tags: tuple[str, ...] | None,
) -> None:
    for name, value in (
        ("agent", agent),
        ("session_id", session_id),
        ("user_id", user_id),
        ("workflow", workflow),
        ("tags", tags),
        ("metadata", None),
        ("metadata_fixed", False),
        ("metadata_json", None),
        ("line_tail", None),
    ):
        object.__setattr__(out, name, value)


def _join(first: Iterable[str], then: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys([*first, *then]))[:TAGS_MAX]


#: No attribution at all: the base every merge starts from.
NO_ATTRIBUTION = Attribution()


class AttributionArgs(TypedDict, total=False):
    """:class:`Attribution`'s fields as keyword arguments, for ``**attrs: Unpack[AttributionArgs]``: the tracker,
    scopes, wrapped clients and integrations take them beside (or instead of) an ``attribution=``."""

    agent: str | None
    session_id: str | None
    user_id: str | None
    workflow: str | None
    tags: Sequence[str] | None
    metadata: Mapping[str, Any] | None


def attribution_from(attribution: Attribution | None, attrs: Mapping[str, Any], where: str) -> Attribution:
    """What ``where`` (``"Tracker()"``, ``"track()"``, ...) was given: the fields given as keywords (``attrs``, a
    ``None`` value is not given) over ``attribution``; :data:`NO_ATTRIBUTION` when neither says anything.

    A keyword that is no field raises ``TypeError``, as a misspelt keyword argument does."""
    unknown = attrs.keys() - Attribution.FIELDS
    if unknown:
        raise TypeError(f"{where} got unexpected keyword arguments: {', '.join(sorted(unknown))}")
    given = {name: value for name, value in attrs.items() if value is not None}
    own = Attribution(**given) if given else NO_ATTRIBUTION
    return own if attribution is None else own.over(attribution)
