"""Model providers: where each one lives and which key belongs to it.

A key is only ever sent to its own provider's URL: the key variable is chosen by the
provider, and a custom base URL never receives a provider's key, only VIDGEN_API_KEY.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit, urlunsplit

from .errors import EXIT_MODEL, UsageError


@dataclass(frozen=True)
class Provider:
    name: str
    base_url: str
    key_variable: str | None
    # GLM's extras (`thinking`, `reasoning_effort`) are sent only where they are understood.
    glm_extras: bool = False


PROVIDERS = {
    "zai": Provider("zai", "https://api.z.ai/api/paas/v4", "ZAI_API_KEY", glm_extras=True),
    "zai-coding": Provider("zai-coding", "https://api.z.ai/api/coding/paas/v4", "ZAI_API_KEY", glm_extras=True),
    "openai": Provider("openai", "https://api.openai.com/v1", "OPENAI_API_KEY"),
    "openrouter": Provider("openrouter", "https://openrouter.ai/api/v1", "OPENROUTER_API_KEY"),
    "ollama": Provider("ollama", "http://localhost:11434/v1", None),
}


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


class MissingKey(UsageError):
    """No key for the provider: like every key problem, the user must fix it (exit 3, not a usage error's 2)."""

    exit_code = EXIT_MODEL


def resolve(provider_name: str, base_url: str = "") -> Endpoint:
    """The endpoint and key for a provider, with an optional base URL of the user's own.

    VIDGEN_API_KEY is the user's key for whatever endpoint they chose; a provider's own
    variable (ZAI_API_KEY, ...) is used only with that provider's own URL.
    """
    provider = PROVIDERS.get(provider_name)
    if provider is None:
        raise UsageError(f"unknown provider {provider_name!r}: use one of {', '.join(PROVIDERS)} (or --base-url for any other)")
    url = (base_url or provider.base_url).rstrip("/")
    own_url = url == provider.base_url.rstrip("/")
    url, auth = split_credentials(url)
    key = os.environ.get("VIDGEN_API_KEY") or None
    if key is None and own_url and provider.key_variable:
        key = os.environ.get(provider.key_variable) or None
    if key is None and provider.key_variable and own_url:
        raise MissingKey(
            f"no API key for {provider.name}: set {provider.key_variable} (or VIDGEN_API_KEY), "
            "or run `vidgen demo` to try vidgen without one"
        )
    return Endpoint(provider.name, url, key, glm_extras=provider.glm_extras and own_url or _looks_like_glm(url), auth=auth)


def _looks_like_glm(url: str) -> bool:
    return "z.ai" in url or "bigmodel.cn" in url
