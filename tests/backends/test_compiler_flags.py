"""Brian2's compiler-flag checks remembered between processes (spikebridge.backends.brian2.compiler_flags), with
the real Brian2 and the real compiler; each case runs in a child process, as Brian2's table is per process."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

# recall() against the cache at argv[1]; prints the flags Brian2 then compiles with, and how many compiler runs
# Brian2 made to check flags
SCRIPT = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from brian2.codegen import cpp_prefs
    from spikebridge.backends.brian2 import compiler_flags
    checks = []
    check = cpp_prefs._determine_flag_compatibility
    cpp_prefs._determine_flag_compatibility = lambda compiler, flag: checks.append(flag) or check(compiler, flag)
    compiler_flags.recall(Path(sys.argv[1]))
    print(json.dumps({"flags": cpp_prefs.get_compiler_and_args()[1], "checked": checks}))
    """
)


def recall_in_a_new_process(root: Path) -> dict[str, list[str]]:
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(root)], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_first_process_checks_every_flag_and_later_ones_none(tmp_path: Path) -> None:
    first = recall_in_a_new_process(tmp_path)
    assert "-O3" in first["flags"] and sorted(first["checked"]) == sorted(first["flags"])
    (saved,) = (tmp_path / "compiler-flags").glob("*.json")
    assert json.loads(saved.read_text()) == dict.fromkeys(first["flags"], True)
    second = recall_in_a_new_process(tmp_path)
    assert second == {"flags": first["flags"], "checked": []}


def test_only_accepted_flags_are_remembered_and_a_flag_missing_from_them_is_checked_and_added(tmp_path: Path) -> None:
    first = recall_in_a_new_process(tmp_path)
    (saved,) = (tmp_path / "compiler-flags").glob("*.json")
    answers = json.loads(saved.read_text())
    answers["-O3"] = False  # a refusal is not taken on trust: Brian2 checks the flag again
    del answers["-w"]
    saved.write_text(json.dumps(answers))
    got = recall_in_a_new_process(tmp_path)
    assert got["flags"] == first["flags"]
    assert sorted(got["checked"]) == ["-O3", "-w"]
    assert json.loads(saved.read_text()) == dict.fromkeys(first["flags"], True)
