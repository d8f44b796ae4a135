"""Workflows: runs, files and grids. Each one drives backends, writes run directories and calls the pure functions of
:mod:`spikebridge.analysis` and the figures of :mod:`spikebridge.plotting`."""
