"""Language models: the HTTP client, the providers and their keys, the scripted test model."""
