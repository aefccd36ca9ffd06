"""Providers behind one small interface (`Provider.complete`), found by kind in `registry.PROVIDERS`."""
from harness.providers.base import GenerationParams, Provider, ProviderConfig
from harness.providers.errors import ProviderError
from harness.providers.registry import PROVIDERS, create_provider

__all__ = ["PROVIDERS", "GenerationParams", "Provider", "ProviderConfig", "ProviderError", "create_provider"]
