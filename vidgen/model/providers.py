"""Model providers: one table (built-ins plus plugins) saying where each lives, its default model and its key.

A plugin adds providers through the `vidgen.providers` entry point group: the entry point is a
function returning Provider objects (or one Provider), like `llm`'s `register_models` hook.

A key is only ever sent to its own provider's URL: the key variable and the stored key are
chosen by the provider, and a custom base URL never receives them, only VIDGEN_API_KEY or the key
stored for that very URL under a name (`vidgen keys set NAME --base-url URL`, see userconfig).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points
from urllib.parse import unquote, urlsplit, urlunsplit

from ..errors import KeyProblem, UsageError
from . import keys, userconfig

ENTRY_POINT_GROUP = "vidgen.providers"
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


@dataclass(frozen=True)
class Provider:
    """Everything vidgen needs to know about one OpenAI-compatible endpoint."""

    name: str
    base_url: str
    default_model: str
    key_variable: str | None = None  # None: it needs no key (a local server)
    key_name: str = ""  # the name `vidgen keys set` stores its key under; "" means its own name
    glm_extras: bool = False  # takes GLM's `thinking` and `reasoning_effort`
    json_object: bool = False  # takes response_format json_object at its own URL (the critique's verdict)
    vision_model: str = ""  # the critique's model when none is configured; "" means no critique by default
    alias: bool = False  # the user's own named endpoint (`vidgen keys set NAME --base-url URL`), not a provider

    @property
    def stored_as(self) -> str:
        return self.key_name or self.name

    def own_url(self, base_url: str) -> bool:
        return base_url.rstrip("/") in ("", self.base_url.rstrip("/"))


BUILT_IN = (
    Provider(
        "zai",
        "https://api.z.ai/api/paas/v4",
        "glm-5.2",
        "ZAI_API_KEY",
        glm_extras=True,
        json_object=True,
        vision_model="glm-5v-turbo",
    ),
    # The coding plan's documented models are the text ones: no vision model by default.
    Provider(
        "zai-coding",
        "https://api.z.ai/api/coding/paas/v4",
        "glm-5.2",
        "ZAI_API_KEY",
        key_name="zai",
        glm_extras=True,
        json_object=True,
    ),
    Provider("openai", "https://api.openai.com/v1", "gpt-5.1", "OPENAI_API_KEY", json_object=True),
    Provider("openrouter", "https://openrouter.ai/api/v1", "z-ai/glm-5.2", "OPENROUTER_API_KEY", json_object=True),
    Provider("ollama", "http://localhost:11434/v1", "llama3.2"),
)


@dataclass(frozen=True)
class Plugin:
    """One entry point of the `vidgen.providers` group: where it comes from, what it added, what went wrong."""

    name: str
    value: str  # module:attribute
    package: str  # the distribution that installed it ("" when unknown)
    version: str
    providers: tuple[str, ...]
    problems: tuple[str, ...]


@dataclass(frozen=True)
class Registry:
    providers: dict[str, Provider]
    problems: tuple[str, ...]  # plugins that could not be loaded, one line each
    plugins: tuple[Plugin, ...] = ()


@cache
def registry() -> Registry:
    """The built-in providers and every plugin's, loaded once; a broken plugin is skipped and noted."""
    table = {p.name: p for p in BUILT_IN}
    problems: list[str] = []
    plugins: list[Plugin] = []
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        where = f"plugin {entry.name} ({entry.value})"
        dist = entry.dist
        added: list[str] = []
        own: list[str] = []
        try:
            found = entry.load()
            offered = found() if callable(found) else found
            listed = [offered] if isinstance(offered, Provider) else list(offered)
        except Exception as exc:  # a plugin's bug must not stop vidgen: it is reported where it matters
            own.append(f"failed to load: {type(exc).__name__}: {exc}")
            listed = []
        for provider in listed:
            problem = _plugin_problem(provider, table)
            if problem:
                own.append(problem)
            else:
                table[provider.name] = provider
                added.append(provider.name)
        problems += [f"{where}{' ' if line.startswith('failed') else ': '}{line}" for line in own]
        package, version = (dist.name, dist.version) if dist is not None else ("", "")
        plugins.append(Plugin(entry.name, entry.value, package, version, tuple(added), tuple(own)))
    return Registry(table, tuple(problems), tuple(plugins))


def _plugin_problem(provider: object, table: dict[str, Provider]) -> str:
    if not isinstance(provider, Provider):
        return f"offered a {type(provider).__name__}, not a vidgen.providers.Provider"
    if not _NAME.match(provider.name):
        return f"provider name {provider.name!r} is not lowercase letters, digits and hyphens"
    if provider.name in table:
        return f"provider {provider.name!r} is already defined; the plugin's one is ignored"
    if urlsplit(provider.base_url).scheme not in ("http", "https"):
        return f"provider {provider.name!r} has a base URL that is not http(s)"
    if not provider.default_model:
        return f"provider {provider.name!r} has no default model"
    return ""


