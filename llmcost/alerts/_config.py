"""The ``[alerts]`` table of the config file, checked strictly: a typo is a one-line error, never a silent no-op.

```toml
[alerts]
min_severity = "warning"                  # "info" | "warning" | "critical"
kinds = ["burst", "repeat"]               # optional: only these rules
on_end = true                             # also say when an episode ends
bell = true
command = ["notify-send", "llmcost", "{text}"]
command_timeout_s = 10

[[alerts.webhook]]
url = "https://hooks.slack.com/services/..."   # or url_env = "SLACK_WEBHOOK_URL"
min_severity = "critical"                      # kinds, on_end too: per webhook
max_per_minute = 10
```
"""

from __future__ import annotations

import difflib
import math
import os
import shlex
import string
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, cast

from llmcost.engine import Severity

__all__ = [
    "KINDS",
    "PLACEHOLDERS",
    "SEVERITIES",
    "AlertConfig",
    "AlertConfigError",
    "WebhookConfig",
    "load_alert_config",
    "parse_alert_config",
]

SEVERITIES: tuple[Severity, ...] = ("info", "warning", "critical")
KINDS = ("burst", "repeat", "error_streak", "spend_rate", "call_cost", "budget", "budget_eta", "context_growth")
#: Fields a command argument may name in braces: ``["notify-send", "llmcost {severity}", "{text}"]``.
PLACEHOLDERS = ("id", "state", "kind", "severity", "agent", "message", "started_at", "detected_at", "ended_at", "text")


MAX_TIMEOUT_S = 3600.0  # an alert an hour late is no alert; and a worker must not wait for ever


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Programs that would take a placeholder's value as code or as a command line. Values come from the logs (an agent
# named ``bot$(rm -rf ~)``), so a command run by one of these gets them from the environment only. The program is
# the first argument: a wrapper (env, timeout, xargs, ssh ...) is refused too, as the value could name what it runs.
_SHELLS = _words(
    "sh bash dash zsh ksh mksh oksh pdksh ash yash fish csh tcsh rc es nu elvish xonsh pwsh powershell cmd busybox toybox"
)
_INTERPRETERS = _words(
    "python pypy perl ruby irb node nodejs deno bun php lua luajit tclsh wish expect osascript awk gawk mawk nawk "
    "sed gsed rscript julia guile racket sbcl groovy jshell"
)
_RUNNERS = _words(
    "env sudo doas su runuser pkexec nice nohup timeout stdbuf setsid ionice chrt taskset time exec command xargs "
    "parallel watch flock script ssh rsh systemd-run nsenter unshare chroot firejail bwrap strace ltrace gdb valgrind "
    "xterm tmux screen at batch eval start open xdg-open gio kde-open"
)


class AlertConfigError(ValueError):
    """A bad ``[alerts]`` table; ``str(exc)`` is one line naming the file and the setting."""


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    """One ``[[alerts.webhook]]``: a URL taking Slack-compatible JSON (``{"text": ...}``).

    ``min_severity``, ``kinds`` and ``on_end`` left at ``None`` take the ``[alerts]`` values."""

    url: str
    min_severity: Severity | None = None
    kinds: tuple[str, ...] | None = None
    on_end: bool | None = None
    max_per_minute: int = 10  # more than this in 60 s are folded into one summary message
    timeout_s: float = 10.0
    retries: int = 3  # after the first attempt, on connection errors, 5xx and 429
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def host(self) -> str:
        """What the monitor shows of the URL (a Slack webhook URL is a secret)."""
        rest = self.url.split("://", 1)[-1]
        return rest.split("/", 1)[0].rsplit("@", 1)[-1]


@dataclass(frozen=True, slots=True)
class AlertConfig:
    """Where alarm events go: the terminal bell, a command, webhooks. Empty by default: nothing is sent.

    A ``command`` that would hand a placeholder to a shell, an interpreter or a program runner (or take its program
    from one) raises :class:`AlertConfigError`: see :func:`command_problem`."""

    min_severity: Severity = "warning"
    kinds: tuple[str, ...] = ()  # empty: every kind
    on_end: bool = True
    bell: bool = False
    command: tuple[str, ...] = ()
    command_timeout_s: float = 10.0
    webhooks: tuple[WebhookConfig, ...] = ()

    def __post_init__(self) -> None:
        # Checked here too, not only when read from the file, so no caller can hand a placeholder to a shell.
        if self.command:
            problem = command_problem(self.command)
            if problem is not None:
                raise AlertConfigError(f"command: {problem}")

    @property
    def enabled(self) -> bool:
        return self.bell or bool(self.command) or bool(self.webhooks)


