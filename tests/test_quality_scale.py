"""quality_scale.yaml covers every rule up to Platinum; brand images and licence are shipped."""

from __future__ import annotations

from pathlib import Path

import yaml
from PIL import Image

ROOT = Path(__file__).parents[1]
COMPONENT = ROOT / "custom_components" / "printernizer"

#: Home Assistant's Integration Quality Scale, Bronze to Platinum (as in
#: script/hassfest/quality_scale.py of Home Assistant core).
RULES: dict[str, tuple[str, ...]] = {
    "bronze": (
        "action-setup",
        "appropriate-polling",
        "brands",
        "common-modules",
        "config-flow-test-coverage",
        "config-flow",
        "dependency-transparency",
        "docs-actions",
        "docs-high-level-description",
        "docs-installation-instructions",
        "docs-removal-instructions",
        "entity-event-setup",
        "entity-unique-id",
        "has-entity-name",
        "runtime-data",
        "test-before-configure",
        "test-before-setup",
        "unique-config-entry",
    ),
    "silver": (
        "action-exceptions",
        "config-entry-unloading",
        "docs-configuration-parameters",
        "docs-installation-parameters",
        "entity-unavailable",
        "integration-owner",
        "log-when-unavailable",
        "parallel-updates",
        "reauthentication-flow",
        "test-coverage",
    ),
    "gold": (
        "devices",
        "diagnostics",
        "discovery-update-info",
        "discovery",
        "docs-data-update",
        "docs-examples",
        "docs-known-limitations",
        "docs-supported-devices",
        "docs-supported-functions",
        "docs-troubleshooting",
        "docs-use-cases",
        "dynamic-devices",
        "entity-category",
        "entity-device-class",
        "entity-disabled-by-default",
        "entity-translations",
        "exception-translations",
        "icon-translations",
        "reconfiguration-flow",
        "repair-issues",
        "stale-devices",
    ),
    "platinum": ("async-dependency", "inject-websession", "strict-typing"),
}


def _rules() -> dict[str, object]:
    data = yaml.safe_load((COMPONENT / "quality_scale.yaml").read_text())
    rules = data["rules"]
    assert isinstance(rules, dict)
    return rules


def test_every_rule_listed_once() -> None:
    expected = sorted(rule for tier in RULES.values() for rule in tier)
    assert len(expected) == 52
    assert sorted(_rules()) == expected


def test_no_rule_left_todo() -> None:
    for rule, value in _rules().items():
        status = value["status"] if isinstance(value, dict) else value
        assert status in ("done", "exempt"), rule
        if status == "exempt":
            assert isinstance(value, dict), rule
            assert str(value.get("comment", "")).strip(), f"{rule}: exempt without a reason"


def test_brand_images() -> None:
    sizes = {
        "icon.png": (256, 256),
        "icon@2x.png": (512, 512),
        "dark_icon.png": (256, 256),
        "dark_icon@2x.png": (512, 512),
    }
    for name, size in sizes.items():
        with Image.open(COMPONENT / "brand" / name) as image:
            assert image.format == "PNG"
            assert image.size == size, name
            assert image.mode == "RGBA", name
    for name in ("logo.png", "logo@2x.png", "dark_logo.png", "dark_logo@2x.png"):
        with Image.open(COMPONENT / "brand" / name) as image:
            assert image.format == "PNG"
            width, height = image.size
            assert width >= height, name
    with Image.open(COMPONENT / "brand" / "logo.png") as image:
        assert 128 <= min(image.size) <= 256


def test_licence_is_mit() -> None:
    assert "Permission is hereby granted, free of charge" in (ROOT / "LICENSE").read_text()


def test_hacs_and_hassfest_workflows() -> None:
    workflow = yaml.safe_load((ROOT / ".github/workflows/validate.yml").read_text())
    uses = [step.get("uses", "") for job in workflow["jobs"].values() for step in job["steps"]]
    assert any(use.startswith("home-assistant/actions/hassfest@") for use in uses)
    assert any(use.startswith("hacs/action@") for use in uses)
