"""The project's settings, with the benchmark's URLs (the API plus a bare view to compare)."""

from importlib import import_module

_base = import_module("interaction_platform.settings")
globals().update({name: getattr(_base, name) for name in dir(_base) if name.isupper()})

ROOT_URLCONF = "bench.support.urls"