def command_problem(argv: tuple[str, ...] | list[str]) -> str | None:
    """Why ``argv`` cannot be the alert command (one line), or ``None``.

    Placeholders are for programs that take their arguments as data: never the program itself, and never any argument
    of a shell, an interpreter or a program that runs another one (see ``docs/alerts.md``)."""
    if not argv:
        return "is empty"
    named: list[tuple[str, str]] = []
    for arg in argv:
        if "\0" in arg:  # the system refuses it: the command would fail at every alert
            return f"{arg!r} has a NUL character, which no program can be given"
        try:
            named += [(f, arg) for f in _fields_named(arg)]
        except ValueError as exc:
            return f"{arg!r}: {exc} (write {{{{ and }}}} for literal braces)"
    for field_name, arg in named:
        if field_name not in PLACEHOLDERS:
            return f"unknown placeholder {{{field_name}}} in {arg!r} (known: {', '.join(PLACEHOLDERS)})"
    if not named:
        return None
    first = named[0][0]
    if _fields_named(argv[0]):
        return f"the program cannot come from a placeholder ({argv[0]!r}): name the program itself"
    program = _program_name(argv[0])
    if program in _SHELLS:
        why = "a shell runs its arguments as code: an agent named 'x$(rm -rf ~)' would run"
    elif program in _INTERPRETERS:
        why = "an interpreter runs its arguments as code: an agent named 'x$(rm -rf ~)' could run"
    elif program in _RUNNERS:
        why = "it runs a program named in its arguments: the value could choose what runs"
    else:
        return None
    return (
        f"{{{first}}} cannot be given to {argv[0]}: {why}; pass the value by the environment instead, "
        f"e.g. ['sh', '-c', 'echo \"$LLMCOST_ALERT_{first.upper()}\"']"
    )


def _fields_named(arg: str) -> list[str]:
    """The placeholders in one argument; ``ValueError`` for unbalanced braces."""
    return [f for _, f, _, _ in string.Formatter().parse(arg) if f is not None]


def _program_name(arg: str) -> str:
    """``python`` of ``/usr/bin/python3.12``, ``bash`` of ``C:\\Git\\bin\\bash.EXE``: the name without its
    directory, version or ``.exe``."""
    name = os.path.basename(arg.strip().replace("\\", "/")).lower().removesuffix(".exe")
    return name.rstrip("0123456789.-") or name


def load_alert_config(path: str | os.PathLike[str] | None = None) -> AlertConfig:
    """The ``[alerts]`` table of the config file (``llmcost.paths.config_file()`` by default); none: no alerts."""
    from llmcost.paths import read_config

    try:
        file, data = read_config(path)
    except ValueError as exc:
        raise AlertConfigError(str(exc)) from None
    table = data.get("alerts", {})
    return parse_alert_config(table, str(file))


def parse_alert_config(table: Any, source: str = "config") -> AlertConfig:
    """Check an ``[alerts]`` table (as ``tomllib`` reads it); ``source`` names the file in errors."""
    where = _Where(source, "[alerts]")
    if not isinstance(table, dict):
        raise where.error("must be a table")
    where.known(table, [f.name for f in fields(AlertConfig) if f.name != "webhooks"] + ["webhook"])
    hooks = table.get("webhook", [])
    if isinstance(hooks, dict):  # [alerts.webhook]: one webhook
        hooks = [hooks]
    if not isinstance(hooks, list):
        raise where.error("webhook must be a [[alerts.webhook]] table")
    defaults = AlertConfig()
    return AlertConfig(
        min_severity=where.severity(table, "min_severity", defaults.min_severity),
        kinds=where.kinds(table, "kinds") or (),
        on_end=where.boolean(table, "on_end", defaults.on_end),
        bell=where.boolean(table, "bell", defaults.bell),
        command=where.command(table, "command"),
        command_timeout_s=where.number(table, "command_timeout_s", defaults.command_timeout_s, most=MAX_TIMEOUT_S),
        webhooks=tuple(_webhook(hook, _Where(source, f"[[alerts.webhook]] #{i}")) for i, hook in enumerate(hooks, 1)),
    )


