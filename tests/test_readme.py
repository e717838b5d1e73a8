"""README.md documents every event, action and entity that exists."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from custom_components.printernizer.contract import EVENTS

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text()
COMPONENT = ROOT / "custom_components" / "printernizer"


def test_every_event_documented() -> None:
    missing = [name for name in EVENTS if f"`printernizer_{name}`" not in README]
    assert missing == []


def test_every_action_documented() -> None:
    services = yaml.safe_load((COMPONENT / "services.yaml").read_text())
    missing = [name for name in services if f"`printernizer.{name}`" not in README]
    assert missing == []


def test_every_entity_documented() -> None:
    strings = json.loads((COMPONENT / "strings.json").read_text())
    names = [
        entity["name"] for platform in strings["entity"].values() for entity in platform.values()
    ]
    missing = [name for name in names if name not in README]
    assert missing == []


def test_set_up_commands_documented() -> None:
    assert "scripts/develop" in README
    assert "scripts/test" in README
