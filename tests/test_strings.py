"""strings.json: every config-flow field is described; the texts say each family's words."""

from __future__ import annotations

import json
from pathlib import Path

COMPONENT = Path(__file__).parents[1] / "custom_components" / "printernizer"
STRINGS = json.loads((COMPONENT / "strings.json").read_text())


def test_strings_equal_english_translation() -> None:
    assert json.loads((COMPONENT / "translations" / "en.json").read_text()) == STRINGS


def test_every_flow_field_has_a_description() -> None:
    for section in ("config", "options"):
        for step_id, step in STRINGS[section]["step"].items():
            fields = set(step.get("data", {}))
            described = set(step.get("data_description", {}))
            assert fields == described, f"{section}.{step_id}: {fields ^ described}"


def test_wrong_password_names_both_families_words() -> None:
    text = STRINGS["config"]["error"]["invalid_auth"]
    assert "access code" in text
    assert "PrusaLink password" in text
