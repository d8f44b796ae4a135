"""Vogels-Abbott COBA as a Brian2 user writes it by hand for cpp_standalone: build from arrays, run, save every spike.

    python coba_brian2.py NETWORK.npz DURATION_MS OUT.npz BUILD_DIR METHOD

METHOD is ``euler`` or ``gsl`` (GSL RKF45 with NEST's absolute error 1e-3 per variable, the step carried over, as
NEST's iaf_cond_exp integrates). NETWORK.npz as for coba_nest.py; a source spike at t reaches its targets at t + d
(NEST's timing: the synapse's delay is d - dt after the generator's own step).
"""

import json
import sys

import brian2 as b2
import numpy as np
from brian2 import ms, mV, nF, nS

net = np.load(sys.argv[1])
spec = json.loads(str(net["spec"]))
duration, out, directory, method = float(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]

b2.set_device("cpp_standalone", build_on_run=False, directory=directory)
b2.prefs.devices.cpp_standalone.extra_make_args_unix = ["-j2"]
b2.defaultclock.dt = spec["dt"] * ms
EQS = """
dv/dt = (v_rest - v)/tau_m + (ge*(e_rev_e - v) + gi*(e_rev_i - v))/c_m : volt (unless refractory)
dge/dt = -ge/tau_e : siemens
dgi/dt = -gi/tau_i : siemens
"""
options = None
if method == "gsl":
    tolerances = {"v": 1e-3 * mV, "ge": 1e-3 * nS, "gi": 1e-3 * nS}
    method, options = "gsl_rkf45", {"absolute_error_per_variable": tolerances, "use_last_timestep": True}
groups, objects = {}, []
for name, pop in spec["populations"].items():
    if pop["source"]:
        groups[name] = b2.SpikeGeneratorGroup(pop["size"], net[f"{name}_index"], net[f"{name}_times"] * ms, name=name)
    else:
        p = pop["pynn"]
        ns = {
            "v_rest": p["v_rest"] * mV,
            "tau_m": p["tau_m"] * ms,
            "c_m": p["cm"] * nF,
            "e_rev_e": p["e_rev_E"] * mV,
            "e_rev_i": p["e_rev_I"] * mV,
            "tau_e": p["tau_syn_E"] * ms,
            "tau_i": p["tau_syn_I"] * ms,
        }
        groups[name] = b2.NeuronGroup(
            pop["size"],
            EQS,
            threshold=f"v > {p['v_thresh']}*mV",
            reset=f"v = {p['v_reset']}*mV",
            refractory=p["tau_refrac"] * ms,
            method=method,
            method_options=options,
            namespace=ns,
            name=name,
        )
        groups[name].v = net[f"{name}_v"] * mV
    objects.append(groups[name])
for name, prj in spec["projections"].items():
    target = "ge" if prj["receptor"] == "excitatory" else "gi"
    syn = b2.Synapses(groups[prj["pre"]], groups[prj["post"]], "w : siemens", on_pre=f"{target}_post += w", name=name)
    syn.connect(i=net[f"{name}_pre"], j=net[f"{name}_post"])
    syn.w[:] = np.abs(net[f"{name}_weight"]) * nS
    source = spec["populations"][prj["pre"]]["source"]
    syn.delay[:] = (net[f"{name}_delay"] - (spec["dt"] if source else 0.0)) * ms
    objects.append(syn)
monitors = [b2.SpikeMonitor(groups[n], name=f"spikes_{n}") for n, p in spec["populations"].items() if not p["source"]]
b2.Network(*objects, *monitors).run(duration * ms, namespace={})
b2.device.build(directory=directory, compile=True, run=True, with_output=False)
np.savez(out, **{m.name: np.stack([m.i[:], m.t[:] / ms]) for m in monitors})
