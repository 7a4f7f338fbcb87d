"""Client wrappers: explicit (no monkey-patching), one object around one client.

``llmcost.track(client, agent=...)`` returns a proxy: the recorded methods are replaced, everything else is the
client's own attribute. The provider is read from the client's base URL, so a local Ollama or vLLM server behind
the OpenAI client is priced as what it is (``localhost:11434`` -> ``ollama``; another loopback or private address
-> ``vllm``, unless the catalog declares the host).
"""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from llmcost.recorder import (
    PLAIN_REQUEST,
    Attribution,
    BudgetExceeded,
    Call,
    Request,
    Tracker,
    Wrapper,
    attribution_from,
    get_tracker,
    prompt_hash,
)

__all__ = [
    "Proxy",
    "WrapContext",
    "add_retries",
    "client_context",
    "detect_provider",
    "sdk_retries",
    "track",
    "wrap_client",
]

_NOT_GIVEN_NAMES = ("NotGiven", "Omit")


def track(client: Any = None, /, *, tracker: Tracker | None = None, **given: Any) -> Any:
    """One line: ``client = llmcost.track(OpenAI(), agent="planner")`` wraps an OpenAI, Anthropic or Ollama client
    (sync or async) so that every call it makes is recorded; without a client,
    ``with llmcost.track(model=..., provider=...) as call:`` records any call. ``tracker`` records them (default: the
    process-wide tracker, see :func:`llmcost.configure`); the other keywords are the calls' attribution
    (``attribution=``, and :class:`~llmcost.Attribution`'s fields as keywords over it)."""
    if tracker is None:
        tracker = get_tracker()
    if client is None:
        return tracker.trace(**given)
    return wrap_client(tracker, client, given)


def wrap_client(tracker: Tracker, client: Any, given: dict[str, Any]) -> Any:
    """Pick the wrapper for ``client``'s SDK."""
    root = type(client).__module__.partition(".")[0]
    is_async = type(client).__name__.startswith("Async")
    if root == "openai":
        from llmcost.integrations._openai import wrap_openai

        return wrap_openai(tracker, client, given, is_async)
    if root == "anthropic":
        from llmcost.integrations._anthropic import wrap_anthropic

        return wrap_anthropic(tracker, client, given, is_async)
    if root == "ollama":
        from llmcost.integrations._ollama import wrap_ollama

        return wrap_ollama(tracker, client, given, is_async)
    if isinstance(client, Proxy):
        return client.tagged(**given)
    raise TypeError(f"llmcost cannot wrap a {type(client).__module__}.{type(client).__name__} client")


def client_context(tracker: Tracker, client: Any, given: dict[str, Any], source: str) -> WrapContext:
    """What a wrapper of ``client`` knows: the provider given (``provider=``), else the one its ``base_url`` says."""
    provider = given.pop("provider", None)
    detected, server = detect_provider(tracker, getattr(client, "base_url", None), source)
    return WrapContext(tracker, provider or detected, server, source, given)


def _is_private(host: str) -> bool:
    if host in ("localhost", "host.docker.internal") or host.endswith((".local", ".internal", ".lan")):
        return True
    if "." not in host and ":" not in host:  # a bare name on the local network (docker compose service, ...)
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return ip.is_private or ip.is_loopback or ip.is_link_local


def detect_provider(tracker: Tracker, base_url: Any, default: str) -> tuple[str | None, str | None]:
    """(provider, server address) for a client whose requests go to ``base_url``."""
    url = str(base_url) if base_url is not None else ""
    parts = urlsplit(url if "//" in url else f"//{url}")
    host = (parts.hostname or "").lower()
    if not host:
        return default, None
    catalog = tracker.catalog()
    mapped = catalog.provider_for_host(url) if catalog is not None else None
    if mapped:
        return mapped, host
    if _is_private(host):
        return ("ollama" if parts.port == 11434 else "vllm"), host
    labels = host.split(".")
    # An unknown public host (api.groq.com): name it after its domain; prices then resolve by model name.
    return (labels[-2] if len(labels) >= 2 else host), host


def given(value: Any) -> bool:
    """The SDKs mark unset arguments with sentinels (``NOT_GIVEN``, ``omit``)."""
    return value is not None and type(value).__name__ not in _NOT_GIVEN_NAMES


#: What ``track(client, ...)`` and ``client.tagged(...)`` take besides attribution: details of every request made.
_REQUEST_KEYS = ("attempt", "fallback_from", "gpus")


