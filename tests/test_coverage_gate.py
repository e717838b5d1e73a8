"""scripts/coverage_gate.py against coverage data written for a small fake package."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import coverage
import pytest

ROOT = Path(__file__).parents[1]


def _gate() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "coverage_gate", ROOT / "scripts/coverage_gate.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["coverage_gate"] = module
    spec.loader.exec_module(module)
    return module


gate = _gate()
SOURCE = "".join(f"x{i} = {i}\n" for i in range(1, 101))  # 100 statements, lines 1-100


def _write(tmp_path: Path, covered: dict[str, int]) -> Path:
    """A package with 100-line modules; `covered` says how many lines of each ran."""
    package = tmp_path / "custom_components" / "printernizer"
    package.mkdir(parents=True)
    data = coverage.CoverageData(basename=str(tmp_path / ".coverage"))
    lines = {}
    for name, count in covered.items():
        path = package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(SOURCE)
        lines[str(path)] = list(range(1, count + 1))
    other = tmp_path / "tests" / "test_x.py"  # outside the package: ignored
    other.parent.mkdir()
    other.write_text(SOURCE)
    lines[str(other)] = [1]
    data.add_lines(lines)
    data.write()
    return tmp_path / ".coverage"


def test_passes_at_the_bar(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _write(tmp_path, {"config_flow.py": 100, "a.py": 97, "api/b.py": 99})
    assert gate.main([str(data), "--root", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "passed: total 98.67 % over 3 modules, lowest a.py 97.0 %" in out


def test_module_below_95_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _write(
        tmp_path, {"config_flow.py": 100, "a.py": 94, **{f"m{i}.py": 100 for i in range(9)}}
    )
    assert gate.main([str(data), "--root", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "a.py: 94.0 % (needs 95 %)" in out
    assert "total" not in out  # 99.45 % in all: only the module fails


def test_config_flow_needs_100(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _write(tmp_path, {"config_flow.py": 99, **{f"m{i}.py": 100 for i in range(9)}})
    assert gate.main([str(data), "--root", str(tmp_path)]) == 1
    assert "config_flow.py: 99.0 % (needs 100 %)" in capsys.readouterr().out


def test_total_below_98_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _write(tmp_path, {"config_flow.py": 100, "a.py": 96, "b.py": 96})
    assert gate.main([str(data), "--root", str(tmp_path)]) == 1
    assert "total: 97.33 % (needs 98 %)" in capsys.readouterr().out


def test_no_data_or_no_module(tmp_path: Path) -> None:
    assert gate.main([str(tmp_path / "missing"), "--root", str(tmp_path)]) == 2
    data = _write(tmp_path, {})
    assert gate.main([str(data), "--root", str(tmp_path)]) == 2
