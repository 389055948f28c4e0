"""Shared, tested logic behind the notebooks (docs/design.md lists the modules)."""
__version__ = "0.1.0"
