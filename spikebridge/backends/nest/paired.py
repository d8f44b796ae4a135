"""NESTML synapses on NEST: each is compiled together with NESTML's version of its post-synaptic cell type.

NESTML keeps a plastic synapse's post-synaptic traces in the post-synaptic neuron, so NEST runs the post cells of
a NESTML synapse as NESTML's neuron of the same equations (``IF_cond_exp`` -> ``iaf_cond_exp_neuron``) generated
with the synapse. The population keeps its PyNN cell type and parameters: only the NEST model and the names of
five parameters change (NEST's ``t_ref`` is NESTML's ``refr_T``, and so on). A population of a NESTML neuron runs
as its own text generated with the synapse. One module holds every pair of a network and is cached by its text
(:mod:`spikebridge.backends.nest.nestml`).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from ...errors import BackendError
from ...models.nestml import SynapseRule, model_name
from ...models.nestml import read as read_nestml
from ...models.network import Network

NEURONS = {
    "IF_cond_exp": "iaf_cond_exp_neuron",
    "IF_curr_exp": "iaf_psc_exp_neuron",
    "IF_cond_alpha": "iaf_cond_alpha_neuron",
    "IF_curr_alpha": "iaf_psc_alpha_neuron",
}
"""NESTML's neuron for each PyNN cell type a NESTML synapse may end on (their files ship with the nestml package)."""

RENAMED = {"t_ref": "refr_T", "tau_syn_ex": "tau_syn_exc", "tau_syn_in": "tau_syn_inh", "E_ex": "E_exc", "E_in": "E_inh"}
"""NEST's built-in parameter names that NESTML's neurons spell differently."""


@dataclass(frozen=True)
class Paired:
    """What NEST runs for a network's NESTML synapses: the NEST model of each post population and projection."""

    cells: dict[str, str]
    """Post population -> NEST model of its cells."""
    synapses: dict[str, str]
    """Projection -> NEST synapse model."""
    rules: dict[str, SynapseRule]
    """Projection -> its NESTML rule."""
    moved: dict[str, dict[str, float]]
    """Post population -> parameters NESTML moved into its neurons (``tau_D__for_<synapse>``: the post traces')."""


def neuron_file(name: str) -> Path:
    """The NESTML file of one of NESTML's own neurons, as the nestml package installs it."""
    path = Path(sys.prefix) / "models" / "neurons" / f"{name}.nestml"
    if not path.is_file():
        raise BackendError(f"NESTML's {name}.nestml is not at {path}; reinstall the nestml package (pip install nestml)")
    return path


def prepare(network: Network, progress: bool = True) -> Paired | None:
    """Compile (or take from the cache) and install the module of the network's NESTML synapses; None if it has none."""
    from . import nestml

    rules: dict[str, SynapseRule] = {}
    by_post: dict[str, SynapseRule] = {}
    for name, prj in network.projections.items():
        if prj.synapse.type in ("static", "stdp"):
            continue
        if prj.synapse.delay_semantics != "dendritic":
            raise BackendError(
                f"projections.{name}: NEST's NESTML synapses implement dendritic delays only; set synapse.delay_semantics = 'dendritic'"
            )
        assert prj.synapse.nestml is not None
        rule = read_nestml(prj.synapse.nestml, f"projections.{name}.synapse")
        other = by_post.get(prj.post)
        if other is not None and other.text != rule.text:
            raise BackendError(
                f"projections.{name}: population {prj.post!r} receives two NESTML synapse types ({other.name}, {rule.name}); "
                "NEST pairs each NESTML synapse with its own neuron model, so a population takes one"
            )
        rules[name] = by_post[prj.post] = rule
    if not rules:
        return None
    sources: dict[str, str] = {}
    pairs = []
    neurons: dict[str, str] = {}
    for post, rule in by_post.items():
        # one copy of the neuron per synapse type: NESTML 9.0 merges pairs that share a neuron into one neuron, whose
        # generated C++ does not compile
        own = network.model.populations[post].nestml  # a NESTML neuron population: its own text
        base = model_name(own) if own is not None else NEURONS[network.populations[post].cell_type]
        assert base is not None
        text = own if own is not None else neuron_file(base).read_text()
        neuron = neurons[post] = f"{base}_for_{rule.name.removesuffix('_synapse')}"
        sources[neuron] = re.sub(rf"^(\s*)model\s+{base}\s*:", rf"\1model {neuron}:", text, count=1, flags=re.M)
        sources[rule.name] = rule.text
        pairs.append(nestml.Pair(neuron, rule.name, (rule.post_port, *((v, v) for v in rule.post_reads)), rule.weight[0]))
    module = nestml.build(sources, sorted(set(pairs), key=str), progress=progress)
    nestml.install(module)
    # a paired neuron is named after its neuron and synapse: look it up per pair
    cells = {post: _paired(module.registered, neurons[post], rule.name) for post, rule in by_post.items()}
    synapses = {name: _paired(module.registered, rule.name, neurons[network.projections[name].post]) for name, rule in rules.items()}
    import nest

    moved: dict[str, dict[str, float]] = {}
    for name, rule in rules.items():
        post = network.projections[name].post
        defaults = nest.GetDefaults(cells[post])
        values = {**rule.parameters, **network.projections[name].synapse.parameters}
        mine = {f"{k}__for_{rule.name}_nestml": v for k, v in values.items() if f"{k}__for_{rule.name}_nestml" in defaults}
        if moved.setdefault(post, mine) != mine:
            raise BackendError(
                f"projections.{name}: the {rule.name} projections onto {post!r} differ in parameters of the post traces "
                f"({', '.join(k.split('__for_')[0] for k in mine)}), which NEST keeps once per post cell"
            )
    for model in set(synapses.values()):
        # pyNN.nest connects through a labelled copy of each synapse model, made in setup() for the models it knew then
        if f"{model}_lbl" not in nest.synapse_models:
            nest.CopyModel(model, f"{model}_lbl")
    return Paired(cells, synapses, rules, moved)


