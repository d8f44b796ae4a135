"""The stock-PyNN path every PyNN-based backend shares: cells, synapse types and Neo recordings built from the
instantiated arrays through any ``pyNN.<simulator>`` module, the options every such backend takes, and the
:class:`~spikebridge.backends.pynn.backend.PyNNBackend` base class."""
