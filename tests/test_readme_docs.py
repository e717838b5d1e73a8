"""README's user documentation: sample payloads valid, blueprints linked, removal, data update."""

from __future__ import annotations

import json
import re
import urllib.parse
from pathlib import Path

import yaml

from custom_components.printernizer.contract import EVENTS, validate

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text()


def _samples() -> list[tuple[str, dict[str, object]]]:
    section = README.split("### Sample payloads", 1)[1].split("</details>", 1)[0]
    return [
        (name, json.loads(body))
        for name, body in re.findall(r"`printernizer_(\w+)`\n\n```json\n(.*?)\n```", section, re.S)
    ]


def test_a_valid_sample_payload_for_every_event() -> None:
    samples = _samples()
    assert {name for name, _ in samples} == set(EVENTS)
    for name, payload in samples:
        assert validate(name, payload) == [], name
        if "printer_id" in payload:
            assert "device_id" in payload, name


def test_blueprints_linked_with_import_buttons() -> None:
    for path in sorted((ROOT / "blueprints/automation/printernizer").glob("*.yaml")):
        url = (
            "https://github.com/printernizer/printernizer-ha/blob/main/"
            f"blueprints/automation/printernizer/{path.name}"
        )
        assert (
            "https://my.home-assistant.io/redirect/blueprint_import/?blueprint_url="
            + urllib.parse.quote(url, safe="")
        ) in README, path.name


def test_yaml_examples_parse() -> None:
    for block in re.findall(r"```yaml\n(.*?)```", README, re.S):
        yaml.safe_load(block)


def test_docs_sections() -> None:
    for heading in (
        "### Removal",
        "## How data is updated",
        "## Use cases",
        "## Dashboard cards",
        "## Blueprints",
        "### Logbook",
    ):
        assert heading in README, heading
    assert "https://github.com/printernizer/printernizer-ha" in README  # the HACS repository
    assert "trigger: device" in README and "type: job_completed" in README
    assert "type: conditional" in README and "type: gauge" in README


def test_screenshots_shown_and_committed() -> None:
    for name in ("device.png", "dashboard.png", "config_flow.png"):
        assert f"](docs/screenshots/{name})" in README, name
        head = (ROOT / "docs" / "screenshots" / name).read_bytes()[:8]
        assert head == b"\x89PNG\r\n\x1a\n", name
