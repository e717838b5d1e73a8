"""The coverage gate of `scripts/test`: fails when the integration's coverage is below the bar.

Reads the coverage data pytest-cov wrote (`.coverage`, or the file given) and checks, for
custom_components/printernizer:
- config_flow.py at 100 % (the quality scale's config-flow-test-coverage rule);
- every module at 95 % or more;
- the total at 98 % or more.
Prints the modules that miss their bar and exits 1 when any does (2 when there is no data).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import coverage

PACKAGE = Path("custom_components") / "printernizer"
TOTAL_MIN = 98.0
MODULE_MIN = 95.0
EXACT = {"config_flow.py": 100.0}


@dataclass(frozen=True)
class Module:
    """Statements and missed statements of one source file."""

    path: str
    statements: int
    missing: int

    @property
    def percent(self) -> float:
        """Covered share in percent (an empty module counts as covered)."""
        if not self.statements:
            return 100.0
        return 100.0 * (self.statements - self.missing) / self.statements


def measure(data_file: Path, root: Path) -> list[Module]:
    """Per-module figures of the integration from a coverage data file."""
    cov = coverage.Coverage(data_file=str(data_file), config_file=False)
    cov.load()
    package = (root / PACKAGE).resolve()
    modules = []
    for name in sorted(cov.get_data().measured_files()):
        path = Path(name).resolve()
        if not path.is_relative_to(package) or path.suffix != ".py":
            continue
        _, statements, _, missing, _ = cov.analysis2(name)
        modules.append(Module(str(path.relative_to(package)), len(statements), len(missing)))
    return modules


def failures(modules: list[Module]) -> list[str]:
    """What misses the bar, one line each (empty when the gate passes)."""
    out = []
    for module in modules:
        bar = EXACT.get(module.path, MODULE_MIN)
        if module.percent < bar:
            out.append(f"{module.path}: {module.percent:.1f} % (needs {bar:.0f} %)")
    statements = sum(m.statements for m in modules)
    missing = sum(m.missing for m in modules)
    total = 100.0 * (statements - missing) / statements if statements else 0.0
    if total < TOTAL_MIN:
        out.append(f"total: {total:.2f} % (needs {TOTAL_MIN:.0f} %)")
    return out


def main(argv: list[str] | None = None) -> int:
    """Check the data file; print the result."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_file", nargs="?", default=".coverage", type=Path)
    parser.add_argument("--root", default=Path.cwd(), type=Path)
    args = parser.parse_args(argv)
    if not args.data_file.exists():
        print(f"coverage gate: no coverage data at {args.data_file}", file=sys.stderr)
        return 2
    modules = measure(args.data_file, args.root)
    if not modules:
        print("coverage gate: the data covers no module of the integration", file=sys.stderr)
        return 2
    missed = failures(modules)
    statements = sum(m.statements for m in modules)
    missing = sum(m.missing for m in modules)
    total = 100.0 * (statements - missing) / statements
    if missed:
        print("coverage gate FAILED:")
        for line in missed:
            print(f"  {line}")
        return 1
    lowest = min(modules, key=lambda m: m.percent)
    print(
        f"coverage gate passed: total {total:.2f} % over {len(modules)} modules, "
        f"lowest {lowest.path} {lowest.percent:.1f} %, config_flow.py 100 %"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
