"""The Kconfig model: trees, configurations, .config files and profiles.

Nothing here imports Textual or Rich.
"""

from busyconf.model.config import Configuration, explain, missing_dependencies, resolve
from busyconf.model.kconfig import KconfigTree, SymbolInfo, load_tree
from busyconf.model.profile import Profile, load_profile, resolve_profile, save_profile

__all__ = [
    "Configuration",
    "KconfigTree",
    "Profile",
    "SymbolInfo",
    "explain",
    "load_profile",
    "load_tree",
    "missing_dependencies",
    "resolve",
    "resolve_profile",
    "save_profile",
]
