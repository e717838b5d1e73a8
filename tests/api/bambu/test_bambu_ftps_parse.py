"""Pure parts of api/bambu/ftps.py: LIST lines, MDTM, folders, job file names."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.printernizer.api.bambu.ftps import (
    file_kind,
    job_file_candidates,
    match_job_file,
    normalize_path,
    parse_list_line,
    parse_mdtm,
    storage_of,
)
from custom_components.printernizer.api.models import RemoteFile

NOW = datetime(2026, 12, 1, 20, 0, tzinfo=UTC)


def test_list_line_with_time() -> None:
    """``Mon DD HH:MM``: this year when that is not in the future."""
    entry = parse_list_line(
        "-rw-r--r--    1 0        0            2072 Nov 26 12:00 benchy.3mf", NOW
    )
    assert entry is not None
    assert (entry.name, entry.size, entry.is_dir) == ("benchy.3mf", 2072, False)
    assert entry.modified == datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def test_list_line_with_year() -> None:
    """``Mon DD  YYYY`` (older than half a year)."""
    entry = parse_list_line(
        "-rw-r--r--    1 0        0              38 Oct 27  2025 cube.gcode", NOW
    )
    assert entry is not None and entry.modified == datetime(2025, 10, 27, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "line_date", "expected"),
    [
        # January: a December date without a year is last December
        (datetime(2027, 1, 2, 8, 0, tzinfo=UTC), "Dec 31 23:50", datetime(2026, 12, 31, 23, 50)),
        # a printer clock up to a day ahead (UTC+8) is still this year
        (datetime(2026, 12, 1, 2, 0, tzinfo=UTC), "Dec  1 09:30", datetime(2026, 12, 1, 9, 30)),
        # more than a day ahead: last year
        (datetime(2026, 3, 1, 0, 0, tzinfo=UTC), "Mar  5 10:00", datetime(2025, 3, 5, 10, 0)),
        # 29 February without a year: the last leap year not in the future
        (datetime(2026, 3, 1, tzinfo=UTC), "Feb 29 10:00", datetime(2024, 2, 29, 10, 0)),
    ],
)
def test_year_rollover(now: datetime, line_date: str, expected: datetime) -> None:
    """The year is chosen so the date is not in the future."""
    entry = parse_list_line(f"-rw-r--r-- 1 root root 10 {line_date} f.3mf", now)
    assert entry is not None and entry.modified == expected.replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("line", "name"),
    [
        (
            "-rw-r--r-- 1 0 0 5 Nov 26 12:00 name with  two  spaces.gcode.3mf",
            "name with  two  spaces.gcode.3mf",
        ),
        ("-rw-r--r-- 1 0 0 5 Nov 26 12:00  leading space.3mf", " leading space.3mf"),
        ("-rw-r--r-- 1 0 0 5 Nov 26 12:00 Ünïcødé 日本.3mf", "Ünïcødé 日本.3mf"),
        ("-rw-r--r-- 1 0 0 5 Nov 26 12:00 12:00.3mf", "12:00.3mf"),
        ("-rw-r--r-- 1 0 0 5 Nov 26  2024 2024.3mf", "2024.3mf"),
        ("-rw-rw-rw-   1 owner    5 Nov  6 12:00 no-group.3mf", "no-group.3mf"),
        ("-rw-r--r--+ 1 0 0 5 Nov 26 12:00 acl.3mf\r\n", "acl.3mf"),
    ],
)
def test_odd_names(line: str, name: str) -> None:
    """Spaces, unicode, date-like names, no group column, CRLF."""
    entry = parse_list_line(line, NOW)
    assert entry is not None and entry.name == name


def test_directories_and_junk() -> None:
    """Folders parse as folders; totals, links, dot entries, slashes and garbage do not parse."""
    folder = parse_list_line("drwxr-xr-x    2 0        0            4096 Nov 26 12:00 cache", NOW)
    assert folder is not None and folder.is_dir
    for junk in (
        "total 12",
        "",
        "lrwxrwxrwx 1 0 0 4 Nov 26 12:00 link -> target",
        "drwxr-xr-x 2 0 0 4096 Nov 26 12:00 .",
        "drwxr-xr-x 2 0 0 4096 Nov 26 12:00 ..",
        "-rw-r--r-- 1 0 0 5 Foo 26 12:00 badmonth.3mf",
        "-rw-r--r-- 1 0 0 5 Nov 26 12:00 a/b.3mf",
        "-rw-r--r-- 1 0 0 -5 Nov 26 12:00 negative.3mf",
        "11-26-26  12:00PM       2072 benchy.3mf",
    ):
        assert parse_list_line(junk, NOW) is None, junk


def test_bad_day_gives_no_date() -> None:
    """An impossible date keeps the file with ``modified`` None."""
    entry = parse_list_line("-rw-r--r-- 1 0 0 5 Feb 31  2025 x.3mf", NOW)
    assert entry is not None and entry.modified is None
    # without a year: no year of the last nine has a 30 February
    entry = parse_list_line("-rw-r--r-- 1 0 0 5 Feb 30 12:00 y.3mf", NOW)
    assert entry is not None
    assert (entry.name, entry.size, entry.modified) == ("y.3mf", 5, None)


def test_mdtm() -> None:
    """MDTM's YYYYMMDDHHMMSS (optionally with fractions) is UTC."""
    assert parse_mdtm("20261126120005") == datetime(2026, 11, 26, 12, 0, 5, tzinfo=UTC)
    assert parse_mdtm(" 20261126120005.123") == datetime(2026, 11, 26, 12, 0, 5, tzinfo=UTC)
    for bad in ("", "2026112612", "20261332120000", "abcdefghijklmn"):
        assert parse_mdtm(bad) is None


