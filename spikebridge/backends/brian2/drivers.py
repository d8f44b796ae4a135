"""Brian2's devices as drivers with one lifecycle: ``activate`` → ``run`` × N → ``finish`` → read → ``end``.

As Brian2's own ``RuntimeDevice`` and ``CPPStandaloneDevice`` do, each driver implements the same few methods and
the backend never asks which one it has. The runtime driver simulates in each ``run`` and has nothing to finish;
the standalone drivers (``cpp_standalone``, brian2cuda's ``cuda_standalone``) only record each ``run`` in the
project, and ``finish`` generates, compiles (cached, see :mod:`~spikebridge.backends.brian2.standalone`) and runs the binary once, before
results are first read; after that they refuse another phase.
"""

from __future__ import annotations

import gc
import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

from ...errors import BackendError
from ...models.network import Network
from ..base import Progress
from . import compiler_flags, simulator, standalone
from .options import Brian2Options

CUDA_STD = "-std=c++17"
"""brian2cuda 1.0b1 compiles with -std=c++11; CUDA 13's Thrust refuses anything below C++17."""
CUDA_WHEELS = "pip install 'spikebridge[cuda-toolkit]'"
"""How to install NVIDIA's nvcc wheels (the ``cuda-toolkit`` extra; ``make install`` does)."""
_PROJECTS_BUILT: list[str] = []
"""Standalone devices activated in this process so far."""


def release_standalone_devices() -> None:
    """Empty every standalone device activated before in this process and collect what it held.

    A device keeps its last project's code objects until it is reinitialised, and Brian2 names new objects after the
    live ones ("..._codeobject_1"): a later network of the same structure, on any device, would generate other code
    and miss its cache. Results of an emptied device can no longer be read: call it where its network is over
    (``Backend.end``, PyNN's ``setup``)."""
    from brian2.devices.device import all_devices

    for name in dict.fromkeys(_PROJECTS_BUILT):
        all_devices[name].reinit()
    gc.collect()


@contextmanager
def own_libraries() -> Iterator[None]:
    """Extension modules loaded inside bind to their own shared libraries first (``RTLD_DEEPBIND``).

    PyNEST sets ``RTLD_GLOBAL`` for the whole process and loads the GSL 1.16 bundled with the nest-simulator wheel
    into the global scope; Brian2's GSL code objects, compiled against the system's GSL 2.x, would then call into
    NEST's copy, whose structures differ (wrong results, ``ZeroDivisionError`` or a segmentation fault when NEST ran
    first in the process). Loaded this way they use the GSL they were linked with.
    """
    flags = sys.getdlopenflags()
    sys.setdlopenflags(os.RTLD_NOW | getattr(os, "RTLD_DEEPBIND", 0))
    try:
        yield
    finally:
        sys.setdlopenflags(flags)


def cuda_wheels() -> Path | None:
    """The CUDA toolkit laid out by NVIDIA's wheels (``nvidia-cuda-nvcc`` with its runtime, CRT, NVVM, CCCL and profiler API: the
    ``cuda-toolkit`` extra): the folder holding ``bin/nvcc`` (``site-packages/nvidia/cu13``); ``None`` where they
    are not installed.

    nvcc finds its headers and Thrust there by itself, but looks for ``libcudart_static`` in ``lib64``, which the
    wheels do not have: their ``lib`` is on the link line as cuRAND's folder (:func:`standalone.curand_dirs`).
    """
    try:
        import nvidia  # namespace package of NVIDIA's wheels
    except ImportError:
        return None
    for root in getattr(nvidia, "__path__", []):
        for nvcc in sorted(Path(root).glob("*/bin/nvcc")):
            if os.access(nvcc, os.X_OK) and (nvcc.parent.parent / "include" / "cuda_runtime.h").exists():
                return nvcc.parent.parent
    return None


def system_cuda() -> Path | None:
    """The CUDA installation brian2cuda finds by itself, in its order: ``$CUDA_PATH``, ``nvcc`` on ``PATH``,
    ``/usr/local/cuda``, ``/opt/cuda``; ``None`` where there is none."""
    if os.environ.get("CUDA_PATH") and os.path.exists(os.environ["CUDA_PATH"]):
        return Path(os.environ["CUDA_PATH"])
    nvcc = shutil.which("nvcc")
    if nvcc is not None:
        return Path(nvcc).parent.parent
    return next((Path(p) for p in ("/usr/local/cuda", "/opt/cuda") if os.path.exists(p)), None)


