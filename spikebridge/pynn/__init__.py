"""Drop-in replacements for PyNN's simulator modules: change the import line of an unchanged PyNN script.

- ``spikebridge.pynn.nest``: ``pyNN.nest``.
- ``spikebridge.pynn.brian2``: ``pyNN.brian2`` with bulk-loaded connections and NEST's STDP meaning.
- ``spikebridge.pynn.brian2_cpp``, ``spikebridge.pynn.brian2_cuda``: the same on Brian2's C++ and CUDA standalone devices.
"""

from ..backends.nest.pynn_extensions import make_findable

make_findable()  # before a drop-in imports pyNN.nest: PyNN then loads its NEST extensions, compiled at install
