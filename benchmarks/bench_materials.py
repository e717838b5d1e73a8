"""Materials: 1,000 materials listed and updated on the loop; an AMS report with 4 units x 4 trays.

Targets (issue 12): list and update of 1,000 materials < 10 ms on the loop; an
AMS report with 4 AMS units x 4 trays processed < 1 ms beyond the printer's
normal report cost (parse + the materials' tray sync).
"""

from __future__ import annotations

import asyncio
import copy
import time
from typing import Any

from benchmarks._harness import (
    Summary,
    add_entry,
    home_assistant,
    machine,
    ms,
    parse_args,
    quiet_logging,
    setup_entries,
    table,
    us,
    verdict,
)
from custom_components.printernizer.api.bambu.parse import merge_report, normalize
from custom_components.printernizer.const import CONF_ENTRY_KIND, ENTRY_KIND_LIBRARY
from custom_components.printernizer.runtime import DATA_KEY
from simulator.bambu import load_fixture
from simulator.bambu.simulator import FIXTURES_DIR

MATERIALS = 1000
LIST_TARGET = 0.010
UPDATE_TARGET = 0.010
AMS_TARGET = 0.001


def _four_by_four() -> dict[str, Any]:
    raw, _version = load_fixture(FIXTURES_DIR / "MOCK-X1CMULTIAMS.json")
    unit = raw["ams"]["ams"][0]
    units = []
    for ams_id in range(4):
        copy_unit = copy.deepcopy(unit)
        copy_unit["id"] = str(ams_id)
        for tray in copy_unit["tray"]:
            tray["tray_uuid"] = f"{ams_id:02d}{tray['id']:0>2}" + "A" * 28
        units.append(copy_unit)
    raw["ams"]["ams"] = units
    return raw


async def run(quick: bool) -> list[list[str]]:
    rounds = 50 if quick else 300
    rows: list[list[str]] = []
    async with home_assistant() as hass:
        await hass.async_block_till_done()
        entry = add_entry(
            hass,
            title="Printernizer library",
            unique_id="printernizer_library",
            data={CONF_ENTRY_KIND: ENTRY_KIND_LIBRARY},
        )
        await setup_entries(hass, [entry])
        materials = hass.data[DATA_KEY].library.materials
        ids = [
            materials.create(
                {"material_type": "PLA", "weight": 1000, "name": f"Spool {i:04d}"}
            ).material_id
            for i in range(MATERIALS)
        ]
        await hass.async_block_till_done()

        listed: list[float] = []
        for _ in range(rounds):
            start = time.perf_counter()
            await hass.services.async_call(
                "printernizer", "list_materials", {}, blocking=True, return_response=True
            )
            listed.append(time.perf_counter() - start)
        s = Summary.of(listed)
        rows.append(
            ["list_materials action, 1,000", ms(s.p50), ms(s.p99), verdict(s.p99, LIST_TARGET)]
        )

        updated: list[float] = []
        for i in range(rounds):
            mid = ids[i % MATERIALS]
            start = time.perf_counter()
            await hass.services.async_call(
                "printernizer",
                "update_material",
                {"material_id": mid, "remaining_weight": 500 + i % 400},
                blocking=True,
                return_response=True,
            )
            await hass.async_block_till_done()
            updated.append(time.perf_counter() - start)
        s = Summary.of(updated)
        rows.append(
            [
                "update_material action + event + sensor, 1,000",
                ms(s.p50),
                ms(s.p99),
                verdict(s.p99, UPDATE_TARGET),
            ]
        )

        # AMS: 4 units x 4 trays
        raw = _four_by_four()
        state = normalize(raw)
        materials.printer_state("BENCH", state)  # creates the 16 materials
        delta_plain: list[float] = []
        delta_ams: list[float] = []
        previous = state
        for i in range(rounds):
            report = merge_report(raw, {"mc_percent": i % 100})
            start = time.perf_counter()
            new = normalize(report, previous)
            materials.printer_state("BENCH", new)
            delta_plain.append(time.perf_counter() - start)
            previous = new
            ams = copy.deepcopy(raw["ams"])
            ams["ams"][i % 4]["tray"][i % 4]["remain"] = 10 + i % 90
            report = merge_report(report, {"ams": ams})
            start = time.perf_counter()
            new = normalize(report, previous)
            materials.printer_state("BENCH", new)
            delta_ams.append(time.perf_counter() - start)
            previous = new
            raw = report
        await hass.async_block_till_done()
        plain = Summary.of(delta_plain)
        with_ams = Summary.of(delta_ams)
        extra = with_ams.p50 - plain.p50
        rows.append(
            ["report without AMS change (normalize + sync)", us(plain.p50), us(plain.p99), "-"]
        )
        rows.append(
            [
                "report with a tray change (normalize + sync + event)",
                us(with_ams.p50),
                us(with_ams.p99),
                f"{verdict(extra, AMS_TARGET)} (+{us(extra)} us)",
            ]
        )
        await hass.config_entries.async_unload(entry.entry_id)
    return rows


def main() -> None:
    args = parse_args(__doc__ or "")
    quiet_logging()
    rows = asyncio.run(run(args.quick))
    print(
        table(
            "materials (targets: list/update < 10 ms; AMS 4x4 < 1 ms extra)",
            ["case", "p50", "p99", "verdict"],
            rows,
        )
    )
    print("list/update in ms; AMS rows in microseconds per report (p50, p99).")
    print(f"machine: {machine()}")


if __name__ == "__main__":
    main()