class WrapContext:
    """What a wrapper knows once: tracker, provider, server, and the attribution and request details set on it."""

    def __init__(
        self, tracker: Tracker, provider: str | None, server: str | None, source: str, given: dict[str, Any]
    ) -> None:
        self.tracker = tracker
        self.provider = provider
        self.server = server
        self.source = source
        self.own, self.details = _split(tracker, given)
        self._under: tuple[Attribution, Attribution] | None = None  # (tracker's, own over it), worked out once
        self._requests: dict[str, Request] = {}  # one per operation, checked once

    def derive(self, given: dict[str, Any]) -> WrapContext:
        """The same client with more attribution and request details."""
        ctx = WrapContext.__new__(WrapContext)
        ctx.tracker, ctx.provider, ctx.server, ctx.source = self.tracker, self.provider, self.server, self.source
        own, details = _split(self.tracker, given)
        ctx.own, ctx.details, ctx._under, ctx._requests = own.over(self.own), {**self.details, **details}, None, {}
        return ctx

    @property
    def attribution(self) -> Attribution:
        """The wrapper's attribution over the tracker's (worked out again when the tracker's is replaced)."""
        base = self.tracker.attribution
        under = self._under
        if under is None or under[0] is not base:
            under = self._under = (base, self.own.over(base))
        return under[1]

    def start(self, model: Any, operation: str, stream: bool, *request: Any) -> Call | None:
        """Begin a call; ``None`` if the recorder itself failed (the request then goes out unrecorded)."""
        try:
            call = self.tracker.begin(model if isinstance(model, str) else None, self.provider, None, self.attribution)
            details = self._requests.get(operation)
            if details is None:
                checked = call.checked_request(
                    operation=operation, source=self.source, server_address=self.server, **self.details
                )
                details = self._requests[operation] = PLAIN_REQUEST.replace(**checked)
            if call.request is not PLAIN_REQUEST:  # a budget downgraded the model: keep what it replaced
                details = details.replace(fallback_from=call.request.fallback_from)
            call.request = details
            call.streamed = stream
            call.prompt_hash = prompt_hash(*request)
            if self.tracker.capture_content:
                call.content = {"input": request}
            return call
        except BudgetExceeded:
            raise
        except Exception as exc:
            self.tracker.count_fault("internal_errors", f"llmcost: could not start recording a call: {exc}")
            return None

    @staticmethod
    def failed(call: Call | None, exc: BaseException) -> None:
        """Record a call that raised; the retries the SDK made before giving up count in its ``attempt``."""
        if call is not None:
            add_retries(call, sdk_retries(exc))
            call.set_error(exc)
            call.finish()

    @staticmethod
    def finished(call: Call | None, result: Any, stream_kind: str | None, retries: int = 0) -> Any:
        """Record a response (or wrap a stream so it is recorded when it ends); returns what the user gets."""
        if call is None:
            return result
        try:
            add_retries(call, retries)
            if stream_kind is not None:
                return call.stream(result, stream_kind)
            call.record(result)
            if call.content is not None:
                call.content["output"] = response_text(result)
            call.finish()
        except Exception as exc:
            call.tracker.count_fault("internal_errors", f"llmcost: could not record a call: {exc}")
        return result


#: The openai and anthropic SDKs number each request they send in this header (0, then 1 for the first retry, ...).
_RETRY_HEADER = "x-stainless-retry-count"


def sdk_retries(source: Any) -> int:
    """How many times the SDK retried before ``source`` came back: a raw response (``retries_taken``), a stream or an
    SDK error (the ``x-stainless-retry-count`` header of the last request sent); 0 when it does not say."""
    try:
        taken = getattr(source, "retries_taken", None)
        if isinstance(taken, int) and not isinstance(taken, bool):
            return max(taken, 0)
        request = getattr(source, "request", None)  # openai.APIError, anthropic.APIError
        if request is None:
            request = getattr(getattr(source, "response", None), "request", None)  # a stream, an httpx error
        value = getattr(request, "headers", {}).get(_RETRY_HEADER)
        return int(value) if isinstance(value, str) and value.isdigit() else 0
    except Exception:  # httpx raises when a response has no request; odd objects: nothing known
        return 0


def add_retries(call: Call, retries: int) -> None:
    """Count ``retries`` made by the SDK in the call's ``attempt`` (after the caller's own)."""
    if retries:
        call.set_request(attempt=call.attempt + retries)


def _split(tracker: Tracker, given: dict[str, Any]) -> tuple[Attribution, dict[str, Any]]:
    """Attribution and request details out of the keywords given to ``track()`` or ``tagged()``."""
    request = {key: given.pop(key) for key in _REQUEST_KEYS if key in given}
    own = attribution_from(given.pop("attribution", None), given, "llmcost.track()")
    return tracker.adopt(own), request


def response_text(response: Any) -> str | None:
    """The text of a response, for ``capture_content=True`` only."""
    from llmcost.recorder import get_field

    choices = get_field(response, "choices")
    text: Any
    if choices:
        text = get_field(get_field(choices[0], "message"), "content")
    elif isinstance(getattr(response, "output_text", None), str):  # a property of the Responses type
        text = response.output_text
    elif isinstance(get_field(response, "content"), list):
        text = "".join(get_field(b, "text") or "" for b in get_field(response, "content"))
    else:
        message = get_field(response, "message")
        text = get_field(message, "content") if message is not None else get_field(response, "response")
    return text if isinstance(text, str) else None


class Proxy(Wrapper):
    """A recorded client, or a part of one: what it does not define is the wrapped object's."""

    def __init__(self, target: Any, ctx: WrapContext) -> None:
        super().__init__(target)
        self._ctx = ctx

    def tagged(self, **given: Any) -> Any:
        """The same client with more attribution: ``client.tagged(session_id="s1", attempt=2).chat...``."""
        return type(self)(self._inner, self._ctx.derive(given))

    def __repr__(self) -> str:
        return f"<llmcost {self._inner!r}>"
