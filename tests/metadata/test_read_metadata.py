"""read_metadata dispatch and scripts/inspect_file."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from custom_components.printernizer.metadata import (
    MetadataError,
    detect_format,
    is_print_file_name,
    read_metadata,
)

from . import writers as w

Write = Callable[[str, bytes | str], Path]
SCRIPT = Path(__file__).parents[2] / "scripts" / "inspect_file"


def test_dispatch_on_magic(write: Write) -> None:
    """The magic wins over the extension: a bgcode named .gcode is read as bgcode."""
    assert detect_format(write("a.gcode", w.bgcode())) == "bgcode"
    assert detect_format(write("b.gcode", w.threemf())) == "3mf"
    assert detect_format(write("c.GCODE", w.cura())) == "gcode"
    assert read_metadata(write("d.gco", w.bgcode()))[0].file_format == "bgcode"
    with pytest.raises(MetadataError, match=r"unsupported file type \.stl"):
        read_metadata(write("e.stl", b"solid x"))
    with pytest.raises(MetadataError, match="no extension"):
        read_metadata(write("noext", b"; hi"))
    with pytest.raises(MetadataError, match="cannot read"):
        read_metadata(Path("/nonexistent/x.gcode"))


def test_print_file_names() -> None:
    assert is_print_file_name("Benchy.gcode.3mf")
    assert is_print_file_name("a.BGCODE")
    assert not is_print_file_name("a.stl")


def test_inspect_file(write: Write) -> None:
    good = write("good.bgcode", w.bgcode(w.BgcodeSpec(thumbnails=[(w.qoi(300, 200), 300, 200, 2)])))
    run = subprocess.run(  # noqa: S603 - our own script on our own files
        [sys.executable, str(SCRIPT), str(good), "--previews"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["metadata"]["print_time"] == 3723
    assert report["metadata"]["printer_model"] == "MK4"
    assert report["thumbnails"] == [
        {"format": "qoi", "width": 300, "height": 200, "bytes": len(w.qoi(300, 200))}
    ]
    assert report["previews"]["small"]["width"] == 128
    assert report["previews"]["large"]["width"] == 300

    bad = write("bad.bgcode", b"GCDE\x09\x00\x00\x00\x01\x00")
    run = subprocess.run(  # noqa: S603 - our own script on our own files
        [sys.executable, str(SCRIPT), str(good), str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 1
    reports = json.loads(run.stdout)
    assert reports[1] == {"path": str(bad), "error": "binary G-code version 9 is not supported"}


def test_inspect_file_is_executable() -> None:
    assert SCRIPT.stat().st_mode & 0o111
    assert SCRIPT.read_text().startswith("#!")


def test_readers_import_no_home_assistant() -> None:
    """scripts/inspect_file loads the package alone: Home Assistant never gets imported."""
    code = (
        "import runpy, sys; sys.argv = ['inspect_file', '--help'];\n"
        "try:\n    runpy.run_path(sys.argv_path)\nexcept SystemExit:\n    pass\n"
        "assert not any(m.startswith('homeassistant') for m in sys.modules), 'HA imported'\n"
        "assert 'printernizer_metadata.thumbnails' in sys.modules\n"
    ).replace("sys.argv_path", repr(str(SCRIPT)))
    run = subprocess.run(  # noqa: S603 - our own script
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stderr
