"""scripts/test: `--cov` alone becomes the integration's per-module coverage report."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).parents[1]


def _pytest_args(tmp_path: Path, *args: str) -> str:
    """What scripts/test hands to pytest (set-up, lint and pytest stubbed out)."""
    script = (ROOT / "scripts" / "test").read_text()
    script = script.replace("\nscripts/setup\n", "\n:\n").replace("\nscripts/lint\n", "\n:\n")
    script = script.replace("exec .venv/bin/python -m pytest", "exec echo pytest")
    stub = tmp_path / "test"
    stub.write_text(script)
    done = subprocess.run(  # noqa: S603 - our own script, fixed arguments
        ["/bin/bash", str(stub), *args], check=True, capture_output=True, text=True, cwd=tmp_path
    )
    return done.stdout.strip()


def test_cov_alone_reports_per_module(tmp_path: Path) -> None:
    assert _pytest_args(tmp_path, "--cov", "-x", "tests/test_contract.py") == (
        "pytest -p no:cacheprovider --cov=custom_components/printernizer "
        "--cov-report=term-missing -x tests/test_contract.py"
    )


def test_other_arguments_unchanged(tmp_path: Path) -> None:
    assert _pytest_args(tmp_path) == "pytest -p no:cacheprovider"
    assert (
        _pytest_args(tmp_path, "--cov=x", "-k", "a b")
        == "pytest -p no:cacheprovider --cov=x -k a b"
    )
