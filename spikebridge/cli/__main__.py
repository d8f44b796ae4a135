"""``python -m spikebridge.cli``: the same as the ``spikebridge`` command."""

import sys

from .app import script

if __name__ == "__main__":
    sys.exit(script())
