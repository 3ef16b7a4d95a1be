"""Synthetic branches for the demo, tests and bench: realistic daily extracts from real
A-share bars (data/reference/). Production never imports it."""

from .branch import Leavers, generate

# Bumped when the same arguments generate other data (the bench keys its cached data sets
# by it): 2 = realistic staffing (brokers with ~700 clients each, generator/branch.staff).
VERSION = 2

__all__ = ["VERSION", "Leavers", "generate"]
