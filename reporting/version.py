"""The tool's version, in its own module so that anything may import it without importing the app."""

__version__ = "0.1.0"
