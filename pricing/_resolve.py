"""Name resolution: which model (and provider) a model name used in a call refers to.

The rules (docs/catalog.md):

* names match case-insensitively; a declared region prefix (``us.``) is stripped and applies its multiplier;
* a declared name (an id or alias) always wins, as written;
* a provider given with the call, or named by the name's first segment (``openai/gpt-4o``, ``together_ai/...``),
  limits the search to that provider's models: its own entry, else its billing rule (free, dynamic, GPU time),
  else nothing. Another provider's entry for the same model never prices it: the same model sells at different
  prices from different providers;
* segments before the first one naming a provider belong to a gateway and are stripped
  (``litellm_proxy/openai/gpt-4o``); a name with no provider segment is looked up whole, so an unknown provider's
  ``nebius/deepseek-ai/...`` does not take the price of another provider's ``deepseek-ai/...``;
* a declared prefix covers the names made of it and a dated snapshot suffix (``-2024-08-06``, ``-20250929``,
  ``@20250929``, ``-0613``, ``-latest``, then a Bedrock version tag ``-v1:0``), longest prefix first, and nothing
  else: ``claude-opus-5-5`` is another model than ``claude-opus-5``;
* a name ending in a snapshot suffix that is not declared resolves like its name without the suffix.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import NamedTuple

from pricing._model import Billing, Model, Provider

__all__ = ["SNAPSHOT_PIECE", "NameIndex", "Resolution", "covers", "snapshot_base"]

_ONE = Decimal(1)
#: One piece of a snapshot suffix, at the end of a name: a date (year first or not: 2024-08-06, 20250929, 05-20,
#: 0613, 09-2025), ``-latest``, or a Bedrock version tag (``-v1:0``, ``:0``). Suffixes are peeled one piece at a time
#: from the end, never matched with one pattern of repeated alternatives: names come from user data, and such a
#: pattern backtracks exponentially on a long name that almost matches.
SNAPSHOT_PIECE = re.compile(
    r"(?:[-@](?:\d{4}-\d{2}-\d{2}|\d{8})|-\d{2}-\d{2}|-\d{2}-\d{4}|-\d{4}|-latest|-v\d+:\d+|:\d+)$"
)
#: Longer names are no model names: they are looked up as written, without suffix handling.
_LONGEST = 256


def _peel(name: str, stop: int) -> str:
    """``name`` with snapshot pieces peeled from its end, none of them starting before index ``stop``."""
    while len(name) > stop:
        piece = SNAPSHOT_PIECE.search(name, stop)
        if piece is None:
            return name
        name = name[: piece.start()]
    return name


def covers(prefix: str, name: str) -> bool:
    """Whether a declared prefix covers ``name`` (both lower-case): the name is the prefix, then nothing but snapshot
    pieces. A prefix ending in ``-`` or ``@`` (``gpt-5-nano-``) reads as the name before it."""
    base = prefix.rstrip("-@") or prefix
    if not name.startswith(base) or len(name) > _LONGEST:
        return False
    return len(_peel(name, len(base))) == len(base)


def snapshot_base(name: str) -> str:
    """``name`` without its snapshot suffix (``gpt-4o-2024-08-06`` -> ``gpt-4o``); the name itself without one."""
    if len(name) > _LONGEST:
        return name
    return _peel(name, 1)


class Resolution(NamedTuple):
    """What a name resolves to: the model (``None`` when no entry matches), the provider id, how it is billed
    (``None``: unknown) and the region multiplier of the name."""

    model: Model | None
    provider: str | None
    billing: Billing | None
    multiplier: Decimal


class NameIndex:
    """Every name the catalog answers to: model ids and aliases, model prefixes, provider names, region prefixes."""

    def __init__(self, providers: dict[str, Provider]) -> None:
        self.providers = providers  # shared with the catalog, filled as it is built
        self.models: list[Model] = []
        self.exact: dict[str, Model] = {}
        self.prefixes: list[tuple[str, Model]] = []  # longest first, once sorted by finish()
        self.provider_names: dict[str, str] = {}
        self.regions: list[tuple[str, str, Decimal]] = []

    # -- building -------------------------------------------------------------------------------------------------

    def add_provider(self, prov: Provider) -> None:
        """Index the provider's id, its declared name prefixes and its region prefixes."""
        for name in (prov.id, *prov.prefixes):
            self.provider_names[name.lower()] = prov.id
        for prefix, mult in prov.regions.items():
            self.regions.append((prefix, prov.id, mult))

    def add_model(self, model: Model) -> None:
        """Index the model's names and prefixes (the first model to declare a name keeps it)."""
        self.models.append(model)
        for name in model.names():
            self.exact.setdefault(name.lower(), model)
        for prefix in model.match_prefix:
            self.prefixes.append((prefix, model))

    def finish(self) -> None:
        """Call once every model is added: prefixes are tried longest first."""
        self.prefixes.sort(key=lambda item: -len(item[0]))

    def conflicts(self) -> list[str]:
        """Declarations that would let one name match two models: a name or a prefix declared twice.

        A declared name covered by another model's prefix is no conflict: declared names win over prefixes, which is
        how a dated snapshot with its own price sits beside the model whose prefix covers the other snapshots.
        """
        problems: list[str] = []
        owner: dict[str, Model] = {}
        for model in self.models:
            for name in model.names():
                other = owner.setdefault(name.lower(), model)
                if other is not model:
                    problems.append(f"{name!r} names both {other.key} and {model.key}")
        prefix_owner: dict[str, Model] = {}
        for prefix, model in self.prefixes:
            other = prefix_owner.setdefault(prefix, model)
            if other is not model:
                problems.append(f"prefix {prefix!r} is declared by both {other.key} and {model.key}")
        return problems

    # -- looking up -----------------------------------------------------------------------------------------------

    def provider_id(self, name: str) -> str | None:
        """The provider an id or declared prefix names (case-insensitive), or ``None``."""
        return self.provider_names.get(name.strip().lower())

    def provider_for_host(self, url_or_host: str | None) -> str | None:
        """The provider whose declared host appears in a base URL (``http://localhost:11434/v1`` -> ``ollama``)."""
        if not url_or_host:
            return None
        text = url_or_host.lower()
        best: tuple[int, str] | None = None
        for prov in self.providers.values():
            for host in prov.hosts:
                if host.lower() in text and (best is None or len(host) > best[0]):
                    best = (len(host), prov.id)
        return best[1] if best else None

    def names(self) -> list[str]:
        """Every name a model is declared under (ids, aliases, ``provider/id`` keys), lower-case, sorted."""
        return sorted({n.lower() for m in self.models for n in (*m.names(), m.key)})

    def resolve(self, name: str, provider: str | None) -> Resolution:
        """Apply the rules of the module docstring to ``name``, given the caller's provider (id or prefix)."""
        prov_id = self.provider_names.get(provider.lower()) if provider else None
        prov = self.providers.get(prov_id) if prov_id else None
        text = name.strip().lower()
        multiplier = _ONE
        for prefix, region_provider, mult in self.regions:
            if text.startswith(prefix) and (prov is None or prov.id == region_provider):
                text, multiplier = text[len(prefix) :], mult
                prov = prov or self.providers[region_provider]
                break
        declared = self.exact.get(text)
        if declared is not None and (prov is None or declared.provider == prov.id):
            return Resolution(declared, declared.provider, declared.billing, multiplier)
        if prov is None and "/" in text:
            prov, text = self._provider_segment(text)
        if prov is None:
            model = self._match(text, None)
            return Resolution(model, model.provider if model else None, model.billing if model else None, multiplier)
        model = self._match_within(text, prov)
        if model is not None:
            return Resolution(model, model.provider, model.billing, multiplier)
        # No entry of its own: a self-hosted or router provider prices by its rule, any other leaves the name unknown.
        return Resolution(None, prov.id, None if prov.billing == "tokens" else prov.billing, multiplier)

    def _provider_segment(self, text: str) -> tuple[Provider | None, str]:
        """The provider the first provider-naming segment names, and the name from that segment on. Segments before
        it belong to a gateway (``litellm_proxy/openai/gpt-4o``); with no such segment the name stays whole, for a
        first segment the catalog does not know may be a provider of its own (``nebius/deepseek-ai/...``)."""
        segments = text.split("/")
        for i, segment in enumerate(segments[:-1]):
            named = self.provider_names.get(segment)
            if named is not None:
                return self.providers[named], "/".join(segments[i:])
        return None, text

    def _match_within(self, text: str, prov: Provider) -> Model | None:
        """A model of ``prov`` for ``text``. Candidates: the name as written and with leading segments stripped,
        each also qualified by the provider (``nebius/...`` ids) unless the provider already leads it. Every candidate is tried as a declared name
        before any is tried by prefix or without its snapshot suffix, so a snapshot's own entry
        (``azure_ai/DeepSeek-V4-Flash-0731``) wins over its model's."""
        qualifiers = [q.lower() for q in (prov.id, *prov.prefixes)]
        candidates = []
        while True:
            # A name already led by the provider's segment is not qualified again: perplexity/perplexity/sonar is
            # another entry than perplexity/sonar.
            own = text.partition("/")[0] in qualifiers
            candidates += [text, *(f"{q}/{text}" for q in qualifiers if not own)]
            if "/" not in text:
                break
            text = text.partition("/")[2]
        for lookup in (self._declared, self._by_prefix):
            for candidate in candidates:
                model = lookup(candidate, prov.id)
                if model is not None:
                    return model
        for candidate in candidates:
            base = snapshot_base(candidate)
            if base != candidate:
                model = self._declared(base, prov.id) or self._by_prefix(base, prov.id)
                if model is not None:
                    return model
        return None

    def _match(self, text: str, provider: str | None) -> Model | None:
        """Declared name, then covering prefix, then the same without a snapshot suffix; of ``provider`` if given."""
        model = self._declared(text, provider) or self._by_prefix(text, provider)
        if model is not None:
            return model
        base = snapshot_base(text)
        if base != text:
            return self._declared(base, provider) or self._by_prefix(base, provider)
        return None

    def _declared(self, text: str, provider: str | None) -> Model | None:
        model = self.exact.get(text)
        return model if model is not None and (provider is None or model.provider == provider) else None

    def _by_prefix(self, text: str, provider: str | None) -> Model | None:
        for prefix, model in self.prefixes:  # longest first
            if (provider is None or model.provider == provider) and covers(prefix, text):
                return model
        return None
