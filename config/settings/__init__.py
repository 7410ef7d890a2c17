"""Settings entry point: picks local, test or production from ENVIRONMENT (default LOCAL)."""

from importlib import import_module

from config.settings.environment import ENVIRONMENT

_module = import_module(f"config.settings.{ENVIRONMENT.lower()}")
globals().update({name: value for name, value in vars(_module).items() if name.isupper()})