def cuda_toolkit() -> Path | None:
    """The CUDA toolkit brian2:cuda compiles with: NVIDIA's wheels (:func:`cuda_wheels`) unless ``$CUDA_PATH`` names
    another one, else the system's (:func:`system_cuda`); ``None`` where neither has ``bin/nvcc``."""
    toolkit = (None if os.environ.get("CUDA_PATH") else cuda_wheels()) or system_cuda()
    return toolkit if toolkit is not None and (toolkit / "bin" / "nvcc").exists() else None


def gsl_installed() -> bool:
    """Whether GSL's headers are where Brian2 looks (``prefs.GSL.directory``, else the system's include folders)."""
    from brian2 import prefs

    folders = [prefs.GSL.directory] if prefs.GSL.directory else ["/usr/include", "/usr/local/include", f"{sys.prefix}/include"]
    return any((Path(folder) / "gsl" / "gsl_odeiv2.h").exists() for folder in folders)


class Driver:
    """The runtime device: Cython code generation, simulated phase by phase in this process."""

    variant: ClassVar[str | None] = None
    DESCRIPTION: ClassVar[str] = "runtime (Cython code generation)"
    has_gsl: ClassVar[bool] = True
    """Whether the device has Brian2's GSL integrators at all (brian2cuda has none)."""

    @property
    def gsl(self) -> bool:
        """Whether GSL integrators can be used here: the device has them and GSL is installed (Debian's libgsl-dev)."""
        return self.has_gsl and gsl_installed()

    def __init__(self, label: str, options: Brian2Options) -> None:
        self.label = label
        self.options = options

    def refuse(self, network: Network) -> None:
        """Raise ``BackendError`` for what this device cannot simulate in ``network`` (the runtime simulates all)."""

    def activate(self) -> None:
        """Select and reset the Brian2 device for one build, with this backend's preferences."""
        import brian2
        from brian2 import prefs

        prefs.reset_to_defaults()
        brian2.BrianLogger.log_level_warn()
        brian2.set_device("runtime")
        prefs.codegen.target = "cython"
        standalone.deterministic_gsl_code()
        compiler_flags.recall(standalone.default_cache_root())

    def prepare(self, network: Network, methods: dict[str, str], built: dict[str, Any] | None = None) -> None:
        """Called once the network is built (``built``: what of its groups shapes the code beyond the network's
        structure): nothing to prepare at runtime."""

    def run(self, duration: float, progress: Progress | None) -> None:
        """Simulate ``duration`` ms now, reporting progress (code objects are compiled and loaded here)."""
        with own_libraries():
            simulator.run(duration, progress)

    def finish(self) -> None:
        """Make results readable: the runtime has them already."""

    def compile(self, make: bool = True) -> None:
        """Generate and compile ahead: the runtime has no project to build."""
        raise BackendError(f"{self.label} compiles nothing ahead: only the standalone variants have a project to build")

    def info(self) -> dict[str, Any]:
        """The device's entries in the backend's ``info()``."""
        return {"device": self.DESCRIPTION}

    def option_notes(self) -> dict[str, str]:
        """Options as reported where this device ignores them: ``threads`` outside ``brian2:cpp``."""
        if self.options.threads != 1:
            return {"threads": f"{self.options.threads} (ignored: only brian2:cpp runs OpenMP threads)"}
        return {}

    def end(self) -> None:
        """Release what the device holds (the runtime holds nothing beyond the network)."""


LINK_ARGS = ("-ffast-math",)
"""Linked with ``-ffast-math``, a ``cpp_standalone`` binary starts with the CPU flushing denormal numbers to zero (GCC's
``crtfastmath``); Brian2 compiles with the flag but does not link with it. A NESTML cell's decaying variables (a
silent port's conductance, a rate trace) spend long stretches below 1e-308, where every operation takes about a hundred
cycles: measured on the digits network (brian2:cpp, 70 s simulated), the output cells' step took 21.4 s without and
5.1 s with it, the whole binary 67 s and 45 s, and every spike, weight and recording came out the same to the bit (only
a final conductance of order 1e-310 differed)."""


