"""Synthetic branches for the demo, tests and bench: realistic daily extracts from real
A-share bars (data/reference/). Production never imports it."""

from .branch import Leavers, generate

__all__ = ["Leavers", "generate"]
