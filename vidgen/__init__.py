"""vidgen: turn a plain-language idea into a finished video with Remotion."""

__version__ = "0.1.0"
