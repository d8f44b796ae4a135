"""Which flags the C++ compiler accepts, remembered between processes.

Brian2 checks each of its C++ compiler flags (``prefs.codegen.cpp.extra_compile_args_gcc``) by compiling an empty
program with it, once per process (``brian2.codegen.cpp_prefs.has_flag``): six compiler runs, 0.12-0.15 s of every
command, where a ``cpp_standalone`` run of COBA 4k with cached code takes 0.5 s. The answers depend only on the
compiler, so :func:`recall` keeps them in spikebridge's cache, one small JSON file per compiler (named by a digest of
the compiler commands Brian2 uses, with their executables' paths, sizes and modification times), and hands them to
Brian2's table before Brian2 asks. Only accepted flags are remembered: a refusal (perhaps a compiler run that failed
for another reason) is checked again by each process, as Brian2 does. A flag not yet in the file (another device's
preferences) is checked by Brian2, then added. A cache that cannot be written costs only the checks.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any


def _table() -> dict[tuple[str, str], bool] | None:
    """Brian2's in-process answers, keyed by (compiler command, flag); None if this Brian2 keeps none."""
    from brian2.codegen import cpp_prefs

    table = getattr(cpp_prefs, "_compiler_flag_compatibility", None)
    return table if isinstance(table, dict) else None


def _compiler() -> Any:
    """The C++ compiler object Brian2 checks flags with (distutils'), or None for MSVC (Brian2 checks none)."""
    from brian2 import prefs
    from brian2.codegen.cpp_prefs import get_default_compiler
    from setuptools._distutils.ccompiler import new_compiler
    from setuptools._distutils.sysconfig import customize_compiler

    compiler = new_compiler(compiler=prefs["codegen.cpp.compiler"] or get_default_compiler(), verbose=False)
    if compiler.compiler_type == "msvc":
        return None
    customize_compiler(compiler)
    return compiler


def _file(root: Path, compiler: Any) -> Path | None:
    """The answers' file for ``compiler`` under ``root``, or None when an executable of it cannot be found.

    Brian2 names a compiler by its C++ command (``compiler_cxx``) but checks a flag by compiling with ``compiler_so``
    (which follows ``$CC`` and ``$CFLAGS``): both commands, and what their executables are, name the file.
    """
    identity = []
    for command in (compiler.executables["compiler_cxx"], compiler.executables["compiler_so"]):
        found = shutil.which(command[0]) if command else None
        if found is None:
            return None
        real = os.path.realpath(found)
        stat = os.stat(real)
        identity.append(f"{' '.join(command)}\n{real}\n{stat.st_size}\n{stat.st_mtime_ns}")
    return root / "compiler-flags" / f"{hashlib.sha256(chr(10).join(identity).encode()).hexdigest()[:16]}.json"


def _read(path: Path) -> dict[str, bool]:
    """The accepted flags in ``path`` (an unreadable or malformed file holds none)."""
    try:
        known = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return {flag: True for flag, accepted in known.items() if accepted is True} if isinstance(known, dict) else {}


def recall(root: Path) -> None:
    """Give Brian2 the remembered answers for its compiler, let it check what is new, and remember what it accepts.

    Call once Brian2's preferences for the build are set. Does nothing where Brian2 keeps no table.

    Parameters
    ----------
    root
        spikebridge's Brian2 cache folder.
    """
    from brian2.codegen.cpp_prefs import get_compiler_and_args

    table = _table()
    compiler = _compiler() if table is not None else None
    path = _file(root, compiler) if compiler is not None else None
    if table is None or compiler is None or path is None:
        return
    command = " ".join(compiler.executables["compiler_cxx"])  # how Brian2's table names the compiler
    known = _read(path)
    for flag in known:
        table.setdefault((command, flag), True)
    get_compiler_and_args()  # Brian2 checks the flags it has no answer for
    accepted = {flag: True for (cmd, flag), ok in table.items() if cmd == command and ok is True}
    if accepted == known:
        return
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(accepted, indent=1, sort_keys=True))
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
