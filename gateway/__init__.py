"""The skillyard gateway: protocol, sessions, routing and the server."""

__version__ = "0.1.0"

__all__ = ["__version__"]