def _paired(registered: tuple[str, ...], first: str, second: str) -> str:
    for name in registered:
        head, _, tail = name.partition("__with_")
        if head.removesuffix("_nestml") == first and tail.removesuffix("_nestml") == second:
            return name
    raise BackendError(f"the compiled NESTML module has no model {first}__with_{second}; it has {', '.join(registered)}")


def celltype(sim: ModuleType, cell_type: str, nest_model: str, parameters: dict[str, Any]) -> Any:
    """A ``pyNN.nest`` cell type of PyNN's ``cell_type`` whose cells are the NESTML neuron ``nest_model``."""
    base = getattr(sim, cell_type)
    translations = {
        k: {**v, "translated_name": RENAMED.get(v["translated_name"], v["translated_name"])} for k, v in base.translations.items()
    }
    cls = type(
        f"{cell_type}__{nest_model}",
        (base,),
        {
            "nest_name": {"on_grid": nest_model, "off_grid": nest_model},
            "translations": translations,
            "recordable": ["spikes", "v"],
            "variable_map": {"v": "V_m"},
            "default_initial_values": {"v": base.default_initial_values["v"]},
        },
    )
    return cls(**parameters)


def synapse_values(rule: SynapseRule, parameters: dict[str, float], nest_model: str) -> dict[str, Any]:
    """Every parameter and initial value of a NESTML synapse for NEST's ``nest_model``, the projection's
    ``parameters`` over the rule's.

    All of them explicitly: NESTML 9.0 misprints some numbers in its C++ (5e-10 as 5e-1). The post traces live in the
    neuron (NESTML's choice) and are left out; NESTML's boolean state variables (stdp_nn_restr_symm's
    ``pre_handled``) are bool in NEST, which refuses a double.
    """
    import nest

    unknown = set(parameters) - set(rule.parameters)
    if unknown:
        raise BackendError(f"{rule.name} has no parameter {', '.join(sorted(unknown))}")
    state = {k: v for k, v in rule.state.items() if k not in rule.post_owned}
    values = {**rule.parameters, **state, **parameters}
    defaults = nest.GetDefaults(nest_model)
    return {k: bool(v) if isinstance(defaults.get(k), bool) else v for k, v in values.items()}


def synapse_type(sim: ModuleType, nest_model: str, rule: SynapseRule, parameters: dict[str, float]) -> Any:
    """A ``pyNN.nest`` native synapse type of the NESTML synapse with the projection's parameters."""
    values = synapse_values(rule, parameters, nest_model)
    base = sim.native_synapse_type(nest_model)

    def nest_synapse_model(self: Any) -> str:
        # pyNN.nest would set both 'weight' and NESTML's 'w' (which NEST refuses) and take 'tau_minus' for the post
        # cells (as for NEST's stdp_synapse); the rule's parameters go to the synapse model, all of them
        import nest

        nest.SetDefaults(f"{nest_model}_lbl", values)
        return f"{nest_model}_lbl"

    cls = type(f"{nest_model}_type", (base,), {"_get_nest_synapse_model": nest_synapse_model, "_set_tau_minus": lambda self, cells: None})
    return cls()
