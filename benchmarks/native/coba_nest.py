"""Vogels-Abbott COBA as a NEST user writes it by hand: build from arrays, simulate, save every spike.

    python coba_nest.py NETWORK.npz DURATION_MS OUT.npz

NETWORK.npz holds the drawn network (benchmarks/whole_command.py writes it from spikebridge's draw, so this script
simulates the very network spikebridge does): per population its NEST parameters and initial V_m, per projection
arrays of pre and post indices, weights (nS, negative for inhibition) and delays (ms); the source's spike times.
"""

import json
import sys

import nest
import numpy as np

net = np.load(sys.argv[1])
spec = json.loads(str(net["spec"]))
duration, out = float(sys.argv[2]), sys.argv[3]

nest.set_verbosity("M_ERROR")
nest.ResetKernel()
nest.set(resolution=spec["dt"], rng_seed=spec["seed"], print_time=False)
nodes = {}
for name, pop in spec["populations"].items():
    if pop["source"]:
        times = [net[f"{name}_times"][net[f"{name}_index"] == i] for i in range(pop["size"])]
        nodes[name] = nest.Create("spike_generator", pop["size"], params=[{"spike_times": t} for t in times])
    else:
        nodes[name] = nest.Create("iaf_cond_exp", pop["size"], params=pop["params"])
        nodes[name].V_m = net[f"{name}_v"]
for name, prj in spec["projections"].items():
    pre = np.asarray(nodes[prj["pre"]].tolist())[net[f"{name}_pre"]]
    post = np.asarray(nodes[prj["post"]].tolist())[net[f"{name}_post"]]
    nest.Connect(pre, post, "one_to_one", {"weight": net[f"{name}_weight"], "delay": net[f"{name}_delay"]})
recorder = nest.Create("spike_recorder")
cells = [nodes[n] for n, p in spec["populations"].items() if not p["source"]]
for c in cells:
    nest.Connect(c, recorder)
nest.Simulate(duration)
events = recorder.events
np.savez(out, senders=events["senders"], times=events["times"])
