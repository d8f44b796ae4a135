"""Neo recordings from PyNN populations: one segment per phase, every population merged into it."""

from __future__ import annotations

from typing import Any

import neo

from ...models.network import PopulationData


def collect_segment(populations: dict[str, Any], data: dict[str, PopulationData], phase: str) -> neo.Segment:
    """Read (and clear) what each recorded population holds, as one Neo segment named after the phase."""
    segment = neo.Segment(name=phase)
    for name, population in populations.items():
        if data[name].record is None:
            continue
        block = population.get_data(clear=True)
        for seg in block.segments:
            for st in seg.spiketrains:
                st.annotations["population"] = name
                segment.spiketrains.append(st)
            for sig in seg.analogsignals:
                sig.annotations["population"] = name
                segment.analogsignals.append(sig)
    return segment
