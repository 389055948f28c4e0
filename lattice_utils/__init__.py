"""Shared, tested logic behind the notebooks (see DESIGN.md for the module map)."""
__version__ = "0.1.0"