def test_kinds_storage_paths() -> None:
    """Folder rules."""
    assert file_kind("/timelapse/video.mp4") == "timelapse"
    assert file_kind("/timelapse/video.avi") == "timelapse"
    assert file_kind("/model/cal.gcode.3mf") == "model"
    assert file_kind("/models/cal.3mf") == "model"
    assert file_kind("/cache/x_plate_2.gcode") == "print"
    assert file_kind("/notes.txt") == "other"
    assert storage_of("/sdcard/a.3mf") == "sdcard"
    assert storage_of("/cache/a.3mf") == "internal"
    assert normalize_path("cache/../cache//a.3mf") == "/cache/a.3mf"
    assert normalize_path("/../../etc/passwd") == "/etc/passwd"
    for bad in ("", "a\x00b", "a\r\nDELE /x"):
        with pytest.raises(ValueError):
            normalize_path(bad)


@pytest.mark.parametrize(
    ("gcode_file", "subtask", "first"),
    [
        ("/data/Metadata/plate_1.gcode", "Benchy", "/Benchy.gcode.3mf"),
        ("Benchy.gcode.3mf", "Benchy", "/Benchy.gcode.3mf"),
        ("/cache/Benchy.3mf", "Benchy", "/cache/Benchy.3mf"),
        ("cache/Benchy.3mf", "Benchy", "/cache/Benchy.3mf"),
        ("file:///mnt/sdcard/Benchy.gcode.3mf", None, "/Benchy.gcode.3mf"),
        ("/cache/Benchy_plate_2.gcode", "Benchy", "/cache/Benchy_plate_2.gcode"),
    ],
)
def test_job_file_candidates(gcode_file: str, subtask: str | None, first: str) -> None:
    """Each reported form maps to the real path first; the other extension is tried too."""
    candidates = job_file_candidates(gcode_file, subtask)
    assert candidates[0] == first
    assert not any(c.startswith("/data/") for c in candidates)
    if subtask:
        assert "/Benchy.3mf" in candidates and "/Benchy.gcode.3mf" in candidates


def _f(path: str, day: int = 1, kind: str = "print") -> RemoteFile:
    return RemoteFile(
        path=path,
        name=path.rsplit("/", 1)[1],
        size=1,
        modified=datetime(2026, 11, day, tzinfo=UTC),
        storage="internal",
        kind=kind,
    )


def test_match_job_file() -> None:
    """Exact candidates, .3mf vs .gcode.3mf, truncated names (newest wins), models skipped."""
    files = [
        _f("/Benchy.3mf"),
        _f("/cache/Cloud part.3mf"),
        _f("/a_very_long_name_v1.gcode.3mf", 2),
        _f("/a_very_long_name_v2.gcode.3mf", 5),
        _f("/models/a_very_long_name_v9.gcode.3mf", 9, "model"),
    ]
    assert match_job_file(files, "/data/Metadata/plate_1.gcode", "Benchy") == files[0]
    assert match_job_file(files, "Benchy.gcode.3mf", "Benchy") == files[0]
    assert match_job_file(files, "/cache/Cloud part.3mf", "Cloud part") == files[1]
    assert match_job_file(files, "a_very_long_na", "a_very_long_na") == files[3]
    assert match_job_file(files, "/data/Metadata/plate_1.gcode", "unknown") is None
    assert match_job_file(files, None, "ab") is None


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_parser_never_raises(line: str) -> None:
    """Any text: an entry with a name free of slashes and NUL, or None; never an exception."""
    entry = parse_list_line(line, NOW)
    if entry is not None:
        assert entry.name and "/" not in entry.name and "\x00" not in entry.name
        assert entry.size >= 0


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120), st.text(max_size=60))
def test_job_candidates_are_normalized(gcode_file: str, subtask: str) -> None:
    """Candidates are absolute, normalized, without .. or control characters."""
    for path in job_file_candidates(gcode_file, subtask):
        assert path.startswith("/") and not path.startswith("//")
        assert ".." not in path.split("/")
        assert "\x00" not in path and "\r" not in path and "\n" not in path
