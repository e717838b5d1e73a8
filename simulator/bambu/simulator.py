"""BambuSimulator: a Bambu Lab printer on 127.0.0.1 (MQTT over TLS, implicit FTPS, SSDP NOTIFY).

Reports are built from the real captures in ``tests/fixtures/bambu``. Tests
drive a print explicitly (``start_print``, ``set_progress``, ``pause``...);
``autoplay`` loops a print on the wall clock for development (holding while
paused, ending a print that was stopped). ``state_dir`` keeps the CA and the
printer certificate across restarts, like a real printer.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import logging
import os
import posixpath
import re
import shutil
import ssl
import tempfile
from pathlib import Path
from typing import Any

from .certs import CA_FILE, CERT_FILE, KEY_FILE, CertChain, load_or_make_chain, make_chain
from .ftps import FtpsServer, job_file_layout, make_3mf, model_layout
from .mqtt_broker import MqttBroker

_LOGGER = logging.getLogger(__name__)

FIXTURES_DIR = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "bambu"
PRINT_ERROR_CANCELLED = 50348044

#: model -> (fixture file, SSDP DevModel code)
MODELS: dict[str, tuple[str, str]] = {
    "P1P": ("P1P.json", "C11"),
    "A1": ("MOCK-A1.json", "N2S"),
    "X1C": ("MOCK-X1CMULTIAMS.json", "3DPrinter-X1-Carbon"),
}


def load_fixture(path: str | Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return (print report, get_version ``info`` object) from a capture file."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    report = data.get("pushall") or data.get("push_all") or {}
    if isinstance(report.get("print"), dict):
        report = report["print"]
    version = data.get("get_version") or {}
    if isinstance(version.get("info"), dict):
        version = version["info"]
    return report, version


def _printer_mapping_entry(tray: int) -> int:
    """A flat ``ams_mapping`` entry as ``print.mapping`` reports it (unit << 8 | slot)."""
    if 0 <= tray < 16:
        return (tray // 4) << 8 | tray % 4
    if 16 <= tray < 24:  # AMS HT units 128-135
        return (128 + tray - 16) << 8
    if tray in (254, 255):
        return tray << 8
    return 0xFFFF


class BambuSimulator:
    """A protocol-level Bambu Lab printer for tests and development."""

    def __init__(  # noqa: PLR0917 (positional order given by the test contract)
        self,
        serial: str = "01P00A000000001",
        access_code: str = "12345678",
        model: str = "P1P",
        host: str = "127.0.0.1",
        mqtt_port: int = 0,
        ftps_port: int = 0,
        fixture: str | Path | None = None,
        *,
        delta_updates: bool = True,
        wrong_cn: bool = False,
        other_ca: bool = False,
        files: dict[str, bytes] | None = None,
        name: str | None = None,
        autoplay: bool = False,
        autoplay_step: float = 2.0,
        state_dir: str | Path | None = None,
    ) -> None:
        """Configure the simulator (``start`` opens the sockets).

        ``delta_updates`` publishes only changed keys after the first full
        report (like P1/A1); False publishes the full state each time (X1).
        ``wrong_cn``/``other_ca`` make the printer certificate wrong for tests.
        ``autoplay`` loops a print (prepare -> 5 % steps -> finish) every
        ``autoplay_step`` seconds of wall clock, for development.
        ``state_dir`` keeps the CA and certificate there and reuses them on
        the next start (without it, each start makes a new CA in a temporary
        folder that ``stop`` removes).
        """
        self.autoplay = autoplay
        self.autoplay_step = autoplay_step
        self.serial = serial
        self.access_code = access_code
        self.model = model
        self.host = host
        self.name = name or f"Simulated {model}"
        self.delta_updates = delta_updates
        #: Don't answer commands at all (timeout tests).
        self.ignore_commands = False
        #: Never answer ``pushall`` (a printer that never sends its full report).
        self.ignore_pushall = False
        #: Never answer ``get_version`` (old firmware that keeps quiet).
        self.ignore_version = False
        #: Result to echo for the next commands (``"success"`` or ``"fail"``).
        self.command_result = "success"
        self._wrong_cn = wrong_cn
        self._other_ca = other_ca
        fixture_name, self.model_code = MODELS.get(model, MODELS["P1P"])
        self._fixture = Path(fixture) if fixture else FIXTURES_DIR / fixture_name
        self._mqtt_port = mqtt_port
        self._ftps_port = ftps_port
        #: FTPS files given by the test ({path: bytes}); None: the model's layout.
        self._files = dict(files) if files is not None else None
        self.state: dict[str, Any] = {}
        self._version: dict[str, Any] = {}
        self._chain: CertChain | None = None
        self._state_dir = Path(state_dir) if state_dir is not None else None
        #: Where ca.pem, cert.pem and key.pem are (the state folder or a temporary one).
        self._certdir: Path | None = None
        self._tmpdir: str | None = None
        #: Autoplay steps taken (each ``autoplay_step`` seconds), for tests.
        self.autoplay_ticks = 0
        self._broker: MqttBroker | None = None
        self._ftps: FtpsServer | None = None
        self._ssl: ssl.SSLContext | None = None
        self._autoplay: asyncio.Task[None] | None = None
        self._task_counter = 100000
        self._total_minutes = 60
        #: Every request received (decoded JSON), for assertions.
        self.requests: list[dict[str, Any]] = []
        #: Every command answer published through ``_echo``, for assertions.
        self.echoes: list[dict[str, Any]] = []
        self.pushall_count = 0

    # --- properties --------------------------------------------------------

    @property
    def mqtt_port(self) -> int:
        """The MQTT/TLS port."""
        return self._broker.port if self._broker else self._mqtt_port

    @property
    def ftps_port(self) -> int:
        """The implicit FTPS port."""
        return self._ftps.port if self._ftps else self._ftps_port

    @property
    def ftps(self) -> FtpsServer:
        """The FTPS server (after start): its files, modes and counters."""
        assert self._ftps is not None, "start() first"
        return self._ftps

    @property
    def ca_file(self) -> str:
        """Path of the PEM file of the test CA (plays Bambu Lab's CA)."""
        assert self._certdir is not None, "start() first"
        return str(self._certdir / CA_FILE)

    @property
    def ca_pem(self) -> str:
        """PEM of the test CA."""
        assert self._chain is not None, "start() first"
        return self._chain.ca_pem

    @property
    def report_topic(self) -> str:
        """``device/<serial>/report``."""
        return f"device/{self.serial}/report"

    @property
    def client_count(self) -> int:
        """Number of logged-in MQTT clients."""
        return self._broker.client_count if self._broker else 0

    # --- lifecycle ---------------------------------------------------------

    def _prepare(self) -> ssl.SSLContext:
        """Blocking part of start: fixtures, certificates, SSL context."""
        self.state, self._version = load_fixture(self._fixture)
        self.state = copy.deepcopy(self.state)
        self._tmpdir = tempfile.mkdtemp(prefix="bambu-sim-")
        tmp = Path(self._tmpdir)
        if self._state_dir is not None:
            self._chain = load_or_make_chain(self._state_dir, self.serial)
            self._certdir = self._state_dir
        else:
            self._chain = make_chain(self.serial, wrong_cn=self._wrong_cn, other_ca=self._other_ca)
            self._certdir = tmp
            (self._certdir / CA_FILE).write_text(self._chain.ca_pem)
            (self._certdir / CERT_FILE).write_text(self._chain.cert_pem)
            (self._certdir / KEY_FILE).write_text(self._chain.key_pem)
        ftp_root = tmp / "ftp"
        ftp_root.mkdir()
        layout = (
            {path: (data, None) for path, data in self._files.items()}
            if self._files is not None
            else model_layout(self.model)
        )
        for path, (data, mtime) in layout.items():
            real = ftp_root / path.lstrip("/")
            real.parent.mkdir(parents=True, exist_ok=True)
            real.write_bytes(data)
            if mtime is not None:
                os.utime(real, (mtime, mtime))
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self._certdir / CERT_FILE, self._certdir / KEY_FILE)
        return ctx

    def _check_login(self, username: str | None, password: str | None) -> bool:
        return username == "bblp" and password == self.access_code

    async def _start_parts(self) -> None:
        loop = asyncio.get_running_loop()
        self._ssl = await loop.run_in_executor(None, self._prepare)
        self._broker = MqttBroker(
            host=self.host,
            port=self._mqtt_port,
            ssl_context=self._ssl,
            check_login=self._check_login,
            on_message=self._on_message,
        )
        await self._broker.start()
        self._ftps = FtpsServer(
            host=self.host,
            port=self._ftps_port,
            ssl_context=self._ssl,
            check_login=self._check_login,
            root=Path(self._tmpdir or ".") / "ftp",
        )
        await self._ftps.start()

    async def start(self, *, autoplay: bool | None = None) -> None:
        """Generate certificates and start the MQTT broker and the FTPS server.

        When a part fails to start (a port in use), what already started is
        stopped again before the error propagates.
        """
        try:
            await self._start_parts()
        except BaseException:
            await self.stop()
            raise
        if self.autoplay if autoplay is None else autoplay:
            self._autoplay = asyncio.create_task(self._autoplay_loop(self.autoplay_step))

    async def stop(self) -> None:
        """Stop everything started."""
        if self._autoplay is not None:
            self._autoplay.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._autoplay
            self._autoplay = None
        if self._broker is not None:
            await self._broker.stop()
            self._broker = None
        if self._ftps is not None:
            await self._ftps.stop()
            self._ftps = None
        if self._tmpdir is not None:
            await asyncio.get_running_loop().run_in_executor(
                None, shutil.rmtree, self._tmpdir, True
            )
            self._tmpdir = None

    async def restart_broker(self) -> None:
        """Drop all MQTT connections and listen again on the same port."""
        assert self._broker is not None
        port = self._broker.port
        await self._broker.stop()
        self._broker = MqttBroker(
            host=self.host,
            port=port,
            ssl_context=self._ssl,
            check_login=self._check_login,
            on_message=self._on_message,
        )
        await self._broker.start()

    async def __aenter__(self) -> BambuSimulator:
        """Start."""
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Stop."""
        await self.stop()

    # --- MQTT --------------------------------------------------------------

    def _publish(self, message: dict[str, Any]) -> None:
        if self._broker is not None:
            self._broker.publish(self.report_topic, json.dumps(message).encode())

    async def publish_raw(self, payload: bytes) -> None:
        """Publish raw bytes on the report topic (malformed input tests)."""
        if self._broker is not None:
            self._broker.publish(self.report_topic, payload)

    async def publish_burst(self, messages: list[dict[str, Any]]) -> None:
        """Publish several messages in one write (one TLS record)."""
        if self._broker is not None:
            self._broker.publish_burst(
                self.report_topic, [json.dumps(message).encode() for message in messages]
            )

    def refuse_connections(self, code: int | None) -> None:
        """Answer every MQTT CONNECT with this CONNACK code (None: check the login again)."""
        assert self._broker is not None
        self._broker.refuse_code = code

    async def publish_full(self) -> None:
        """Publish the full state (a pushall answer)."""
        self._publish({"print": {**copy.deepcopy(self.state), "command": "push_status", "msg": 0}})

    async def _publish_delta(self, changes: dict[str, Any]) -> None:
        if not self.delta_updates:
            await self.publish_full()
            return
        self._publish({"print": {**copy.deepcopy(changes), "command": "push_status", "msg": 1}})

    async def update(self, **changes: Any) -> None:
        """Change top-level report fields and publish them (delta or full).

        Models whose report packs temperatures into ``device`` (newer
        firmware, the X1C capture) get those packed values updated as well.
        """
        self.state.update(changes)
        if device := self._sync_packed(changes):
            changes = {**changes, "device": device}
        await self._publish_delta(changes)

    def _sync_packed(self, changes: dict[str, Any]) -> dict[str, Any] | None:
        """Mirror ``*_temper`` changes into ``device.*.info.temp`` (low 16 current, high target)."""
        device = self.state.get("device")
        if not isinstance(device, dict):
            return None
        keys = {"nozzle_temper", "nozzle_target_temper", "bed_temper", "bed_target_temper"}
        if not keys & changes.keys():
            return None

        def packed(current: str, target: str) -> int:
            cur = round(float(self.state.get(current) or 0))
            tar = round(float(self.state.get(target) or 0))
            return (tar & 0xFFFF) << 16 | (cur & 0xFFFF)

        delta: dict[str, Any] = {}
        bed = device.get("bed")
        if isinstance(bed, dict) and isinstance(bed.get("info"), dict):
            bed["info"]["temp"] = packed("bed_temper", "bed_target_temper")
            delta["bed"] = {"info": {"temp": bed["info"]["temp"]}}
        extruder = device.get("extruder")
        if isinstance(extruder, dict) and isinstance(extruder.get("info"), list):
            for entry in extruder["info"]:
                if isinstance(entry, dict) and entry.get("id", 0) == 0:
                    entry["temp"] = packed("nozzle_temper", "nozzle_target_temper")
            delta["extruder"] = {"info": copy.deepcopy(extruder["info"])}
        return delta or None

    async def _on_message(self, topic: str, payload: bytes) -> None:
        if topic != f"device/{self.serial}/request":
            return
        try:
            request = json.loads(payload)
        except ValueError:
            return
        if not isinstance(request, dict):
            return
        self.requests.append(request)
        if isinstance(pushing := request.get("pushing"), dict):
            if pushing.get("command") == "pushall":
                self.pushall_count += 1
                if not self.ignore_pushall:
                    await self.publish_full()
        elif isinstance(info := request.get("info"), dict):
            if info.get("command") == "get_version" and not self.ignore_version:
                self._publish(
                    {
                        "info": {
                            **copy.deepcopy(self._version),
                            "command": "get_version",
                            "sequence_id": info.get("sequence_id", "0"),
                        }
                    }
                )
        elif isinstance(cmd := request.get("print"), dict):
            if cmd.get("command") == "print_speed":
                await self._print_speed(cmd)
            elif cmd.get("command") == "project_file":
                await self._project_file(cmd)
            else:
                await self._command(cmd)
        elif (
            isinstance(system := request.get("system"), dict) and system.get("command") == "ledctrl"
        ):
            await self._ledctrl(system)

    def _echo(self, section: str, cmd: dict[str, Any], result: str) -> None:
        """The printer's answer to a command: the request with ``result`` (and ``reason``)."""
        answer = {
            section: {
                **cmd,
                "result": result,
                "reason": "" if result.lower() == "success" else "not allowed",
            }
        }
        self.echoes.append(answer)
        self._publish(answer)

    async def _print_speed(self, cmd: dict[str, Any]) -> None:
        """``print_speed`` (param "1".."4"): echo, then report the new ``spd_lvl``."""
        if self.ignore_commands:
            return
        param = str(cmd.get("param", ""))
        result = self.command_result if param in ("1", "2", "3", "4") else "fail"
        self._echo("print", cmd, result)
        if result.lower() == "success":
            await self.update(spd_lvl=int(param))

    async def _ledctrl(self, cmd: dict[str, Any]) -> None:
        """``ledctrl`` (led_node, led_mode on/off): echo, then report ``lights_report``."""
        if self.ignore_commands:
            return
        node, mode = cmd.get("led_node"), cmd.get("led_mode")
        lights = [dict(light) for light in self.state.get("lights_report") or []]
        known = any(light.get("node") == node for light in lights)
        result = self.command_result if known and mode in ("on", "off", "flashing") else "fail"
        self._echo("system", cmd, result)
        if result.lower() == "success":
            for light in lights:
                if light.get("node") == node:
                    light["mode"] = mode
            await self.update(lights_report=lights)

    async def request(self, message: dict[str, Any]) -> None:
        """Handle ``message`` as if a slicer had published it on the request topic."""
        await self._on_message(f"device/{self.serial}/request", json.dumps(message).encode())

    async def _project_file(self, cmd: dict[str, Any]) -> None:
        """``project_file``: a slicer prints a ``.3mf`` it put on the SD card.

        Echo the request with every parameter (``ams_mapping`` included; every
        client subscribed to the report topic sees it), then print the file:
        ``url`` ``file:///sdcard/<name>`` (or ``ftp:///<name>``), plate from
        ``param`` (``Metadata/plate_N.gcode``). Refused (``fail``) while a print
        runs or when the file is not there. With ``use_ams``, the AMS feeds the
        first mapped tray (``tray_now``); without, the external spool (254).
        """
        if self.ignore_commands:
            return
        url = str(cmd.get("url") or "")
        path = "/" + re.sub(r"^(?:file:///sdcard/|ftp:///?)", "", url).lstrip("/")
        known = self._ftps is not None and path in await self._ftps.paths()
        busy = self.state.get("gcode_state") in ("RUNNING", "PREPARE", "PAUSE")
        result = self.command_result if known and not busy else "fail"
        self._echo("print", cmd, result)
        if result.lower() != "success":
            return
        param = str(cmd.get("param") or "Metadata/plate_1.gcode")
        flat = [t if isinstance(t, int) else -1 for t in cmd.get("ams_mapping") or []]
        mapping = [t for t in flat if 0 <= t < 254]
        ams = copy.deepcopy(self.state.get("ams")) or {}
        ams["tray_now"] = str(mapping[0] if cmd.get("use_ams") and mapping else 254)
        extra: dict[str, Any] = {"ams": ams}
        if "mapping" in self.state:  # models that report their own (X1, P2S)
            extra["mapping"] = [_printer_mapping_entry(t) for t in flat]
        await self._begin_print(
            str(cmd.get("subtask_name") or posixpath.basename(path)),
            f"/data/{param}" if self.model.startswith("X1") else path.lstrip("/"),
            **extra,
        )

    async def set_hms(self, entries: list[tuple[int, int]]) -> None:
        """Report HMS entries as (attr, code) pairs."""
        await self.update(hms=[{"attr": attr, "code": code} for attr, code in entries])

    async def offer_firmware(self, version: str | None) -> None:
        """Report a firmware update on offer (``version``) or none (None)."""
        current = str(self._version_of("ota") or "")
        await self.update(
            upgrade_state={
                **(self.state.get("upgrade_state") or {}),
                "new_version_state": 1 if version else 2,
                "new_ver_list": (
                    [{"name": "ota", "cur_ver": current, "new_ver": version}] if version else []
                ),
            }
        )

    def _version_of(self, module: str) -> str | None:
        for item in self._version.get("module") or []:
            if isinstance(item, dict) and item.get("name") == module:
                version = item.get("sw_ver")
                return str(version) if version else None
        return None

    async def _command(self, cmd: dict[str, Any]) -> None:
        command = cmd.get("command")
        if command not in ("pause", "resume", "stop") or self.ignore_commands:
            return
        result = self.command_result
        if result.lower() == "success":
            state = self.state.get("gcode_state")
            allowed = {
                "pause": ("RUNNING", "PREPARE"),
                "resume": ("PAUSE",),
                "stop": ("RUNNING", "PREPARE", "PAUSE"),
            }[command]
            if state not in allowed:
                result = "fail"
        self._publish(
            {
                "print": {
                    "command": command,
                    "sequence_id": cmd.get("sequence_id"),
                    "param": cmd.get("param", ""),
                    "result": result,
                    "reason": "" if result.lower() == "success" else "not allowed",
                }
            }
        )
        if result.lower() != "success":
            return
        if command == "pause":
            await self.pause()
        elif command == "resume":
            await self.resume()
        else:
            await self.cancel()

    # --- scripted print ----------------------------------------------------

    async def start_print(
        self, file_name: str = "benchy.3mf", total_layers: int = 100, total_minutes: int = 60
    ) -> None:
        """Start a print: PREPARE with targets set, progress 0."""
        # The job's file as the model names it (a small generated .gcode.3mf).
        gcode_file, subtask_name, ftp_path = job_file_layout(self.model, file_name)
        if self._ftps is not None:
            await self._ftps.put_file(ftp_path, make_3mf(subtask_name))
        await self._begin_print(subtask_name, gcode_file, total_layers, total_minutes)

    async def _begin_print(
        self,
        subtask_name: str,
        gcode_file: str,
        total_layers: int = 100,
        total_minutes: int = 60,
        **extra: Any,
    ) -> None:
        """A new job: PREPARE with targets set, progress 0 (and ``extra`` report keys)."""
        self._task_counter += 1
        self._total_minutes = total_minutes
        await self.update(
            gcode_state="PREPARE",
            subtask_name=subtask_name,
            gcode_file=gcode_file,
            task_id=str(self._task_counter),
            subtask_id=str(self._task_counter),
            mc_percent=0,
            mc_remaining_time=total_minutes,
            layer_num=0,
            total_layer_num=total_layers,
            print_error=0,
            nozzle_target_temper=220,
            bed_target_temper=60,
            mc_print_stage="2",
            stg_cur=2,
            **extra,
        )

    async def set_progress(self, percent: int) -> None:
        """RUNNING at ``percent``; layers, remaining time and temps follow."""
        percent = max(0, min(100, int(percent)))
        total = int(self.state.get("total_layer_num") or 0)
        await self.update(
            gcode_state="RUNNING",
            mc_percent=percent,
            layer_num=round(total * percent / 100),
            mc_remaining_time=round(self._total_minutes * (100 - percent) / 100),
            nozzle_temper=220.0,
            bed_temper=60.0,
            nozzle_target_temper=220,
            bed_target_temper=60,
            mc_print_stage="2",
            stg_cur=0,
        )

    async def pause(self) -> None:
        """PAUSE."""
        await self.update(gcode_state="PAUSE", stg_cur=16)

    async def resume(self) -> None:
        """Back to RUNNING."""
        await self.update(gcode_state="RUNNING", stg_cur=0)

    async def finish(self) -> None:
        """FINISH: 100 %, all layers, heaters off."""
        await self.update(
            gcode_state="FINISH",
            mc_percent=100,
            layer_num=self.state.get("total_layer_num", 0),
            mc_remaining_time=0,
            nozzle_target_temper=0,
            bed_target_temper=0,
            mc_print_stage="1",
            stg_cur=-1,
        )

    async def fail(self, print_error: int = 0x0300_4000) -> None:
        """FAILED with a print error."""
        await self.update(
            gcode_state="FAILED",
            print_error=print_error,
            nozzle_target_temper=0,
            bed_target_temper=0,
            mc_print_stage="1",
            stg_cur=-1,
        )

    async def cancel(self) -> None:
        """FAILED with print_error 50348044 (cancelled by the user)."""
        await self.fail(PRINT_ERROR_CANCELLED)

    async def idle(self) -> None:
        """IDLE."""
        await self.update(gcode_state="IDLE", print_error=0, mc_percent=0, stg_cur=0)

    async def _autoplay_loop(self, step: float = 2.0) -> None:
        """Loop prepare -> run (5 % steps) -> finish on the wall clock.

        A paused print holds (no step counts while paused); a print that was
        stopped (or failed, or replaced) ends, and the next one starts after
        the usual break.
        """
        n = 0
        while True:
            n += 1
            before = self.state.get("task_id")
            if n % 2 == 0 and self._ftps is not None:
                await self._slicer_print(f"autoplay_{n}")  # every other one: two colours
            if self.state.get("task_id") == before:
                await self.start_print(f"autoplay_{n}.3mf", total_layers=120, total_minutes=20)
            task_id = self.state.get("task_id")
            going = await self._autoplay_wait(step, 2, task_id)
            percent = 0
            while going and percent <= 100:
                await self.set_progress(percent)
                percent += 5
                going = await self._autoplay_wait(step, 1, task_id)
            if going:
                await self.finish()
            for _ in range(3):
                await asyncio.sleep(step)
                self.autoplay_ticks += 1

    async def _slicer_print(self, name: str) -> None:
        """Print a two-colour file as Bambu Studio does: upload, then ``project_file``."""
        assert self._ftps is not None
        filaments = [(1, "PLA", "#FFFFFF", 6.0), (2, "PLA", "#000000", 4.0)]
        await self._ftps.put_file(f"/{name}.gcode.3mf", make_3mf(name, filaments=filaments))
        await self.request(
            {
                "print": {
                    "sequence_id": str(20000 + self._task_counter % 10000),
                    "command": "project_file",
                    "param": "Metadata/plate_1.gcode",
                    "subtask_name": name,
                    "url": f"file:///sdcard/{name}.gcode.3mf",
                    "use_ams": True,
                    "ams_mapping": [0, 1],
                }
            }
        )

    def _autoplay_phase(self, task_id: Any) -> str:
        """``running``, ``paused`` or ``ended`` for the autoplay print ``task_id``."""
        if self.state.get("task_id") != task_id:
            return "ended"
        gcode_state = self.state.get("gcode_state")
        if gcode_state == "PAUSE":
            return "paused"
        return "running" if gcode_state in ("PREPARE", "RUNNING") else "ended"

    async def _autoplay_wait(self, step: float, steps: int, task_id: Any) -> bool:
        """Wait ``steps`` unpaused steps; False as soon as the print ended."""
        done = 0
        while done < steps:
            await asyncio.sleep(step)
            self.autoplay_ticks += 1
            phase = self._autoplay_phase(task_id)
            if phase == "ended":
                return False
            if phase == "running":
                done += 1
        return True

    # --- discovery ---------------------------------------------------------

    def announcement(self) -> bytes:
        """The SSDP NOTIFY datagram a Bambu printer sends."""
        lines = [
            "NOTIFY * HTTP/1.1",
            "HOST: 239.255.255.250:1990",
            "Server: UPnP/1.0",
            f"Location: {self.host}",
            "NT: urn:bambulab-com:device:3dprinter:1",
            "NTS: ssdp:alive",
            f"USN: {self.serial}",
            "Cache-Control: max-age=1800",
            f"DevModel.bambu.com: {self.model_code}",
            f"DevName.bambu.com: {self.name}",
            "DevSignal.bambu.com: -44",
            "DevConnect.bambu.com: lan",
            "DevBind.bambu.com: free",
            "Devseclink.bambu.com: secure",
            "DevVersion.bambu.com: 01.07.00.00",
            "DevCap.bambu.com: 1",
        ]
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    async def send_announcement(self, target_host: str, target_port: int) -> None:
        """Send the NOTIFY datagram to ``target_host:target_port`` over UDP."""
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            asyncio.DatagramProtocol, remote_addr=(target_host, target_port)
        )
        try:
            transport.sendto(self.announcement())
        finally:
            transport.close()
