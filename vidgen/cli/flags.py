"""The model flags `new`, `edit`, `batch` and `watch` share: one decorator, one value, one way to apply them."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import click

from .. import settings as settings_module
from ..agent import critique as critique_module
from ..model import providers, userconfig


@dataclass(frozen=True)
class ModelFlags:
    """The model flags as given (None: not given, so the environment, vidgen.toml or the default decides)."""

    provider: str | None = None
    model: str | None = None
    base_url: str | None = None
    thinking: bool | None = None
    effort: str | None = None
    critique: bool | None = None

    def apply(self, settings: settings_module.Settings) -> settings_module.Settings:
        """The settings with these flags over them (flags have the highest precedence).

        The provider is checked here, before any work, wherever it came from (flag, environment, file).
        A model configured for one provider does not follow --provider to another (ollama has no
        glm-5.2): there, without --model, the new provider's default model is used.
        """
        switched = self.provider is not None and self.provider != settings.model.provider
        applied = settings_module.with_model(
            settings,
            provider=self.provider,
            model="" if switched and self.model is None else self.model,
            base_url=self.base_url,
            thinking=None if self.thinking is None else ("enabled" if self.thinking else "disabled"),
            effort=self.effort,
        )
        applied = replace(applied, model=routed(applied.model, provider_given=self.provider is not None))
        providers.get(applied.model.provider)
        return applied

    def critic(self, settings: settings_module.Settings) -> critique_module.Critic | None:
        """The vision critic the settings and --critique/--no-critique ask for (None when off)."""
        return critique_module.critic_for(settings, self.critique)


def routed(model: settings_module.ModelSettings, provider_given: bool) -> settings_module.ModelSettings:
    """The model settings with the user's default model and a named endpoint's `NAME/MODEL` applied.

    The user's default (`vidgen models default`) fills in only when nothing named a model or a base URL,
    and only for its own provider, or when no --provider was given and the provider is still the built-in
    default: a model for openai is never sent to ollama. `NAME/MODEL` picks the endpoint NAME only when NAME
    is one the user stored and no --provider says otherwise (so OpenRouter's `vendor/model` ids still work).
    """
    chosen = userconfig.default_model()
    built_in = settings_module.ModelSettings().provider
    if chosen and not model.model and not model.base_url:
        if model.provider == chosen.provider or (not provider_given and model.provider == built_in):
            model = replace(model, provider=chosen.provider, model=chosen.model)
    name, slash, rest = model.model.partition("/")
    if slash and rest and not provider_given and userconfig.alias_url(name) is not None:
        model = replace(model, provider=name, model=rest)
    return model


# Named from the built-in table (plugins load only when a provider is used, not for --help).
PROVIDER_HELP = f"{', '.join(p.name for p in providers.BUILT_IN)}, or a plugin's provider (default zai)."

_OPTIONS = (
    click.option("--provider", default=None, help=PROVIDER_HELP),
    click.option("--model", "model", default=None, help="Model name (default: the provider's, e.g. glm-5.2 on zai)."),
    click.option("--base-url", default=None, help="Any OpenAI-compatible endpoint (its key: VIDGEN_API_KEY)."),
    click.option("--thinking/--no-thinking", default=None, help="GLM thinking on or off (default: the model's)."),
    click.option("--effort", default=None, help="reasoning_effort, where the model takes it."),
    click.option(
        "--critique/--no-critique", default=None, help="A vision model reviews the render (default: on where one is known)."
    ),
)
_NAMES = ("provider", "model", "base_url", "thinking", "effort", "critique")


def model_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add the model flags to a command, which receives them as one `model_flags: ModelFlags` argument."""

    @functools.wraps(command)
    def with_flags(*args: Any, **kwargs: Any) -> Any:
        flags = ModelFlags(**{name: kwargs.pop(name) for name in _NAMES})
        return command(*args, model_flags=flags, **kwargs)

    for option in reversed(_OPTIONS):
        with_flags = option(with_flags)
    return with_flags
