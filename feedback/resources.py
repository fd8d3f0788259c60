"""Where the data files that ship with feedback live: ``models/`` and ``templates/``.

In the repository (and an editable install) they sit next to the package, at the top of the tree; a wheel
installs them inside it, as ``feedback/models`` and ``feedback/templates`` (see ``[tool.setuptools]`` in
pyproject.toml). Every module finds them here, so both layouts work.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _shipped(name: str) -> Path:
    inside = _PACKAGE / name
    return inside if inside.is_dir() else _PACKAGE.parent / name


#: models/: sentiment rules, the taxonomy presets, the static embedding table
MODELS_DIR = _shipped("models")
#: the shipped taxonomy presets, one per domain: models/taxonomies/NAME.toml (README.md there)
TAXONOMY_DIR = MODELS_DIR / "taxonomies"
TAXONOMY_PRESETS = ("software", "travel", "banking", "retail", "telecom")
#: templates/: the report's base layout, partials and stylesheet, the service page
TEMPLATES_DIR = _shipped("templates")