def names() -> list[str]:
    return list(registry().providers)


def get(name: str) -> Provider:
    """The provider of that name, or a usage error listing the known ones (and any broken plugin)."""
    found = registry().providers.get(name)
    if found is not None:
        return found
    url = userconfig.alias_url(name)
    if url is not None:
        # Its key is the one stored under its name; no key variable, as for a provider the user named.
        return Provider(name, url, "", key_name=name, alias=True)
    broken = "; ".join(registry().problems)
    named = sorted(userconfig.aliases())
    raise UsageError(
        f"unknown provider {name!r}: use one of {', '.join(names() + named)}, or name your own endpoint with"
        f" `vidgen keys set {name} --base-url URL` (or pass --base-url)" + (f"; {broken}" if broken else "")
    )


def default_model(name: str) -> str:
    provider = get(name)
    if provider.alias and not provider.default_model:
        raise UsageError(
            f"no model named for the endpoint {name}: pass --model {name}/MODEL (`vidgen models --provider {name}` lists"
            f" them), or set one with `vidgen models default {name}/MODEL`"
        )
    return provider.default_model


@dataclass(frozen=True)
class Endpoint:
    """Where requests go and the key for it (never printed: see __repr__)."""

    provider: str
    base_url: str
    api_key: str | None
    glm_extras: bool
    # Credentials given in the base URL (`https://user:pass@host/v1`), kept out of base_url so that
    # no message, transcript or manifest that names the endpoint can carry them; sent as Basic auth.
    auth: tuple[str, str] | None = None

    def __repr__(self) -> str:
        return (
            f"Endpoint(provider={self.provider!r}, base_url={self.base_url!r}, "
            f"api_key={'***' if self.api_key else None}, auth={'***' if self.auth else None})"
        )


def split_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """A URL without its `user:pass@` part, and that part (percent-decoded) if there was one."""
    try:
        parts = urlsplit(url)
    except ValueError:
        # Unparsable (a bad IPv6 literal): keep only what follows the last "@" of the authority.
        scheme, sep, rest = url.partition("://")
        authority, slash, path = rest.partition("/")
        return (f"{scheme}{sep}{authority.rpartition('@')[2]}{slash}{path}" if sep else url), None
    if "@" not in parts.netloc:
        return url, None
    userinfo, _, host = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    return urlunsplit(parts._replace(netloc=host)), (unquote(user), unquote(password))


def resolve(provider_name: str, base_url: str = "") -> Endpoint:
    """The endpoint and key for a provider, with an optional base URL of the user's own.

    The key, first found wins: VIDGEN_API_KEY (the user's key for whatever endpoint they chose),
    then, only with the provider's own URL, its variable (ZAI_API_KEY, ...) and its stored key.
    """
    provider = get(provider_name)
    url = (base_url or provider.base_url).rstrip("/")
    own_url = provider.own_url(url)
    url, auth = split_credentials(url)
    key = os.environ.get("VIDGEN_API_KEY") or None
    if key is None and provider.alias and own_url:
        key = keys.get(provider.stored_as)
        if key is None:
            raise KeyProblem(
                f"no key stored for the endpoint {provider.name}: run `vidgen keys set {provider.name} --base-url"
                f" {provider.base_url}` (or set VIDGEN_API_KEY)"
            )
    elif key is None and not own_url:
        # A --base-url the user named earlier gets the key stored under that name, and only that URL does.
        named = userconfig.alias_for_url(url)
        key = keys.get(named) if named else None
    elif key is None and own_url and provider.key_variable:
        key = os.environ.get(provider.key_variable) or keys.get(provider.stored_as)
        if key is None:
            raise KeyProblem(
                f"no API key for {provider.name}: run `vidgen keys set {provider.stored_as}` (or set"
                f" {provider.key_variable}), or run `vidgen demo` to try vidgen without one"
            )
    return Endpoint(provider.name, url, key, glm_extras=provider.glm_extras and own_url or _looks_like_glm(url), auth=auth)


def key_source(provider_name: str) -> tuple[bool, str]:
    """Whether the provider's own URL has a key, and where it comes from (never the key itself)."""
    provider = get(provider_name)
    if provider.alias:
        stored = keys.get(provider.stored_as) is not None
        return stored, (
            f"a key for {provider.name} is stored in {keys.path()}" if stored else f"no key stored for {provider.name}"
        )
    if provider.key_variable is None:
        return True, f"provider {provider.name} needs no key"
    for variable in ("VIDGEN_API_KEY", provider.key_variable):
        if os.environ.get(variable):
            return True, f"{variable} is set"
    if keys.get(provider.stored_as):
        return True, f"a key for {provider.stored_as} is stored in {keys.path()}"
    return False, f"no key: neither {provider.key_variable} nor a stored key for {provider.stored_as}"


def _looks_like_glm(url: str) -> bool:
    return "z.ai" in url or "bigmodel.cn" in url
