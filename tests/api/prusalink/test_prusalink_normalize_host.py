"""normalize_host: what users type → base URL."""

from __future__ import annotations

import pytest

from custom_components.printernizer.api.prusalink import normalize_host


@pytest.mark.parametrize(
    ("user_input", "expected"),
    [
        ("prusa.local", "http://prusa.local"),
        ("  Prusa-MK4.lan  ", "http://prusa-mk4.lan"),
        ("192.168.1.50", "http://192.168.1.50"),
        ("192.168.1.50:8080", "http://192.168.1.50:8080"),
        ("prusa:80", "http://prusa"),
        ("http://prusa/", "http://prusa"),
        ("http://prusa", "http://prusa"),
        ("http://prusa:8080/path/", "http://prusa:8080"),
        ("HTTP://prusa:8080/api/version?x=1", "http://prusa:8080"),
        ("https://prusa", "https://prusa"),
        ("https://prusa:443/", "https://prusa"),
        ("https://prusa:8443", "https://prusa:8443"),
        ("fe80::1", "http://[fe80::1]"),
        ("[fe80::1]:8080", "http://[fe80::1]:8080"),
        ("http://[2001:db8::1]/", "http://[2001:db8::1]"),
        ("printer_1", "http://printer_1"),
    ],
)
def test_valid(user_input: str, expected: str) -> None:
    """Accepted inputs give the base URL."""
    assert normalize_host(user_input) == expected


@pytest.mark.parametrize(
    "user_input",
    [
        "",
        "   ",
        "http://",
        "http:///path",
        "ftp://prusa",
        "ws://prusa",
        "file:///etc/passwd",
        "prusa:99999",
        "prusa:abc",
        "pru sa",
        "prusa!",
        "maker:pass@prusa",
        "http://maker@prusa/",
        "-prusa",
        "a..b",
    ],
)
def test_invalid(user_input: str) -> None:
    """Garbage, empty input and other schemes raise ValueError."""
    with pytest.raises(ValueError):
        normalize_host(user_input)


def test_not_a_string() -> None:
    """Non-strings raise ValueError."""
    with pytest.raises(ValueError):
        normalize_host(None)  # type: ignore[arg-type]
