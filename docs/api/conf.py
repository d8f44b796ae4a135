"""Sphinx configuration of spikebridge's API reference (``make docs``).

Every public module of the package gets a page generated at build time by ``autosummary`` (recursive, from
``index.rst``); autodoc documents each module's own members, numpydoc renders the docstrings and checks
that every public object has one (``GL08``).
"""

from __future__ import annotations

import doctest
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PYNEST_QUIET", "1")  # autodoc imports spikebridge.backends.nest, which imports nest
os.environ.setdefault("MPLBACKEND", "Agg")

import neo  # noqa: E402

import spikebridge  # noqa: E402
import spikebridge.analysis.inference  # noqa: E402

# A PEP 695 ``type`` alias is evaluated lazily, and autodoc evaluates it: Sphinx 9 does not catch the NameError of
# a name imported only under TYPE_CHECKING. analysis/inference.py's SpikeTrains names ``neo`` that way.
spikebridge.analysis.inference.neo = neo  # type: ignore[attr-defined]

project = "spikebridge"
author = "spikebridge contributors"
release = version = spikebridge.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.doctest",
    "numpydoc",
]

templates_path = ["_templates"]
exclude_patterns = ["_build"]
root_doc = "index"
html_theme = "alabaster"
html_static_path: list[str] = []

# autosummary writes one page per module into generated/ (rebuilt by `make docs`, ignored by git)
autosummary_generate = True
autosummary_imported_members = False
autosummary_ignore_module_all = True

# _templates/autosummary/module.rst documents each class, function and commented constant once, in the module
# that defines it (a package's re-exports are not repeated); undocumented members of classes are listed too, so
# that numpydoc's GL08 check sees them
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"  # the signature line shows the hints; numpydoc's Parameters section gives types and units
autodoc_class_signature = "separated"
autodoc_mock_imports: list[str] = []  # nothing optional is missing here: NEST, Brian2 and brian2cuda are installed
# cli/__main__ is the `python -m spikebridge.cli` entry, not API: left out of the reference
autosummary_mock_imports = ["spikebridge.cli.__main__"]

numpydoc_show_class_members = False  # autodoc lists the members; numpydoc's tables would need stub pages
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# GL08: a public object has a docstring
numpydoc_validation_checks = {"GL08"}
numpydoc_validation_exclude = {r"\.__\w+__$"}  # dunder methods need none

# `make docs` runs every ``>>>`` example of every documented docstring with the doctest builder
doctest_default_flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE | doctest.IGNORE_EXCEPTION_DETAIL
doctest_test_doctest_blocks = "default"

nitpicky = False


def _data_signature(app: object, what: str, name: str, obj: object, options: object, signature: str | None,
                    return_annotation: str | None) -> tuple[str | None, str | None] | None:
    """Keep a constant's signature as autodoc made it: numpydoc reads a generic alias (``dict[str, Any]``) as a class."""
    if what in {"data", "attribute"}:
        return signature, return_annotation
    return None


def setup(app: object) -> None:
    """Run :func:`_data_signature` before numpydoc's signature hook (priority 500)."""
    app.connect("autodoc-process-signature", _data_signature, priority=400)  # type: ignore[attr-defined]
