"""NESTML models compiled into NEST extension modules, cached on disk.

:func:`build` turns NESTML texts (and neuron-synapse pairs, for synapses that read postsynaptic spikes) into one NEST
extension module, and :func:`install` loads it into the running NEST kernel. A module lives in
``cache_root()/<key>``, where the key is a sha256 of the texts, the pairs, the NEST and NESTML versions and the
compiler flags; a second :func:`build` of the same input reads a small manifest and never imports NESTML.

Code generation and compilation run in a child Python process (``pynestml`` keeps global state between calls and
prints a great deal); everything it prints goes to ``cache_root()/logs/<key>.log``. Builds are serialised per key by
a file lock and written to a temporary folder that is renamed into place, so processes can share the cache.

The NEST wheel's own ``nest-config`` names the folder the wheel was built in; :func:`nest_config_dir` writes one that
points at the installed ``nest`` package and compiles with the wheel's (pre-C++11) string ABI.
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import importlib.util
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, TextIO

from ...errors import BackendError, BackendNotInstalledError, ExecutionError, one_line

CXXFLAGS = "-Wall -fopenmp -O2 -std=c++20 -D_GLIBCXX_USE_CXX11_ABI=0"
"""Compiler flags for modules of the ``nest-simulator`` wheel, which uses the pre-C++11 ``std::string`` ABI: a
module built without ``-D_GLIBCXX_USE_CXX11_ABI=0`` compiles but ``nest.Install`` cannot load it ("file not
found")."""

SUFFIX = "_nestml"
"""Appended by NESTML to every generated model's name (its ``suffix`` option)."""

CACHE_FORMAT = 3
"""Part of every cache key, bumped whenever the layout of a cached module changes: 2 = with the history-pruning patch
of the generated neurons, 3 = and with the trace-update patch (see ``_GENERATE``)."""

HEADERS = {"ltdl.h": "libltdl-dev", "boost/tuple/tuple.hpp": "libboost-dev"}
"""C++ headers that NEST's own headers include, and the Debian packages that provide them."""

TOOLS = {"g++": "g++", "cmake": "cmake", "make": "make"}
"""Programs the build runs, and the Debian packages that provide them."""

MANIFEST = "manifest.json"

_GENERATE = r"""
import json, sys, traceback
args = json.loads(sys.argv[1])
result = sys.argv[2]

def fail(stage, message):
    with open(result, "w") as fh:
        json.dump({"stage": stage, "message": message}, fh)
    sys.exit(1)

try:
    from pynestml.exceptions.generated_code_build_exception import GeneratedCodeBuildException
    from pynestml.frontend.pynestml_frontend import generate_nest_target
    from pynestml.utils.logger import Logger, LoggingLevel
except Exception as err:
    traceback.print_exc()
    fail("import", f"pynestml cannot be imported: {err}")
# NESTML 9.0 prunes a paired neuron's spike history down to the oldest post spike that no synapse has read yet, and so
# drops the spike before it, whose trace values the synapse needs to read that post spike's traces "before this spike"
# (a post handler reading a post trace then gets the trace's initial value whenever two post spikes fall between pre
# spikes). Keep that one entry too: prune the front only once the entry after it has been read as well.
PRUNE = "if ( history_.front().access_counter_ >= n_incoming_"
KEPT = PRUNE + " and history_[ 1 ].access_counter_ >= n_incoming_"
# NESTML 9.0's paired neuron keeps the post traces of its synapse and brings them to a time with one GSL step over the
# neuron's whole state vector: at each post spike (set_spiketime) and whenever the synapse reads a trace at a pre spike
# (get_<trace>__for_<synapse>). The derivatives of that step include the neuron's own synaptic kernels (g_exc, g_inh),
# so each of those events decays them by one more time step. Where every trace of such a step is then replaced by its
# exact value (``X = X__tmp``), the neuron's state and GSL step size are put back right after the step.
import re
TRACE_FUNCTION = re.compile(r"::(?:set_spiketime|get_\w+__for_\w+)\(.*?\n}\n", re.S)
LOOP = re.compile(r"^( *)while \( __t < B_\.__step \)\n", re.M)
NUMERIC = re.compile(r"// numeric solver: integrating state variables: ?([^\n]*)")

def keep_state(function):
    out, done, k = [], 0, 0
    loops = list(LOOP.finditer(function))
    for i, loop in enumerate(loops):
        indent = loop.group(1)
        close = function.find("\n" + indent + "}\n", loop.end())
        listed = NUMERIC.findall(function, done, loop.start())  # this step's own solver comment
        names = [n.strip() for n in (listed[-1] if listed else "").split(",") if n.strip()]
        after = function[close:loops[i + 1].start() if i + 1 < len(loops) else len(function)]
        if close < 0 or not names or not all(f"S_.ode_state[State_::{n}] = {n}__tmp;" in after for n in names):
            continue
        k += 1
        save = f"{indent}const State_ state_before_traces_{k}__ = S_;\n"
        save += f"{indent}const double step_before_traces_{k}__ = B_.__integration_step;\n"
        restore = f"\n{indent}S_ = state_before_traces_{k}__;  // spikebridge\n{indent}B_.__integration_step = step_before_traces_{k}__;"
        end = close + len(indent) + 2
        out += [function[done:loop.start()], save, function[loop.start():end], restore]
        done = end
    return "".join(out) + function[done:]

try:
    import glob
    from pynestml.codegeneration.nest_builder import NESTBuilder

    _build = NESTBuilder.build

    def build(self):
        for path in glob.glob(args["target_path"] + "/*.cpp"):
            with open(path) as fh:
                code = fh.read()
            patched = TRACE_FUNCTION.sub(lambda m: keep_state(m.group(0)), code.replace(PRUNE, KEPT))
            if patched != code:
                with open(path, "w") as fh:
                    fh.write(patched)
        return _build(self)

    NESTBuilder.build = build
    generate_nest_target(**args)
except GeneratedCodeBuildException as err:
    traceback.print_exc()
    fail("compile", str(err))
except BaseException as err:
    traceback.print_exc()
    fail("generate", f"{type(err).__name__}: {err}")
errors = Logger.get_messages(level=LoggingLevel.ERROR)
if errors:
    artifact, node, _, _, position, message = errors[0]
    where = [getattr(node, "name", None) or (node if isinstance(node, str) else "") or artifact or ""]
    line = getattr(position, "start_line", 0)
    where.append(f"line {line}" if isinstance(line, int) and line > 0 else "")
    where = ", ".join(w for w in where if w)
    fail("generate", f"{where}: {message}" if where else message)
"""


@dataclass(frozen=True)
class Pair:
    """A synapse generated together with the neuron it reads postsynaptic spikes from (NESTML's
    ``neuron_synapse_pairs``).

    Parameters
    ----------
    neuron : str
        The neuron model's name, a key of ``sources``.
    synapse : str
        The synapse model's name, a key of ``sources``.
    post_ports : tuple
        The synapse's input ports that receive the postsynaptic neuron's spikes (``"post_spikes"``), and for each
        continuous port a pair (port, the neuron's state variable it reads).
    weight_variable : str
        The synapse's variable that NEST reads and writes as the connection's ``weight``.
    """

    neuron: str
    synapse: str
    post_ports: tuple[str | tuple[str, str], ...]
    weight_variable: str = "w"


@dataclass(frozen=True)
class Module:
    """A compiled NEST extension module.

    Parameters
    ----------
    path : Path
        The shared library, for ``nest.Install``.
    name : str
        The module's name (``sb<12 hex digits>module``), unique per cache key.
    node_models : dict of str to str
        NEST's model name for each neuron of ``sources``: the paired neuron where it is in a :class:`Pair`, else the
        name with NESTML's suffix (``iaf_psc_exp_neuron`` -> ``iaf_psc_exp_neuron_nestml``).
    synapse_models : dict of str to str
        NEST's model name for each synapse of ``sources``: the paired synapse where it is in a :class:`Pair`.
    seconds : float
        How long generating and compiling took (when it was built, also for a cached module).
    cached : bool
        Whether it came from the cache.
    registered : tuple of str
        Every model the module registers with NEST (a paired neuron's unpaired version among them).
    """

    path: Path
    name: str
    node_models: dict[str, str]
    synapse_models: dict[str, str]
    seconds: float
    cached: bool
    registered: tuple[str, ...] = ()


def cache_root() -> Path:
    """The folder of compiled NESTML modules.

    Returns
    -------
    Path
        ``$XDG_CACHE_HOME/spikebridge/nestml`` (default ``~/.cache/spikebridge/nestml``).
    """
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "spikebridge" / "nestml"


def nest_prefix() -> Path:
    """The installed ``nest`` package's folder (which holds ``include/nest``), found without importing NEST.

    Returns
    -------
    Path
        ``Path(nest.__file__).parent``.
    """
    spec = importlib.util.find_spec("nest")
    if spec is None or spec.origin is None:
        raise BackendNotInstalledError("building NESTML models needs NEST: pip install 'nest-simulator==3.10.*'")
    return Path(spec.origin).parent


def package_version(name: str) -> str | None:
    """The installed version of distribution ``name``, or None."""
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def nest_config_text(prefix: Path, compiler: str, nest_version: str) -> str:
    """A ``nest-config`` script for extension modules of the NEST installed at ``prefix``.

    Parameters
    ----------
    prefix : Path
        The ``nest`` package's folder.
    compiler : str
        The C++ compiler's path.
    nest_version : str
        NEST's version, e.g. ``"3.10.0"``.

    Returns
    -------
    str
        A POSIX shell script answering the options NESTML's CMakeLists asks (``--prefix``, ``--cflags``, ...).
    """
    answers = {
        "--prefix": str(prefix),
        "--exec-prefix": str(prefix),
        "--version": nest_version,
        "--includes": f"-I{prefix}/include/nest -I{prefix}/include",
        "--cflags": CXXFLAGS,
        "--libs": "",  # the module's symbols resolve against the NEST already loaded in the process
        "--compiler": compiler,
        "--compiler-name": "GNU",
        "--python-executable": sys.executable,
        "--python-version": ".".join(map(str, sys.version_info[:3])),
        "--static-libraries": "OFF",
        "--docdir": "share/doc/nest",
        "--datadir": "share/nest",
        "--libdir": "lib",
    }
    cases = "".join(f'    {option}) echo "{value}" ;;\n' for option, value in answers.items())
    return (
        "#!/bin/sh\n"
        "# Written by spikebridge.backends.nest.nestml for the nest-simulator wheel (whose own nest-config names\n"
        "# the folder the wheel was built in).\n"
        "[ $# -eq 0 ] && { echo 'usage: nest-config OPTION' >&2; exit 1; }\n"
        'for option in "$@"; do\n'
        '  case "$option" in\n'
        f"{cases}"
        '    *) echo "nest-config: unknown option $option" >&2; exit 1 ;;\n'
        "  esac\n"
        "done\n"
    )


def nest_config_dir() -> Path:
    """A folder holding ``bin/nest-config`` for the installed NEST wheel (NESTML's ``nest_path`` option).

    Written once, atomically, under :func:`cache_root`, in a folder named by a digest of its text (so virtual
    environments that share the cache never overwrite each other's).

    Returns
    -------
    Path
        The folder; ``<folder>/bin/nest-config`` is executable.
    """
    text = nest_config_text(nest_prefix(), tool_path("g++"), package_version("nest-simulator") or "")
    folder = cache_root() / "nest-config" / hashlib.sha256(text.encode()).hexdigest()[:16]
    script = folder / "bin" / "nest-config"
    if script.is_file() and script.read_text() == text:
        return folder
    script.parent.mkdir(parents=True, exist_ok=True)
    tmp = script.with_name(f".nest-config.{os.getpid()}.{uuid.uuid4().hex[:8]}")
    tmp.write_text(text)
    tmp.chmod(0o755)
    os.replace(tmp, script)
    return folder


def tool_path(name: str) -> str:
    """The full path of program ``name`` (one of :data:`TOOLS`), or ``ExecutionError`` naming its Debian package."""
    found = shutil.which(name)
    if found is None:
        raise ExecutionError(f"compiling NESTML models needs '{name}', which is not on PATH; install it: apt-get install {TOOLS[name]}")
    return found


def check_toolchain() -> None:
    """Raise ``ExecutionError`` (one line, naming the Debian packages) if a program or C++ header the build needs
    is missing."""
    for name in TOOLS:
        tool_path(name)
    includes = [f"-I{nest_prefix()}/include/nest", f"-I{nest_prefix()}/include"]
    missing = [header for header in HEADERS if not header_found(header, includes)]
    if missing:
        packages = " ".join(HEADERS[h] for h in missing)
        raise ExecutionError(
            f"compiling NESTML models needs the C++ headers {', '.join(missing)}, which are missing; "
            f"install them: apt-get install {packages}"
        )


def header_found(header: str, includes: Sequence[str]) -> bool:
    """Whether the C++ preprocessor finds ``#include <header>``."""
    done = subprocess.run(
        [tool_path("g++"), "-E", "-x", "c++", *includes, "-o", os.devnull, "-"],
        input=f"#include <{header}>\n",
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode == 0


def defined_models(text: str) -> list[str]:
    """The names of the models a NESTML text defines (``model <name>:`` lines)."""
    return re.findall(r"^\s*model\s+(\w+)\s*:", text, flags=re.MULTILINE)


def is_synapse(name: str) -> bool:
    """Whether NESTML treats model ``name`` as a synapse: its name ends in ``synapse`` (NESTML's own rule)."""
    return name.endswith("synapse")


def check_input(sources: Mapping[str, str], pairs: Sequence[Pair]) -> None:
    """Raise ``BackendError`` unless each source defines the model it is named for and each pair names a neuron and a
    synapse among the sources, every synapse in one pair at most."""
    if not sources:
        raise BackendError("no NESTML model to build")
    for name, text in sources.items():
        if not re.fullmatch(r"[A-Za-z_]\w*", name):
            raise BackendError(f"NESTML model name {name!r} is not an identifier")
        if name not in defined_models(text):
            raise BackendError(f"the NESTML text given for model {name!r} defines no 'model {name}:'")
    paired: set[str] = set()
    for pair in pairs:
        if pair.neuron not in sources or is_synapse(pair.neuron):
            raise BackendError(f"pair {pair}: {pair.neuron!r} is not one of the neuron models given")
        if pair.synapse not in sources or not is_synapse(pair.synapse):
            raise BackendError(f"pair {pair}: {pair.synapse!r} is not one of the synapse models given (names end in 'synapse')")
        if pair.synapse in paired:
            raise BackendError(f"synapse {pair.synapse!r} is in more than one pair")
        paired.add(pair.synapse)


def cache_key(sources: Mapping[str, str], pairs: Sequence[Pair] = ()) -> str:
    """The digest that names a module: of the texts, the pairs, NEST's and NESTML's versions, the compiler flags and the
    script that generates and patches the C++ (``_GENERATE``).

    Parameters
    ----------
    sources : Mapping of str to str
        Model name -> NESTML text.
    pairs : Sequence of Pair
        Neuron-synapse pairs.

    Returns
    -------
    str
        64 hexadecimal digits.
    """
    payload = {
        "format": CACHE_FORMAT,
        "sources": sorted(sources.items()),
        "pairs": sorted(json.dumps(asdict(p), sort_keys=True) for p in pairs),
        "buffering": "post_spike_based" if any(not isinstance(q, str) for p in pairs for q in p.post_ports) else None,
        "nest": package_version("nest-simulator"),
        "nestml": package_version("nestml"),
        "cxxflags": CXXFLAGS,
        "suffix": SUFFIX,
        "generator": hashlib.sha256(_GENERATE.encode()).hexdigest(),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def module_name(key: str) -> str:
    """The extension module's name for cache key ``key``: NESTML requires it to end in ``module``."""
    return f"sb{key[:12]}module"


def codegen_options(sources: Mapping[str, str], pairs: Sequence[Pair], nest_path: Path) -> dict[str, Any]:
    """NESTML's ``codegen_opts`` for a build.

    Every synapse needs a weight variable: its pair's, else ``w``. Pairs that share a neuron become one entry, as
    NESTML wants them.
    """
    weights = {name: "w" for name in sources if is_synapse(name)}
    weights.update({p.synapse: p.weight_variable for p in pairs})
    options: dict[str, Any] = {"nest_path": str(nest_path), "nest_version": f"v{package_version('nest-simulator')}"}
    if weights:
        options["weight_variable"] = weights
    grouped: dict[str, dict[str, Any]] = {}
    for p in pairs:
        grouped.setdefault(p.neuron, {})[p.synapse] = {"post_ports": [q if isinstance(q, str) else list(q) for q in p.post_ports]}
    if grouped:
        options["neuron_synapse_pairs"] = [{"neuron": n, "synapses": s} for n, s in grouped.items()]
    if any(not isinstance(q, str) for p in pairs for q in p.post_ports):
        # NESTML's default ("continuous_time_buffer") stores every step of a continuous variable and searches that
        # history from its start at each pre spike: quadratic in the run's length (a 50 s run took > 12 min). A pre
        # handler reads the variable as it is now either way; a post handler reads it as of the post spike.
        options["continuous_state_buffering_method"] = "post_spike_based"
    return options


def registered_models(module_cpp: str) -> tuple[list[str], list[str]]:
    """The neuron and synapse models a generated module's ``initialize()`` registers with NEST.

    Parameters
    ----------
    module_cpp : str
        The text of the generated ``<module>.cpp``.

    Returns
    -------
    tuple of (list of str, list of str)
        Neuron model names, synapse model names.
    """
    neurons_part, _, synapses_part = module_cpp.partition("// register synapses")
    pattern = r'register_\w+\(\s*"(\w+)"\s*\)'
    return re.findall(pattern, neurons_part), re.findall(pattern, synapses_part)


def model_names(
    sources: Mapping[str, str], pairs: Sequence[Pair], neurons: list[str], synapses: list[str]
) -> tuple[dict[str, str], dict[str, str]]:
    """Map each source to the NEST model generated for it (see :class:`Module`), from the models the module registers.

    NESTML 9 names a paired neuron ``<neuron><suffix>__with_<synapse><suffix>`` (``_and_``-joined where one neuron
    has several synapses) and its synapse ``<synapse><suffix>__with_<neuron><suffix>``; both are looked up among the
    registered names by their prefix rather than assumed. A paired neuron's unpaired version is generated too (and
    registered, as ``<neuron><suffix>``), a paired synapse's is not.
    """
    node_models: dict[str, str] = {}
    synapse_models: dict[str, str] = {}
    for p in pairs:
        node_models[p.neuron] = find_model(neurons, f"{p.neuron}{SUFFIX}__with_", p.neuron)
        synapse_models[p.synapse] = find_model(synapses, f"{p.synapse}{SUFFIX}__with_", p.synapse)
    for name in sources:
        table, registered = (synapse_models, synapses) if is_synapse(name) else (node_models, neurons)
        if name not in table:
            table[name] = find_model(registered, f"{name}{SUFFIX}", name, exact=True)
    return node_models, synapse_models


def find_model(registered: list[str], prefix: str, source: str, exact: bool = False) -> str:
    """The one registered model named ``prefix`` (``exact``) or starting with it, or ``ExecutionError``."""
    found = [m for m in registered if (m == prefix if exact else m.startswith(prefix))]
    if len(found) != 1:
        raise ExecutionError(
            f"NESTML generated no single NEST model for {source!r} (looked for {prefix!r}{'' if exact else '...'} among {registered})"
        )
    return found[0]


def load_manifest(folder: Path) -> Module | None:
    """The module cached in ``folder``, or None where there is none (or it is unreadable, or its library is gone)."""
    try:
        data = json.loads((folder / MANIFEST).read_text())
        if not (folder / data["library"]).is_file():
            return None
        return Module(
            path=folder / data["library"],
            name=data["name"],
            node_models=dict(data["node_models"]),
            synapse_models=dict(data["synapse_models"]),
            seconds=float(data["seconds"]),
            cached=True,
            registered=(*data["registered"]["neurons"], *data["registered"]["synapses"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


@contextmanager
def locked(path: Path, progress: bool, what: str = "the same NESTML module") -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path``; with ``progress``, say so on stderr when another process holds it
    (compiling ``what``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if progress:
                print(f"spikebridge: waiting for another process compiling {what}...", file=sys.stderr, flush=True)
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextmanager
def spinner(message: str, enabled: bool, stream: TextIO | None = None) -> Iterator[None]:
    """Show ``message`` on stderr while the block runs: with a running count of seconds on a terminal, then how long
    it took."""
    out = stream or sys.stderr
    if not enabled:
        yield
        return
    t0 = time.perf_counter()
    tty = out.isatty()
    stop = threading.Event()

    def tick() -> None:
        while not stop.wait(1.0):
            out.write(f"\r{message} {time.perf_counter() - t0:.0f} s")
            out.flush()

    out.write(message)
    out.flush()
    thread = threading.Thread(target=tick, daemon=True) if tty else None
    if thread is not None:
        thread.start()
    outcome = "failed"
    try:
        yield
        outcome = "done"
    finally:
        stop.set()
        if thread is not None:
            thread.join()
        again = "\r" + message if tty else ""
        out.write(f"{again} {outcome} in {time.perf_counter() - t0:.0f} s\n")
        out.flush()


def first_compiler_error(log: Path) -> str:
    """The first compiler error (``error: ...``) or CMake error (with its indented explanation) in a build log, or an
    empty string."""
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    for i, line in enumerate(lines):
        if line.startswith("CMake Error"):
            explanation = itertools.takewhile(lambda text: text.startswith(" "), lines[i + 1 :])
            return one_line(" ".join([line, *explanation]))[:300]
        match = re.search(r"\b((fatal )?error: .*)$", line)
        if match:
            return one_line(match.group(1))[:300]
    return ""


def generate(sources: Mapping[str, str], pairs: Sequence[Pair], work: Path, name: str, log: Path) -> None:
    """Generate and compile the module into ``work/lib`` in a child process that writes everything to ``log``.

    Raises
    ------
    ExecutionError
        One line: what failed (code generation or compilation), the first error, and the log's path.
    """
    inputs = work / "nestml"
    inputs.mkdir(parents=True)
    for model, text in sources.items():
        (inputs / f"{model}.nestml").write_text(text)
    args = {
        "input_path": [str(inputs / f"{model}.nestml") for model in sorted(sources)],
        "target_path": str(work / "target"),
        "install_path": str(work / "lib"),
        "module_name": name,
        "logging_level": "WARNING",
        "suffix": SUFFIX,
        "codegen_opts": codegen_options(sources, pairs, nest_config_dir()),
    }
    result = work / "result.json"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYNEST_QUIET": "1"}
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as out:
        out.write(f"spikebridge: building NESTML module {name} from {', '.join(sorted(sources))} in {work}\n")
        out.write(f"codegen options: {json.dumps(args['codegen_opts'])}\n")
        out.flush()
        done = subprocess.run(
            [sys.executable, "-c", _GENERATE, json.dumps(args), str(result)],
            cwd=work,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        )
    if done.returncode == 0 and (work / "lib" / f"{name}.so").is_file():
        return
    try:
        failure = json.loads(result.read_text())
    except (OSError, ValueError):
        failure = {"stage": "generate", "message": f"the NESTML process exited with status {done.returncode}"}
    models = ", ".join(sorted(sources))
    if failure["stage"] == "compile":
        detail = first_compiler_error(log) or failure["message"]
        what = f"compiling the NEST module {name} generated from NESTML models {models} failed"
    else:
        detail = failure["message"]
        what = f"NESTML code generation for models {models} failed"
    raise ExecutionError(one_line(f"{what}: {detail[:300]}; full log: {log}"))


def keep_outputs(work: Path) -> None:
    """Keep the generated C++ (in ``work/generated``) and the library; delete the build tree."""
    generated = work / "generated"
    generated.mkdir()
    for path in (work / "target").iterdir():
        if path.suffix in (".h", ".cpp") or path.name == "CMakeLists.txt":
            shutil.copy2(path, generated / path.name)
    for folder in ("target", "report"):
        shutil.rmtree(work / folder, ignore_errors=True)
    (work / "result.json").unlink(missing_ok=True)


def build(sources: Mapping[str, str], pairs: Sequence[Pair] = (), *, progress: bool = True) -> Module:
    """The NEST extension module for NESTML models: from the cache, or generated and compiled (about 30 s).

    Parameters
    ----------
    sources : Mapping of str to str
        Model name -> the full NESTML text that defines it (``model <name>:``). Names ending in ``synapse`` are
        synapses (NESTML's rule); an unpaired synapse's weight variable is ``w``.
    pairs : Sequence of Pair
        Synapses to generate together with their postsynaptic neuron.
    progress : bool
        Say on stderr that a module is being compiled (nothing is printed on a cache hit).

    Returns
    -------
    Module
        The library and the NEST model names of ``sources``.

    Raises
    ------
    BackendError
        A source does not define the model it is named for, or a pair names an unknown model.
    ExecutionError
        A tool or header is missing, or code generation or compilation failed (one line, with the log's path).
    """
    check_input(sources, pairs)
    key = cache_key(sources, pairs)
    root = cache_root()
    module = load_manifest(root / key)
    if module is not None:
        return module
    with locked(root / "locks" / f"{key}.lock", progress):
        module = load_manifest(root / key)  # built by another process while this one waited
        if module is not None:
            return module
        return build_into(root, key, sources, pairs, progress)


def build_into(root: Path, key: str, sources: Mapping[str, str], pairs: Sequence[Pair], progress: bool) -> Module:
    """Generate and compile the module for ``key`` in a temporary folder of ``root`` and rename it to ``root/key``;
    the caller holds the key's lock."""
    check_toolchain()
    for stale in root.glob(f".tmp-{key}-*"):  # left by a process that died
        shutil.rmtree(stale, ignore_errors=True)
    work, folder, name = root / f".tmp-{key}-{os.getpid()}", root / key, module_name(key)
    t0 = time.perf_counter()
    try:
        with spinner(f"spikebridge: compiling NESTML module {name} (first use, ~30 s)...", progress):
            generate(sources, pairs, work, name, root / "logs" / f"{key}.log")
        neurons, synapses = registered_models((work / "target" / f"{name}.cpp").read_text())
        node_models, synapse_models = model_names(sources, pairs, neurons, synapses)
        keep_outputs(work)
        manifest = {
            "name": name,
            "library": f"lib/{name}.so",
            "node_models": node_models,
            "synapse_models": synapse_models,
            "registered": {"neurons": neurons, "synapses": synapses},
            "seconds": time.perf_counter() - t0,
            "nest": package_version("nest-simulator"),
            "nestml": package_version("nestml"),
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2))
        shutil.rmtree(folder, ignore_errors=True)  # an incomplete module (its library deleted, say)
        os.replace(work, folder)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    module = load_manifest(folder)
    if module is None:
        raise ExecutionError(f"the NESTML module {name} was built but cannot be read back from {folder}")
    return dataclasses.replace(module, cached=False)


def install(module: Module) -> None:
    """Load ``module`` into the NEST kernel, unless it is loaded already (``nest.ResetKernel`` unloads modules, so
    this checks the kernel's list rather than remembering).

    Parameters
    ----------
    module : Module
        From :func:`build`.

    Raises
    ------
    ExecutionError
        NEST cannot load it, or already has a model of the same name from another module (built from other
        NESTML texts for models of the same names: NEST cannot hold both in one process).
    """
    import nest

    path = str(module.path)
    if path in nest.GetKernelStatus("modules"):
        return
    known = set(nest.node_models) | set(nest.synapse_models)
    clash = sorted(m for m in {*module.registered, *module.node_models.values(), *module.synapse_models.values()} if m in known)
    if clash:
        raise ExecutionError(
            f"cannot install NESTML module {module.name}: NEST already has models named {', '.join(clash)} "
            "(from a module built from other NESTML texts), and NEST cannot replace a model; call nest.ResetKernel() first, "
            "which unloads every module"
        )
    try:
        nest.Install(path)
    except Exception as err:  # NEST's errors (nest.NESTError, ...) share no base class with the standard ones
        raise ExecutionError(one_line(f"NEST cannot load the NESTML module {module.path}: {err}")) from None