class StandaloneDriver(Driver):
    """``cpp_standalone``: every phase is recorded into one project, built and run by :meth:`finish`."""

    variant: ClassVar[str | None] = "cpp"
    DEVICE: ClassVar[str] = "cpp_standalone"
    DESCRIPTION: ClassVar[str] = "cpp_standalone"

    def __init__(self, label: str, options: Brian2Options) -> None:
        super().__init__(label, options)
        self.cache_root = standalone.default_cache_root() if options.build_dir is None else Path(options.build_dir).expanduser()
        self.project: standalone.Project | None = None
        self.phases_run = 0
        self.finished = False

    def refuse(self, network: Network) -> None:
        """A standalone binary cannot drive PyNN's current sources from Python: refuse them."""
        if network.currents:
            raise BackendError(
                f"{self.label} cannot inject currents ({', '.join(sorted(network.currents))}): pyNN.brian2 drives current "
                "sources from Python at every step, which a standalone binary cannot do; use backend 'brian2'"
            )

    def activate(self) -> None:
        """Select and reset the standalone device (no build on run), with make jobs and this device's preferences."""
        import brian2
        from brian2 import prefs

        prefs.reset_to_defaults()
        brian2.BrianLogger.log_level_warn()
        brian2.set_device(self.DEVICE, build_on_run=False)
        brian2.device.reinit()
        if _PROJECTS_BUILT:
            gc.collect()  # the previous project's code objects: alive, they would push new names to "..._1"
        if self.DEVICE not in _PROJECTS_BUILT:
            _PROJECTS_BUILT.append(self.DEVICE)
        brian2.device.activate(build_on_run=False)
        prefs.devices.cpp_standalone.extra_make_args_unix = [f"-j{self.options.compile_jobs}"]
        self.preferences(prefs)
        standalone.deterministic_gsl_code()
        compiler_flags.recall(standalone.default_cache_root())

    def preferences(self, prefs: Any) -> None:
        """This device's own preferences: OpenMP threads, and the binary linked with :data:`LINK_ARGS`."""
        prefs.devices.cpp_standalone.openmp_threads = self.options.threads if self.options.threads > 1 else 0
        prefs.codegen.cpp.extra_link_args = [*prefs.codegen.cpp.extra_link_args, *LINK_ARGS]

    def settings(self, methods: dict[str, str]) -> dict[str, Any]:
        """What of the options shapes the generated code or links it (part of the project's cache key)."""
        return {
            "threads": self.options.threads,
            "methods": methods,
            "compute_capability": self.options.compute_capability,
            "link": list(LINK_ARGS),
        }

    def prepare(self, network: Network, methods: dict[str, str], built: dict[str, Any] | None = None) -> None:
        """The project directory in the compiled-code cache, keyed by the network's structure and ``built``."""
        key = standalone.structure_key(network, self.variant, self.settings(methods) | (built or {}))
        self.project = standalone.Project(self.cache_root / key)

    def run(self, duration: float, progress: Progress | None) -> None:
        """Record ``duration`` ms in the project (simulated later by :meth:`finish`); refused after it."""
        if self.finished:
            raise BackendError(
                f"{self.label} has already built and run its binary (results were read); run every phase before reading results"
            )
        simulator.run(duration, None)
        if progress is not None:
            progress(duration)  # the binary simulates every phase later, when results are first read
        self.phases_run += 1

    def _hold_network(self) -> None:
        if not self.phases_run:
            simulator.run(0.0)  # a standalone project needs one run to hold the network

    def finish(self) -> None:
        """Build and run the binary once, before results are first read."""
        if self.finished:
            return
        assert self.project is not None, "finish() after build()"
        self._hold_network()
        self.project.build(run=True)
        self.finished = True

    def compile(self, make: bool = True) -> None:
        """Generate and, with ``make``, compile the project without running it (e.g. CUDA code on a machine with no GPU)."""
        assert self.project is not None, "compile() after build()"
        self._hold_network()
        self.project.build(run=False, make=make)

    def info(self) -> dict[str, Any]:
        """Device, OpenMP threads and, once built, the project's directory and build timings."""
        out: dict[str, Any] = {"device": self.DESCRIPTION, "openmp_threads": self.options.threads}
        if self.project is not None:
            out["build"] = {"directory": str(self.project.directory), **{k: round(v, 3) for k, v in self.project.timings.items()}}
        return out

    def option_notes(self) -> dict[str, str]:
        """Every option is used as given."""
        return {}

    def end(self) -> None:
        """Delete this run's results folder in the project (the compiled code stays cached)."""
        if self.project is not None:
            self.project.clean_results()


