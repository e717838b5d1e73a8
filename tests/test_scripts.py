"""scripts/test: the whole suite runs under the coverage gate; `--cov` alone is a report."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).parents[1]


def _commands(tmp_path: Path, *args: str) -> list[str]:
    """What scripts/test runs after set-up and lint (both stubbed out), one command a line."""
    script = (ROOT / "scripts" / "test").read_text()
    script = script.replace("\nscripts/setup\n", "\n:\n").replace("\nscripts/lint\n", "\n:\n")
    script = script.replace("exec .venv/bin/python", "exec echo python")
    script = script.replace("\n    .venv/bin/python", "\n    echo python")
    stub = tmp_path / "scripts" / "test"  # the script runs from its parent's parent: tmp_path
    stub.parent.mkdir(exist_ok=True)
    stub.write_text(script)
    done = subprocess.run(  # noqa: S603 - our own script, fixed arguments
        ["/bin/bash", str(stub), *args], check=True, capture_output=True, text=True, cwd=tmp_path
    )
    return done.stdout.strip().splitlines()


COV = "--cov=custom_components/printernizer --cov-report=term-missing:skip-covered"


def test_no_arguments_runs_the_suite_under_the_gate(tmp_path: Path) -> None:
    (tmp_path / ".coverage").write_text("stale")
    assert _commands(tmp_path) == [
        f"python -m pytest -p no:cacheprovider {COV}",
        "python scripts/coverage_gate.py .coverage",
    ]
    assert not (tmp_path / ".coverage").exists()  # old data never passes the gate


def test_cov_alone_reports_per_module(tmp_path: Path) -> None:
    assert _commands(tmp_path, "--cov", "-x", "tests/test_contract.py") == [
        f"python -m pytest -p no:cacheprovider {COV} -x tests/test_contract.py"
    ]


def test_other_arguments_unchanged(tmp_path: Path) -> None:
    assert _commands(tmp_path, "--cov=x", "-k", "a b") == [
        "python -m pytest -p no:cacheprovider --cov=x -k a b"
    ]
