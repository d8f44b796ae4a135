"""Cross-simulator validation measures: what is measured, how two samples are compared, verdicts against a seed
baseline. Pure functions on spike trains and tables; the workflow that runs the simulations is
:mod:`spikebridge.workflows.compare`."""
