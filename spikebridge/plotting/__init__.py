"""Every figure spikebridge draws. Modules here take the arrays and tables that :mod:`spikebridge.analysis`
computes and return matplotlib figures; :func:`~spikebridge.plotting.figures.save_figure` writes them as PNG and PDF.
Nothing here selects a matplotlib backend: the command line does that once."""
