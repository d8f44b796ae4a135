"""benchmarks/run_all.py on stand-in scripts: order, failures, --only, the report."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

RUN_ALL = Path(__file__).resolve().parents[2] / "benchmarks" / "run_all.py"


def run_all(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(RUN_ALL), *args], capture_output=True, text=True, timeout=50, check=False)


def test_runs_each_script_in_order_and_reports_outputs_and_failures(tmp_path: Path) -> None:
    bench = tmp_path / "benchmarks"
    bench.mkdir()
    (bench / "weights_table.py").write_text("print('read 1e6 weights in 0.4 s')\n")
    (bench / "nest_build.py").write_text("import sys\nprint('building')\nsys.exit('boom')\n")
    (bench / "zz_extra.py").write_text("print('extra')\n")
    (bench / "_helper.py").write_text("raise SystemExit('not a benchmark')\n")
    done = run_all("--dir", str(bench))
    assert done.returncode == 1, done.stderr
    text = (bench / "RESULTS.md").read_text()
    assert text.index("## nest_build.py") < text.index("## weights_table.py") < text.index("## zz_extra.py")
    assert "_helper" not in text and "brian2_build" not in text
    assert "| nest_build.py | 1 |" in text and "| weights_table.py | 0 |" in text
    assert "building\nboom" in text and "read 1e6 weights in 0.4 s" in text
    assert "load average at start" in text and "UTC" in text

    only = run_all("--dir", str(bench), "--only", "weights_table", "--output", str(tmp_path / "one.md"))
    assert only.returncode == 0, only.stderr
    one = (tmp_path / "one.md").read_text()
    assert "## weights_table.py" in one and "nest_build" not in one

    (bench / "weights_table.py").write_text("print('read 1e6 weights in 0.3 s')\n")
    merged = run_all("--dir", str(bench), "--only", "weights_table")
    assert merged.returncode == 0, merged.stderr
    again = (bench / "RESULTS.md").read_text()
    assert "read 1e6 weights in 0.3 s" in again and "0.4 s" not in again
    assert "building\nboom" in again and "| nest_build.py | 1 |" in again and "extra" in again
    assert again.index("## nest_build.py") < again.index("## weights_table.py") < again.index("## zz_extra.py")
    assert again.count(", run ") == 3

    unknown = run_all("--dir", str(bench), "--only", "nope")
    assert unknown.returncode == 2 and "no benchmark nope" in unknown.stderr
