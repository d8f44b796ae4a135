"""numpy's huge-page advice is off while spikebridge draws a network and writes a run directory, and restored after."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterator

import pytest
from numpy._core.multiarray import _set_madvise_hugepage

from spikebridge.models import load_model
from spikebridge.models.memory import small_pages

instantiate_module = importlib.import_module("spikebridge.models.instantiate")


def advice() -> bool:
    """numpy's current huge-page advice, read by setting it and putting it back."""
    now = _set_madvise_hugepage(True)
    _set_madvise_hugepage(now)
    return bool(now)


@pytest.fixture
def advised(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("NUMPY_MADVISE_HUGEPAGE", raising=False)
    before = _set_madvise_hugepage(True)
    yield
    _set_madvise_hugepage(before)


def test_off_inside_and_restored_after_nested_and_failing_uses(advised: None) -> None:
    with small_pages():
        assert not advice()
        with small_pages():
            assert not advice()
        assert not advice()  # the inner exit does not restore while the outer is still inside
    assert advice()
    with pytest.raises(RuntimeError), small_pages():
        raise RuntimeError("boom")
    assert advice()


def test_concurrent_uses_restore_only_when_the_last_leaves(advised: None) -> None:
    inside, leave = threading.Event(), threading.Event()

    def other() -> None:
        with small_pages():
            inside.set()
            leave.wait(10)

    thread = threading.Thread(target=other)
    thread.start()
    assert inside.wait(10)
    with small_pages():
        pass
    assert not advice()  # the other thread is still drawing
    leave.set()
    thread.join()
    assert advice()


def test_a_users_setting_is_left_in_force(advised: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NUMPY_MADVISE_HUGEPAGE", "1")
    with small_pages():
        assert advice()


def test_instantiate_draws_without_the_advice(advised: None, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bool] = []
    draw = instantiate_module._instantiate

    def watched(*args: object, **kwargs: object) -> object:
        seen.append(advice())
        return draw(*args, **kwargs)

    monkeypatch.setattr(instantiate_module, "_instantiate", watched)
    net = instantiate_module.instantiate(load_model("stdp_bimodal", ["simulation.duration=100"]))
    assert seen == [False] and net.n_synapses == 1000
    assert advice()