class CudaDriver(StandaloneDriver):
    """brian2cuda's ``cuda_standalone``: C++17, cuRAND from the ``nvidia-curand`` wheel, nvcc from NVIDIA's wheels
    where installed (:func:`cuda_toolkit`), an optional fixed GPU architecture."""

    variant: ClassVar[str | None] = "cuda"
    DEVICE: ClassVar[str] = "cuda_standalone"
    DESCRIPTION: ClassVar[str] = "cuda_standalone (brian2cuda)"
    has_gsl: ClassVar[bool] = False

    def activate(self) -> None:
        """Refuse where brian2cuda cannot be imported; then as the C++ standalone device."""
        standalone.import_brian2cuda()
        super().activate()

    def preferences(self, prefs: Any) -> None:
        """C++17, cuRAND's folders, NVIDIA's nvcc wheels where installed (unless ``$CUDA_PATH`` names another CUDA
        toolkit) and, where given, the GPU architecture to compile for."""
        cuda = prefs.devices.cuda_standalone.cuda_backend
        wheels = None if os.environ.get("CUDA_PATH") else cuda_wheels()
        if wheels is not None:
            from brian2cuda.utils import gputools

            cuda.cuda_path = str(wheels)
            gputools.reset_cuda_installation()  # detected once per process, maybe from another toolkit
            prefs.codegen.cpp.library_dirs = [*prefs.codegen.cpp.library_dirs, str(wheels / "lib")]
        cuda.extra_compile_args_nvcc = [*cuda.extra_compile_args_nvcc, CUDA_STD]
        prefs.codegen.cpp.extra_compile_args_gcc = [f for f in prefs.codegen.cpp.extra_compile_args_gcc if not f.startswith("-std=")] + [
            CUDA_STD
        ]
        include, lib = standalone.curand_dirs()
        prefs.codegen.cpp.include_dirs = [*prefs.codegen.cpp.include_dirs, *include]
        prefs.codegen.cpp.library_dirs = [*prefs.codegen.cpp.library_dirs, *lib]
        prefs.codegen.cpp.runtime_library_dirs = [*prefs.codegen.cpp.runtime_library_dirs, *lib]
        if self.options.compute_capability is not None:
            cuda.compute_capability = float(self.options.compute_capability)
            cuda.detect_gpus = False
            cuda.gpu_id = 0

    def finish(self) -> None:
        """As the C++ standalone device's, refused first where there is no nvcc."""
        self.need_nvcc()
        super().finish()

    def compile(self, make: bool = True) -> None:
        """As the C++ standalone device's, refused first where there is no nvcc."""
        self.need_nvcc()
        super().compile(make)

    def need_nvcc(self) -> None:
        """``BackendError`` saying how to install nvcc where no CUDA toolkit has one (:func:`cuda_toolkit`)."""
        if not self.finished and cuda_toolkit() is None:
            raise BackendError(
                f"{self.label} compiles with nvcc, and no CUDA toolkit has one (nvidia-cuda-nvcc wheel, $CUDA_PATH, PATH, "
                f"/usr/local/cuda, /opt/cuda); install NVIDIA's wheels: {CUDA_WHEELS}"
            )

    def info(self) -> dict[str, Any]:
        """As the C++ standalone device's, without OpenMP threads."""
        out = super().info()
        del out["openmp_threads"]
        return out

    def option_notes(self) -> dict[str, str]:
        """``threads`` is ignored (as at runtime)."""
        return Driver.option_notes(self)


DRIVERS: dict[str | None, type[Driver]] = {None: Driver, "cpp": StandaloneDriver, "cuda": CudaDriver}
"""The driver of each variant of ``brian2``."""
