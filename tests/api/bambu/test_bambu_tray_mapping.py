"""The running job's tray mapping from the slicer's ``project_file`` echo (simulator, TLS)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from bambu_helpers import CODE, SERIAL, Recorder, make_client, wait_for

from custom_components.printernizer.api.bambu.client import BambuClient
from custom_components.printernizer.api.models import PrinterStatus, PrinterTrayMappingClient
from simulator.bambu import BambuSimulator
from simulator.bambu.ftps import make_3mf

pytestmark = pytest.mark.simulator


def _project_file(name: str, mapping: Any, **extra: Any) -> dict[str, Any]:
    """What Bambu Studio publishes to print ``/<name>.gcode.3mf`` from the SD card."""
    return {
        "print": {
            "sequence_id": "20001",
            "command": "project_file",
            "param": "Metadata/plate_1.gcode",
            "subtask_name": name,
            "url": f"file:///sdcard/{name}.gcode.3mf",
            "md5": "",
            "bed_type": "auto",
            "timelapse": False,
            "bed_leveling": True,
            "flow_cali": False,
            "vibration_cali": True,
            "layer_inspect": False,
            "use_ams": True,
            "ams_mapping": mapping,
            **extra,
        }
    }


async def _connected(sim: BambuSimulator, client_factory: Any) -> tuple[Any, Recorder]:
    client = client_factory()
    rec = Recorder()
    client.set_listeners(rec.on_state, rec.on_connection)
    await client.async_connect()
    return client, rec


async def test_slicer_print_gives_the_jobs_mapping(sim: BambuSimulator, client_factory) -> None:
    client, rec = await _connected(sim, client_factory)
    assert isinstance(client, PrinterTrayMappingClient)
    assert client.job_tray_mapping() is None  # the capture's print was not started here
    await sim.ftps.put_file("/owl.gcode.3mf", make_3mf("owl"))
    await sim.request(_project_file("owl", [2, -1, 0]))
    await wait_for(lambda: rec.states[-1].status == PrinterStatus.PREPARING)
    assert rec.states[-1].job_name == "owl"
    assert client.job_tray_mapping() == (2, -1, 0)
    # the simulator echoed every parameter, as the printer does
    (echo,) = sim.echoes
    assert echo["print"]["result"] == "success"
    assert echo["print"]["ams_mapping"] == [2, -1, 0]
    assert rec.states[-1].extra["ams_active_tray"] == 2  # the AMS feeds the first mapped tray
    assert client.diagnostics()["job_tray_mapping"] == [2, -1, 0]
    await sim.set_progress(30)
    await wait_for(lambda: rec.states[-1].progress == 30)
    assert client.job_tray_mapping() == (2, -1, 0)
    await sim.finish()
    await wait_for(lambda: rec.states[-1].status == PrinterStatus.FINISHED)
    # that print ended: a reprint from the printer's screen has no mapping
    assert client.job_tray_mapping() is None
    await sim.idle()
    await sim.start_print("owl.3mf")
    await wait_for(lambda: rec.states[-1].status == PrinterStatus.PREPARING)
    assert client.job_tray_mapping() is None
    assert client.diagnostics()["job_tray_mapping"] is None


@pytest.mark.parametrize(
    ("request_extra", "mapping"),
    [
        ({"use_ams": False}, [0]),  # the external spool feeds it
        ({}, "0,1"),  # not a mapping
        ({}, [-1, -1]),  # maps nothing
    ],
)
async def test_no_mapping_from_such_a_request(
    sim: BambuSimulator, client_factory, request_extra: dict[str, Any], mapping: Any
) -> None:
    client, rec = await _connected(sim, client_factory)
    await sim.ftps.put_file("/owl.gcode.3mf", make_3mf("owl"))
    await sim.request(_project_file("owl", mapping, **request_extra))
    await wait_for(lambda: rec.states[-1].status == PrinterStatus.PREPARING)
    assert client.job_tray_mapping() is None


async def test_refused_print_leaves_no_mapping(sim: BambuSimulator, client_factory) -> None:
    client, rec = await _connected(sim, client_factory)
    # the job the printer reports, but its file is not on the SD card: refused
    await sim.request(_project_file("Fidget Collection", [1]))
    (echo,) = sim.echoes
    assert echo["print"]["result"] == "fail"
    # MQTT keeps the order: once this report arrived, so had the refusal
    await sim.update(wifi_signal="-40dBm")
    await wait_for(lambda: rec.states[-1].extra["wifi_signal"] == -40)
    assert client.job_tray_mapping() is None
    assert rec.states[-1].status == PrinterStatus.FAILED  # still the capture's state


async def test_mapping_of_another_job_is_not_this_ones(sim: BambuSimulator, client_factory) -> None:
    """The echo names its job; a printer on another job has no mapping for it."""
    client, rec = await _connected(sim, client_factory)
    await sim.ftps.put_file("/owl.gcode.3mf", make_3mf("owl"))
    await sim.request(_project_file("owl", [3]))
    await wait_for(lambda: rec.states[-1].job_name == "owl")
    assert client.job_tray_mapping() == (3,)
    await sim.update(subtask_name="something else")
    await wait_for(lambda: rec.states[-1].job_name == "something else")
    assert client.job_tray_mapping() is None


async def test_printers_own_mapping_wins(sim: BambuSimulator, client_factory) -> None:
    """``print.mapping`` in the report is the assignment the printer runs, after any remap."""
    client, rec = await _connected(sim, client_factory)
    await sim.ftps.put_file("/owl.gcode.3mf", make_3mf("owl"))
    await sim.request(_project_file("owl", [2, -1, 0]))
    await wait_for(lambda: rec.states[-1].job_name == "owl")
    assert client.job_tray_mapping() == (2, -1, 0)
    # the printer remapped filament 1 to the second AMS unit's first tray
    await sim.update(mapping=[0x0100, 0xFFFF, 0x0000])
    await wait_for(lambda: client.last_report.get("mapping") == [0x0100, 0xFFFF, 0])
    assert client.job_tray_mapping() == (4, -1, 0)
    assert client.job_tray_mapping() is client.job_tray_mapping()  # decoded once
    # one it cannot read: the echo's again
    await sim.update(mapping=[0xFFFF])
    await wait_for(lambda: client.last_report.get("mapping") == [0xFFFF])
    assert client.job_tray_mapping() == (2, -1, 0)


async def test_newer_slicers_mapping2_wins_over_the_flat_one(
    sim: BambuSimulator, client_factory
) -> None:
    client, rec = await _connected(sim, client_factory)
    await sim.ftps.put_file("/owl.gcode.3mf", make_3mf("owl"))
    mapping2 = [{"ams_id": 128, "slot_id": 0}, {"ams_id": 255, "slot_id": 255}]
    await sim.request(_project_file("owl", [16, -1], ams_mapping2=mapping2))
    await wait_for(lambda: rec.states[-1].job_name == "owl")
    assert client.job_tray_mapping() == (128, -1)


@pytest.fixture
async def x1c_client() -> AsyncIterator[tuple[BambuSimulator, BambuClient, Recorder]]:
    """An X1C simulator (full reports each time) and a connected client with its recorder."""
    x1c = BambuSimulator(serial=SERIAL, access_code=CODE, model="X1C", delta_updates=False)
    await x1c.start()
    client = make_client(x1c)
    rec = Recorder()
    client.set_listeners(rec.on_state, rec.on_connection)
    try:
        await client.async_connect()
        yield x1c, client, rec
    finally:
        await client.async_disconnect()
        await x1c.stop()


async def test_x1c_capture_reports_its_mapping(
    x1c_client: tuple[BambuSimulator, BambuClient, Recorder],
) -> None:
    """The real X1C capture carries ``mapping: [258]``: AMS 2, tray 3 (tray_now 6)."""
    _x1c, client, _rec = x1c_client
    assert client.job_tray_mapping() == (6,)


async def test_x1c_reports_the_mapping_of_a_slicers_print(
    x1c_client: tuple[BambuSimulator, BambuClient, Recorder],
) -> None:
    """The simulated X1C reports the mapping it runs in its own ``mapping`` field."""
    x1c, client, rec = x1c_client
    await x1c.ftps.put_file("/owl.gcode.3mf", make_3mf("owl"))
    await x1c.request(_project_file("owl", [5, -1, 17, 254]))
    await wait_for(lambda: rec.states[-1].job_name == "owl")
    assert client.last_report["mapping"] == [0x0101, 0xFFFF, 0x8100, 0xFE00]
    mapping = client.job_tray_mapping()
    assert mapping == (5, -1, 129, 254)
    # every X1 report is a full one (a new list): the same mapping is the same object
    await x1c.set_progress(10)
    await wait_for(lambda: rec.states[-1].progress == 10)
    assert client.job_tray_mapping() is mapping


async def test_autoplay_prints_every_other_one_from_the_slicer() -> None:
    """Development autoplay: print 2 is a two-colour slicer print with its mapping."""
    auto = BambuSimulator(serial=SERIAL, access_code=CODE, autoplay=True, autoplay_step=0.01)
    await auto.start()
    client = make_client(auto)
    mappings: set[tuple[int, ...] | None] = set()
    client.set_listeners(lambda s: mappings.add(client.job_tray_mapping()), None)
    try:
        await client.async_connect()
        await wait_for(lambda: (0, 1) in mappings)
        assert any(e["print"]["subtask_name"] == "autoplay_2" for e in auto.echoes)
        assert "/autoplay_2.gcode.3mf" in await auto.ftps.paths()
    finally:
        await client.async_disconnect()
        await auto.stop()
