"""README.md documents every event, action and entity that exists."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from custom_components.printernizer.const import EVENTS_NOT_FIRED_YET
from custom_components.printernizer.contract import EVENTS

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text()
COMPONENT = ROOT / "custom_components" / "printernizer"


def test_every_event_documented() -> None:
    missing = [name for name in EVENTS if f"`printernizer_{name}`" not in README]
    assert missing == []


def test_fired_column_tells_the_truth() -> None:
    """The event table says 'yes' exactly for the events Printernizer fires."""
    for name in EVENTS:
        row = next(
            line for line in README.splitlines() if line.startswith(f"| `printernizer_{name}` |")
        )
        fired = row.rstrip(" |").endswith("yes")
        assert fired == (name not in EVENTS_NOT_FIRED_YET), name


def test_every_action_documented() -> None:
    services = yaml.safe_load((COMPONENT / "services.yaml").read_text())
    missing = [name for name in services if f"`printernizer.{name}`" not in README]
    assert missing == []


def test_every_entity_documented() -> None:
    strings = json.loads((COMPONENT / "strings.json").read_text())
    names = [
        entity["name"] for platform in strings["entity"].values() for entity in platform.values()
    ]
    rows = [line for line in README.splitlines() if line.startswith("| ")]
    missing = [name for name in names if not any(name in row.split("|")[1] for row in rows)]
    assert missing == []


def test_set_up_commands_documented() -> None:
    assert "scripts/develop" in README
    assert "scripts/test" in README


def test_troubleshooting_quotes_the_real_messages() -> None:
    """The config flow's Bambu Lab errors appear word for word under Troubleshooting."""
    strings = json.loads((COMPONENT / "strings.json").read_text())
    troubleshooting = README.split("## Troubleshooting", 1)[1].split("\n## ", 1)[0]
    for key in ("wrong_serial", "untrusted_certificate", "tls_failed"):
        assert f'"{strings["config"]["error"][key]}"' in troubleshooting, key
    # the client's own words, as the debug log shows them
    for logged in ("not issued by Bambu Lab's CA", "presents serial", "TLS handshake with"):
        assert logged in troubleshooting


def test_statuses_and_reasons_documented() -> None:
    from custom_components.printernizer.api.models import PrinterStatus
    from custom_components.printernizer.contract import EXTRA_KEYS

    status_row = next(line for line in README.splitlines() if line.startswith("| Status |"))
    assert all(f"`{status.value}`" in status_row for status in PrinterStatus)
    for name, keys in EXTRA_KEYS.items():
        assert f"`{name}`" in README
        for values in keys.values():
            assert all(f"`{value}`" in README or f"reason: {value}" in README for value in values)
