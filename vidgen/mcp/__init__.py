"""The pipeline as Model Context Protocol tools and resources."""