def _webhook(table: Any, where: _Where) -> WebhookConfig:
    if not isinstance(table, dict):
        raise where.error("must be a table")
    where.known(table, [f.name for f in fields(WebhookConfig)] + ["url_env"])
    url = _url(table, where)
    base = WebhookConfig(url)
    headers = table.get("headers", {})
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise where.error('headers must be a table of strings, e.g. headers = { Authorization = "Bearer ..." }')
    retries = where.number(table, "retries", base.retries, integer=True, least=0, most=100)
    return WebhookConfig(
        url=url,
        min_severity=where.severity(table, "min_severity", None),
        kinds=where.kinds(table, "kinds"),
        on_end=where.boolean(table, "on_end", None),
        max_per_minute=int(
            where.number(table, "max_per_minute", base.max_per_minute, integer=True, least=1, most=10_000)
        ),
        timeout_s=where.number(table, "timeout_s", base.timeout_s, most=MAX_TIMEOUT_S),
        retries=int(retries),
        headers=dict(headers),
    )


def _url(table: dict[str, Any], where: _Where) -> str:
    if ("url" in table) == ("url_env" in table):
        raise where.error("needs url or url_env (the name of an environment variable holding the URL), not both")
    if "url_env" in table:
        name = table["url_env"]
        if not isinstance(name, str) or not name:
            raise where.error("url_env must name an environment variable")
        url = os.environ.get(name, "")
        if not url:
            raise where.error(f"url_env: the environment variable {name} is not set")
    else:
        url = table["url"]
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise where.error("url must start with http:// or https://")
    return url


@dataclass(frozen=True, slots=True)
class _Where:
    """A table being checked: makes its errors."""

    source: str
    table: str

    def error(self, text: str) -> AlertConfigError:
        return AlertConfigError(f"{self.source}: {self.table} {text}")

    def known(self, table: dict[str, Any], names: list[str]) -> None:
        for key in table:
            if key not in names:
                close = difflib.get_close_matches(key, names, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(sorted(names))})"
                raise self.error(f"has an unknown setting {key!r}{hint}")

    def boolean(self, table: dict[str, Any], name: str, default: Any) -> Any:
        value = table.get(name, default)
        if value is not default and not isinstance(value, bool):
            raise self.error(f"{name} must be true or false, not {value!r}")
        return value

    def number(
        self,
        table: dict[str, Any],
        name: str,
        default: float,
        *,
        most: float,
        integer: bool = False,
        least: float | None = None,
    ) -> float:
        """A finite number up to ``most``: from ``least``, or more than 0 when there is no ``least``."""
        value = table.get(name, default)
        kind = (int,) if integer else (int, float)
        if isinstance(value, bool) or not isinstance(value, kind):
            raise self.error(f"{name} must be {'a whole number' if integer else 'a number'}, not {value!r}")
        low_ok = value >= least if least is not None else value > 0
        if not (math.isfinite(value) and low_ok and value <= most):
            what = "a whole number" if integer else "a number"
            low = f"from {least:g} to" if least is not None else "more than 0 and at most"
            raise self.error(f"{name} must be {what} {low} {most:,.10g}, not {value!r}")
        return value

    def severity(self, table: dict[str, Any], name: str, default: Severity | None) -> Any:
        value = table.get(name, default)
        if value is not default and value not in SEVERITIES:
            raise self.error(f'{name} must be "info", "warning" or "critical", not {value!r}')
        return value

    def kinds(self, table: dict[str, Any], name: str) -> tuple[str, ...] | None:
        if name not in table:
            return None
        value = table[name]
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(k, str) for k in value):
            raise self.error(f'{name} must be a list of alarm kinds, e.g. {name} = ["burst", "repeat"]')
        for kind in value:
            if kind not in KINDS:
                close = difflib.get_close_matches(kind, KINDS, n=1)
                hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(KINDS)}"
                raise self.error(f"{name}: unknown alarm kind {kind!r} ({hint})")
        return tuple(cast("list[str]", value))

    def command(self, table: dict[str, Any], name: str) -> tuple[str, ...]:
        value = table.get(name, [])
        if isinstance(value, str):  # split like a shell would, but no shell runs it
            try:
                value = shlex.split(value)
            except ValueError as exc:
                raise self.error(f"{name}: {exc}") from None
        if not isinstance(value, list) or not all(isinstance(a, str) for a in value):
            raise self.error(f'{name} must be a list of strings, e.g. {name} = ["notify-send", "llmcost", "{{text}}"]')
        if table.get(name) is not None and not value:
            raise self.error(f"{name} is empty")
        problem = command_problem(value) if value else None
        if problem is not None:
            raise self.error(f"{name}: {problem}")
        return tuple(value)
