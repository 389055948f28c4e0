"""Shared, tested logic behind the notebooks (the README's layout section lists the modules)."""
__version__ = "0.1.0"
