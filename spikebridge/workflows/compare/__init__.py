"""``spikebridge compare``: one model on several backends and seeds, measured, scored and reported."""
