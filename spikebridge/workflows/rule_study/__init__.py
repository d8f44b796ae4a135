"""The learning-rule comparison on a task (issue 16): spiking E/I networks with dendritic cells learning scikit-learn's
digits through NESTML rules, beside a rate network trained by backprop with Dale's law, across seeds and simulators.

:mod:`.network` builds one network as a spikebridge model, :mod:`.measures` reads what a run measured, :mod:`.study`
runs rules x seeds x backends on Dask and writes the table and the figure (``spikebridge study rules``).
"""
