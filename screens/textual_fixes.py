"""Work-arounds for Textual bugs that a kiosk, running for months, would feel.

Each one checks that the bug is still there before it patches, so upgrading Textual to a
release that fixes it turns the patch off by itself.
"""

from __future__ import annotations

from functools import lru_cache

from textual._styles_cache import StylesCache


def fix_styles_cache_leak() -> None:
    """Textual 8.2.8 decorates the *instance* method `StylesCache.get_inner_outer` with
    `lru_cache(1024)`, so the cache key holds `self`: the styles caches of the last 1,024
    removed widgets stay alive with every strip they rendered (Textual issue #6665). A
    kiosk builds ~16 widgets per customer, so after ~64 customers ~40 MB is pinned for
    good. The method does not use `self`: cache on the two colours alone."""
    method = StylesCache.__dict__.get("get_inner_outer")
    if not hasattr(method, "cache_info"):
        return  # fixed upstream (or renamed): nothing to do
    original = method.__wrapped__

    @lru_cache(1024)
    def colours_only(base_background, background):
        return original(None, base_background, background)

    def get_inner_outer(self, base_background, background):
        return colours_only(base_background, background)

    StylesCache.get_inner_outer = get_inner_outer
