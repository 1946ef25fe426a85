"""Lazy package exports (PEP 562): a package's public names, imported on first use.

A package whose ``__init__`` re-exports names from its modules would import
every one of those modules (and what they import) whenever any submodule is
imported: the command line's start-up paid for bank readers, pydantic and the
report writers it never used.  The packages that re-export many names
(``juzhang.statements``, ``juzhang.importers``, ``juzhang.exporters``) keep a
map of name → defining module and delegate their module ``__getattr__`` here.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, MutableMapping


def lazy_attribute(
    package: str, exports: Mapping[str, str], namespace: MutableMapping[str, object], name: str
) -> object:
    """Return ``name`` of ``package`` from the module ``exports`` names, caching it.

    Raises:
        AttributeError: ``name`` is not one of the package's lazy exports.
    """
    module = exports.get(name)
    if module is None:
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    namespace[name] = value  # the next lookup is an ordinary global
    return value


__all__ = ["lazy_attribute"]
