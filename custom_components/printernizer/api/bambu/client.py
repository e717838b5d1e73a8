"""Bambu Lab LAN client: MQTT over TLS, driven from the asyncio event loop.

paho-mqtt is used without its network thread (like Home Assistant core's MQTT
client): the TLS socket is opened in an executor, then the event loop watches
it with ``add_reader``/``add_writer`` and calls ``loop_read``/``loop_write``;
a 1 s timer calls ``loop_misc`` (keepalive) and the report watchdog. Every
paho callback therefore runs on the event loop, and so do the listeners.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import random
import re
import secrets
import ssl
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import AbstractAsyncContextManager
from functools import partial
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from ..controls import SPEED_LEVELS
from ..models import (
    OFFLINE_STATE,
    CommandError,
    CommandNotAllowedError,
    CommandTimeoutError,
    ConnectionListener,
    ConnectionPhase,
    ConnectionUpdate,
    PrinterAuthError,
    PrinterCertificateError,
    PrinterConnectionError,
    PrinterFamily,
    PrinterIdentityError,
    PrinterInfo,
    PrinterState,
    PrinterStatus,
    PrinterTlsError,
    RemoteFile,
    StateListener,
    state_as_dict,
)
from .ams import read_printer_mapping, read_tray_mapping, read_tray_mapping2
from .ftps import DEFAULT_PORT as FTPS_PORT
from .ftps import BambuFtpsClient
from .parse import (
    MODELS_WITHOUT_CHAMBER_SENSOR,
    adopt_full_report_changed,
    decode_payload,
    dumps,
    is_full_report,
    merge_delta,
    normalize,
    parse_version,
    plain_newer,
)
from .tls import create_ssl_context, peer_common_name

_LOGGER = logging.getLogger(__name__)

#: Seconds async_connect waits for the get_version answer after the first report.
VERSION_WAIT = 3.0

USERNAME = "bblp"
KEEPALIVE = 60
#: paho/MQTT CONNACK codes meaning "wrong credentials" (v3 rc 4/5 and v5 equivalents).
_AUTH_FAILURE_CODES = frozenset({4, 5, 134, 135})

_ALLOWED: dict[str, frozenset[PrinterStatus]] = {
    "pause": frozenset({PrinterStatus.PRINTING, PrinterStatus.PREPARING}),
    "resume": frozenset({PrinterStatus.PAUSED}),
    "stop": frozenset({PrinterStatus.PRINTING, PrinterStatus.PREPARING, PrinterStatus.PAUSED}),
}


class _MqttClient(mqtt.Client):
    """paho client whose TLS handshake times out after ``handshake_timeout``.

    paho uses the MQTT keepalive (60 s) as the handshake timeout; a printer
    that accepts TCP but never answers would block an executor thread that
    long. ``_ssl_wrap_socket`` is private paho API (stable in 2.x, pinned <3).
    """

    handshake_timeout: float = 10.0

    def _ssl_wrap_socket(self, tcp_sock: Any) -> ssl.SSLSocket:
        keepalive = self._keepalive
        self._keepalive = self.handshake_timeout  # type: ignore[assignment]
        try:
            return super()._ssl_wrap_socket(tcp_sock)
        finally:
            self._keepalive = keepalive


#: ``/data/Metadata/plate_2.gcode`` (X1 LAN), ``Benchy_plate_2.gcode`` (cloud), also
#: ``.gcode.3mf``: the plate of a multi-plate project the job prints.
_JOB_PLATE = re.compile(r"(?:^|[/_])plate_(\d{1,3})\.gcode(?:\.3mf)?$", re.IGNORECASE)


def job_plate_index(gcode_file: Any) -> int | None:
    """The plate index a reported ``gcode_file`` names (1-based), None when it names none."""
    if not isinstance(gcode_file, str) or len(gcode_file) > 1024:
        return None
    match = _JOB_PLATE.search(gcode_file.strip())
    index = int(match.group(1)) if match else 0
    return index if index >= 1 else None


class BambuClient:
    """A Bambu Lab printer on the LAN (implements ``PrinterClient``)."""

    family: PrinterFamily = "bambu_lab"
    push = True

    #: Reconnect backoff: first delay, cap (seconds); jitter is +-20 %.
    reconnect_min = 1.0
    reconnect_max = 60.0
    #: Ask for a full report when nothing arrived for this long while connected.
    report_watchdog = 60.0
    #: Period of the paho housekeeping timer (keepalive pings, watchdog).
    misc_interval = 1.0

    def __init__(
        self,
        host: str,
        serial: str,
        access_code: str,
        *,
        port: int = 8883,
        insecure_tls: bool = False,
        ca_file: str | None = None,
        command_timeout: float = 10.0,
        connect_timeout: float = 10.0,
        ftps_port: int = FTPS_PORT,
    ) -> None:
        """Configure the client; nothing happens before ``async_connect``."""
        self._host = host
        self._serial = serial
        self._access_code = access_code
        self._port = port
        self._insecure = insecure_tls
        self._ca_file = ca_file
        self._command_timeout = command_timeout
        self._connect_timeout = connect_timeout
        #: Files over implicit FTPS: same host, serial check, TLS context, access code.
        self._ftps = BambuFtpsClient(
            host,
            serial,
            access_code,
            ssl_context=self._get_ssl_context,
            insecure_tls=insecure_tls,
            ca_file=ca_file,
            port=ftps_port,
            connect_timeout=connect_timeout,
        )

        self._on_state: StateListener | None = None
        self._on_connection: ConnectionListener | None = None
        self._state: PrinterState = OFFLINE_STATE
        self._report: dict[str, Any] = {}
        #: temperature groups whose plain field is newer than the packed one
        self._plain: frozenset[str] = frozenset()
        self._have_full = False
        #: From the last ``project_file`` echo: (its subtask_name, its ams_mapping).
        self._tray_mapping: tuple[str | None, tuple[int, ...]] | None = None
        #: The report's own ``mapping`` list and what it decodes to (decoded once).
        self._printer_mapping: tuple[Any, tuple[int, ...] | None] = (None, None)
        self._info: PrinterInfo | None = None
        #: After a lost connection the first state is handed over even when it
        #: equals the last one: the listener marked the printer offline meanwhile.
        self._emit_next = False
        self._version_known = asyncio.Event()
        self._phase: ConnectionPhase | None = None
        self._phase_message: str | None = None

        self._ssl_context: ssl.SSLContext | None = None
        self._mqttc: mqtt.Client | None = None
        self._established = False
        self._closing = False
        self._connack: asyncio.Future[None] | None = None
        self._first_report: asyncio.Future[None] | None = None
        self._reconnect_task: asyncio.Task[None] | None = None
        self._misc_timer: asyncio.TimerHandle | None = None
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._sequence = 0
        self._last_report_at: float | None = None
        self._last_pushall_at: float | None = None
        self._connected_since: float | None = None
        self._reconnects = 0
        self._loop: asyncio.AbstractEventLoop | None = None

    # --- PrinterClient properties -----------------------------------------

    @property
    def info(self) -> PrinterInfo | None:
        """Printer facts from ``get_version`` (None before the answer)."""
        return self._info

    @property
    def poll_interval(self) -> float | None:
        """None: this is a push client."""
        return None

    @property
    def last_report(self) -> dict[str, Any]:
        """The merged raw ``print`` report (a copy)."""
        report: dict[str, Any] = json.loads(dumps(self._report))
        return report

    @property
    def connected(self) -> bool:
        """True while the MQTT session is up."""
        return self._established and self._mqttc is not None

    def set_listeners(
        self, on_state: StateListener | None, on_connection: ConnectionListener | None
    ) -> None:
        """Register the core's callbacks (called on the event loop)."""
        self._on_state = on_state
        self._on_connection = on_connection

    # --- listeners -----------------------------------------------------------

    def _set_phase(self, phase: ConnectionPhase, message: str | None = None) -> None:
        self._phase, self._phase_message = phase, message
        if self._on_connection is None:
            return
        try:
            self._on_connection(ConnectionUpdate(phase, message))
        except Exception:
            _LOGGER.exception("Connection listener failed")

    @property
    def _chamber_sensor(self) -> bool | None:
        """False for models with a placeholder chamber_temper; None while the model is unknown."""
        if self._info is None or self._info.model is None:
            return None
        return self._info.model not in MODELS_WITHOUT_CHAMBER_SENSOR

    def _emit_state(self, changed: Any = None) -> None:
        """Normalize the merged report; ``changed``: the keys of the delta just merged."""
        if not self._have_full:
            return
        new = normalize(
            self._report,
            self._state,
            chamber_sensor=self._chamber_sensor,
            plain=self._plain,
            changed=changed,
        )
        if new == self._state and not self._emit_next:
            return
        self._emit_next = False
        if self._tray_mapping is not None and self._state.is_active and not new.is_active:
            self._tray_mapping = None  # that print ended: a reprint from the screen has none
        self._state = new
        if self._on_state is None:
            return
        try:
            self._on_state(new)
        except Exception:
            _LOGGER.exception("State listener failed")

    # --- connect / disconnect ----------------------------------------------

    async def async_connect(self) -> None:
        """Connect once (CONNACK + first full report); then keep reconnecting."""
        self._loop = asyncio.get_running_loop()
        self._closing = False
        try:
            await self._open()
        except PrinterAuthError as err:
            self._set_phase(ConnectionPhase.ERROR, str(err))
            raise
        except (PrinterConnectionError, PrinterIdentityError) as err:
            self._set_phase(ConnectionPhase.FAILED, str(err))
            raise

    async def async_disconnect(self) -> None:
        """Disconnect and stop every task and timer."""
        self._closing = True
        task, self._reconnect_task = self._reconnect_task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._teardown("disconnected")

    async def _get_ssl_context(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            loop = asyncio.get_running_loop()
            try:
                self._ssl_context = await loop.run_in_executor(
                    None,
                    lambda: create_ssl_context(insecure=self._insecure, ca_file=self._ca_file),
                )
            except (OSError, ssl.SSLError) as err:
                raise PrinterConnectionError(f"Cannot load CA certificates: {err}") from err
        return self._ssl_context

    def _blocking_connect(self, client: mqtt.Client) -> None:
        """Open the TLS socket and send CONNECT (executor thread)."""
        try:
            client.connect(self._host, self._port, keepalive=KEEPALIVE)
        except ssl.SSLCertVerificationError as err:
            _dispose_sockets(client)
            issuer = f"the configured CA ({self._ca_file})" if self._ca_file else "Bambu Lab's CA"
            raise PrinterCertificateError(
                f"Certificate of {self._host} not issued by {issuer}: {err.verify_message}"
            ) from err
        except ssl.SSLError as err:
            _dispose_sockets(client)
            raise PrinterTlsError(
                f"TLS handshake with {self._host}:{self._port} failed: {err.reason or err}"
            ) from err
        except (OSError, ValueError) as err:
            _dispose_sockets(client)
            raise PrinterConnectionError(
                f"Cannot connect to {self._host}:{self._port}: {err}"
            ) from err
        if self._insecure:
            return
        sock = client.socket()
        cn = peer_common_name(sock.getpeercert()) if isinstance(sock, ssl.SSLSocket) else None
        if cn != self._serial:
            _dispose_sockets(client)
            raise PrinterIdentityError(
                f"Printer at {self._host} presents serial {cn!r}, expected {self._serial!r}"
            )

    async def _open(self) -> None:
        """One connection attempt; on failure nothing is left running."""
        loop = asyncio.get_running_loop()
        self._set_phase(ConnectionPhase.CONNECTING)
        ctx = await self._get_ssl_context()
        client = _MqttClient(
            CallbackAPIVersion.VERSION2,
            client_id=f"printernizer-{secrets.token_hex(4)}",
            protocol=mqtt.MQTTv311,
            reconnect_on_failure=False,
        )
        client.username_pw_set(USERNAME, self._access_code)
        client.tls_set_context(ctx)
        client.tls_insecure_set(True)  # no hostname check: CN = serial, checked by us
        client.connect_timeout = self._connect_timeout
        client.handshake_timeout = self._connect_timeout
        client.suppress_exceptions = True
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message

        self._established = False
        self._connack = loop.create_future()
        self._first_report = loop.create_future()
        self._mqttc = client
        deadline = loop.time() + self._connect_timeout
        try:
            fut = loop.run_in_executor(None, self._blocking_connect, client)
            try:
                async with asyncio.timeout_at(deadline):
                    try:
                        await asyncio.shield(fut)
                    except (asyncio.CancelledError, TimeoutError):
                        # the thread finishes on its own (bounded by the
                        # handshake timeout); close what it opened then
                        fut.add_done_callback(partial(_late_connect_done, client))
                        raise
                    self._attach(client)
                    await self._connack
                    await self._first_report
                    # The model (get_version) decides which sensors exist; a
                    # printer that does not answer it in time is used anyway.
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(VERSION_WAIT):
                            await self._version_known.wait()
                if self._mqttc is not client or client.socket() is None:
                    raise PrinterConnectionError(f"Connection to {self._host} lost during connect")
            except TimeoutError as err:
                raise PrinterConnectionError(
                    f"No answer from {self._host} within {self._connect_timeout} s"
                ) from err
        except BaseException:
            if self._mqttc is client:
                self._teardown("connect failed")
            else:
                _dispose_sockets(client)
            raise
        self._established = True
        self._connected_since = time.time()

    def _attach(self, client: mqtt.Client) -> None:
        """Hand the open socket to the event loop."""
        loop = asyncio.get_running_loop()
        sock = client.socket()
        if sock is None:
            raise PrinterConnectionError("Socket closed during connect")
        client.on_socket_close = self._on_socket_close
        client.on_socket_register_write = self._on_socket_register_write
        client.on_socket_unregister_write = self._on_socket_unregister_write
        loop.add_reader(sock, self._on_readable, client)
        if client.want_write():
            loop.add_writer(sock, self._on_writable, client)
        self._misc_timer = loop.call_later(self.misc_interval, self._misc, client)
        self._on_readable(client)

    def _teardown(self, reason: str) -> None:
        """Close the current MQTT client, timers and pending futures (no callbacks)."""
        if self._misc_timer is not None:
            self._misc_timer.cancel()
            self._misc_timer = None
        client, self._mqttc = self._mqttc, None
        self._established = False
        self._emit_next = True
        if client is not None:
            self._unwatch(client)
            with contextlib.suppress(Exception):
                if client.socket() is not None:
                    client.disconnect()
                    client.loop_write()
            _dispose_sockets(client)
        for fut in (self._connack, self._first_report):
            if fut is not None and not fut.done():
                fut.set_exception(PrinterConnectionError(reason))
                fut.exception()  # mark retrieved
        for pending in self._pending.values():
            if not pending.done():
                pending.set_exception(CommandError(f"Connection lost: {reason}"))
        self._pending.clear()

    def _unwatch(self, client: mqtt.Client) -> None:
        sock = client.socket()
        if sock is not None and self._loop is not None:
            self._loop.remove_reader(sock)
            self._loop.remove_writer(sock)

    # --- socket callbacks (event loop) ---------------------------------------

    def _guarded(self, client: mqtt.Client, func: Any) -> None:
        """Run a paho step; an unexpected exception counts as a lost connection."""
        try:
            func(client)
        except Exception as err:
            _LOGGER.exception("MQTT processing failed for %s", self._host)
            if self._mqttc is client:
                self._on_disconnect(client, None, None, f"internal error: {err}", None)

    def _on_readable(self, client: mqtt.Client) -> None:
        self._guarded(client, self._read)

    def _read(self, client: mqtt.Client) -> None:
        rc = client.loop_read()
        # Bytes already decrypted by the TLS layer don't wake the selector.
        for _ in range(1000):
            sock = client.socket()
            if rc != mqtt.MQTT_ERR_SUCCESS or not isinstance(sock, ssl.SSLSocket):
                break
            if not sock.pending():
                break
            rc = client.loop_read()

    def _on_writable(self, client: mqtt.Client) -> None:
        self._guarded(client, lambda c: c.loop_write())

    def _on_socket_close(self, client: mqtt.Client, _userdata: Any, sock: Any) -> None:
        if self._loop is not None:
            self._loop.remove_reader(sock)
            self._loop.remove_writer(sock)

    def _on_socket_register_write(self, client: mqtt.Client, _userdata: Any, sock: Any) -> None:
        if self._loop is not None and self._mqttc is client:
            self._loop.add_writer(sock, self._on_writable, client)

    def _on_socket_unregister_write(self, client: mqtt.Client, _userdata: Any, sock: Any) -> None:
        if self._loop is not None:
            self._loop.remove_writer(sock)

    def _misc(self, client: mqtt.Client) -> None:
        self._misc_timer = None
        self._guarded(client, self._misc_step)

    def _misc_step(self, client: mqtt.Client) -> None:
        # The timer belongs to the current client: teardown cancels it.
        assert self._loop is not None
        if client.loop_misc() != mqtt.MQTT_ERR_SUCCESS or self._mqttc is not client:
            return
        now = self._loop.time()
        if self._established and (
            now - max(self._last_report_at or 0, self._last_pushall_at or 0) >= self.report_watchdog
        ):
            _LOGGER.debug(
                "No report from %s for %s s, asking for a full one",
                self._host,
                self.report_watchdog,
            )
            self._request_pushall(client)
        self._misc_timer = self._loop.call_later(self.misc_interval, self._misc, client)

    # --- MQTT callbacks (event loop) -----------------------------------------

    def _on_connect(
        self, client: mqtt.Client, _userdata: Any, _flags: Any, reason_code: Any, _props: Any
    ) -> None:
        if self._mqttc is not client or self._connack is None or self._connack.done():
            return
        if reason_code.is_failure:
            value = getattr(reason_code, "value", None)
            if value in _AUTH_FAILURE_CODES:
                self._connack.set_exception(
                    PrinterAuthError(f"Printer refused the access code ({reason_code})")
                )
            else:
                self._connack.set_exception(
                    PrinterConnectionError(f"Printer refused the connection ({reason_code})")
                )
            return
        self._connack.set_result(None)
        self._set_phase(ConnectionPhase.CONNECTED)
        client.subscribe(f"device/{self._serial}/report", qos=0)
        self._request_pushall(client)
        self._publish(client, {"info": {"sequence_id": self._next_seq(), "command": "get_version"}})

    def _on_disconnect(
        self, client: mqtt.Client, _userdata: Any, _flags: Any, reason_code: Any, _props: Any
    ) -> None:
        if self._mqttc is not client:
            return
        if self._misc_timer is not None:
            self._misc_timer.cancel()
            self._misc_timer = None
        message = f"Connection to {self._host} lost ({reason_code})"
        if not self._established:
            # during an attempt: _open reports the failure
            # Whichever of the two _open is not awaiting (the connack failed
            # first, e.g. on bad credentials) is marked retrieved, so no
            # "exception was never retrieved" is logged.
            for fut in (self._connack, self._first_report):
                if fut is not None and not fut.done():
                    fut.set_exception(PrinterConnectionError(message))
                    fut.exception()
            return
        self._teardown(message)
        if self._closing:
            return
        _LOGGER.info("%s, reconnecting", message)
        self._set_phase(ConnectionPhase.FAILED, message)
        self._start_reconnect()

    def _on_message(self, client: mqtt.Client, _userdata: Any, msg: mqtt.MQTTMessage) -> None:
        if self._mqttc is not client:
            return
        try:
            self._handle_payload(msg.payload)
        except Exception:  # a bug must not kill the connection
            _LOGGER.exception("Failed to handle a report from %s", self._host)

    def _handle_payload(self, payload: bytes) -> None:
        data = decode_payload(payload)
        if data is None:
            return
        if isinstance(info := data.get("info"), dict) and info.get("command") == "get_version":
            self._info = parse_version(info, serial=self._serial)
            _LOGGER.debug("Printer info: %s", self._info)
            self._version_known.set()
            self._emit_state()  # the model decides about the chamber sensor
        if isinstance(system := data.get("system"), dict):
            self._answer(system)
        report = data.get("print")
        if not isinstance(report, dict):
            if report is not None:
                _LOGGER.debug("Ignoring non-object print report")
            return
        if self._loop is not None:
            self._last_report_at = self._loop.time()
        if self._answer(report):
            return
        command = report.get("command")
        if command not in (None, "push_status"):
            if command == "project_file":
                self._project_file(report)
            else:
                _LOGGER.debug("Ignoring %r message", command)
            return
        changed: Iterable[str] | None
        if full := is_full_report(report):
            # a full report is normalized like a delta of the keys it changed, when the
            # state is the one of the report before and the plain/packed answer stays
            self._report, changed = adopt_full_report_changed(self._report, report)
            plain = plain_newer(report, self._report)
            if not self._have_full or plain != self._plain:
                changed = None
            self._plain = plain
            self._have_full = True
        else:
            self._report = merge_delta(self._report, report)
            self._plain = plain_newer(report, self._report, self._plain)
            changed = report.keys()
        self._emit_state(changed)
        if full and self._first_report is not None and not self._first_report.done():
            self._first_report.set_result(None)
            self._set_phase(ConnectionPhase.MONITORING)

    def _project_file(self, echo: dict[str, Any]) -> None:
        """A print started from a slicer: keep its tray mapping (``ams_mapping``).

        The printer echoes the slicer's ``project_file`` request on the report
        topic, with every parameter. A refused one, one printing without the
        AMS (``use_ams`` false: the external spool feeds it) or one without a
        usable mapping leaves no mapping.
        """
        result = echo.get("result")
        if isinstance(result, str) and result.lower() != "success":
            return
        mapping = read_tray_mapping2(echo.get("ams_mapping2")) or read_tray_mapping(
            echo.get("ams_mapping")
        )
        if echo.get("use_ams") is False or mapping is None:
            self._tray_mapping = None
            return
        name = echo.get("subtask_name")
        self._tray_mapping = (name if isinstance(name, str) and name else None, mapping)

    def _answer(self, message: dict[str, Any]) -> bool:
        """Hand a command echo to its waiting command; True when it was one."""
        seq = message.get("sequence_id")
        if "result" not in message or seq is None or str(seq) not in self._pending:
            return False
        fut = self._pending[str(seq)]
        if not fut.done():
            fut.set_result(message)
        return True

    # --- requests ------------------------------------------------------------

    def _next_seq(self) -> str:
        self._sequence = (self._sequence + 1) % 1_000_000_000
        return str(self._sequence)

    def _publish(self, client: mqtt.Client, message: dict[str, Any]) -> None:
        client.publish(f"device/{self._serial}/request", json.dumps(message), qos=0)

    def _request_pushall(self, client: mqtt.Client) -> None:
        if self._loop is not None:
            self._last_pushall_at = self._loop.time()
        self._publish(client, {"pushing": {"sequence_id": self._next_seq(), "command": "pushall"}})

    async def _command(
        self, command: str, *, param: str = "", section: str = "print", **fields: Any
    ) -> None:
        if command in _ALLOWED and self._state.status not in _ALLOWED[command]:
            raise CommandNotAllowedError(f"Cannot {command} while {self._state.status.value}")
        client = self._mqttc
        if client is None or not self._established:
            raise CommandError(f"Not connected to {self._host}")
        seq = self._next_seq()
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[seq] = fut
        try:
            body: dict[str, Any] = {"sequence_id": seq, "command": command}
            body |= {"param": param} if section == "print" else {}
            self._publish(client, {section: body | fields})
            async with asyncio.timeout(self._command_timeout):
                answer = await fut
        except TimeoutError as err:
            raise CommandTimeoutError(
                f"Printer did not confirm {command} within {self._command_timeout} s"
            ) from err
        finally:
            self._pending.pop(seq, None)
        result = str(answer.get("result", "")).lower()
        if result != "success":
            raise CommandError(f"Printer rejected {command}: {answer.get('reason') or result}")

    async def async_poll(self) -> PrinterState:
        """Return the last known state."""
        return self._state

    async def async_pause(self) -> None:
        """Pause the print; returns when the printer confirmed."""
        await self._command("pause")

    async def async_resume(self) -> None:
        """Resume the print; returns when the printer confirmed."""
        await self._command("resume")

    async def async_stop(self) -> None:
        """Stop (cancel) the print; returns when the printer confirmed."""
        await self._command("stop")

    async def async_set_speed_level(self, level: int) -> None:
        """Set the print speed level (1 silent .. 4 ludicrous); returns once confirmed."""
        if level not in SPEED_LEVELS:
            raise CommandError(f"Unknown speed level {level!r}")
        await self._command("print_speed", param=str(level))

    async def async_set_chamber_light(self, on: bool) -> None:
        """Switch the chamber light; returns once the printer confirmed."""
        await self._command(
            "ledctrl",
            section="system",
            led_node="chamber_light",
            led_mode="on" if on else "off",
            led_on_time=500,
            led_off_time=500,
            loop_times=0,
            interval_time=0,
        )

    # --- reconnect -----------------------------------------------------------

    def _start_reconnect(self) -> None:
        if self._closing or (self._reconnect_task and not self._reconnect_task.done()):
            return
        assert self._loop is not None
        self._reconnect_task = self._loop.create_task(self._reconnect_loop())

    async def _reconnect_loop(self) -> None:
        delay = self.reconnect_min
        while not self._closing:
            # async_disconnect cancels this task while it sleeps
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
            self._reconnects += 1
            try:
                await self._open()
            except PrinterAuthError as err:
                _LOGGER.warning("Printer %s refused the access code, giving up", self._host)
                self._set_phase(ConnectionPhase.ERROR, str(err))
                return
            except (PrinterConnectionError, PrinterIdentityError) as err:
                _LOGGER.debug("Reconnect to %s failed: %s", self._host, err)
                self._set_phase(ConnectionPhase.FAILED, str(err))
                delay = min(self.reconnect_max, delay * 2)
            else:
                return

    # --- files (PrinterFileClient, delegated to api/bambu/ftps.py) ----------------

    async def async_list_files(self) -> list[RemoteFile]:
        """Every file on the printer (FTPS; see ``ftps.BambuFtpsClient``)."""
        return await self._ftps.async_list_files()

    async def async_stat(self, path: str) -> RemoteFile:
        """One file's size and modification time."""
        return await self._ftps.async_stat(path)

    def async_open(self, path: str) -> AbstractAsyncContextManager[AsyncIterator[bytes]]:
        """Stream a file's bytes (``async with ... as chunks: async for chunk in chunks``)."""
        return self._ftps.async_open(path)

    async def async_delete(self, path: str) -> None:
        """Delete a file on the printer."""
        await self._ftps.async_delete(path)

    def job_plate(self) -> int | None:
        """The plate the running job prints, from the report's ``gcode_file`` (None: unknown)."""
        return job_plate_index(self._report.get("gcode_file"))

    def job_tray_mapping(self) -> tuple[int, ...] | None:
        """The running job's tray per filament (see ``PrinterTrayMappingClient``).

        The printer's own ``print.mapping`` where it reports one (X1, P2S: the
        assignment it runs, after any remapping); else the ``project_file``
        echo that started the print (``ams_mapping2``, else ``ams_mapping``).
        None without either: a print started on the printer's screen, or
        before Home Assistant connected, on a printer that does not report its
        mapping; an echo that named another job than the one reported; an
        echo whose print ended.
        """
        raw = self._report.get("mapping")
        if raw is not None:
            seen, decoded = self._printer_mapping
            if seen is not raw:  # X1 full reports bring a new list each time
                if (fresh := read_printer_mapping(raw)) != decoded:
                    decoded = fresh  # else the same object: listeners compare identity
                self._printer_mapping = (raw, decoded)
            if decoded is not None:
                return decoded
        if self._tray_mapping is None:
            return None
        name, mapping = self._tray_mapping
        if name is not None and name != self._report.get("subtask_name"):
            return None
        return mapping

    async def async_job_file(self, state: PrinterState) -> RemoteFile | None:
        """The file of the job in ``state`` (the report's gcode_file / subtask_name forms)."""
        report = self._report
        gcode_file = report.get("gcode_file")
        subtask = report.get("subtask_name")
        return await self._ftps.async_find_job_file(
            gcode_file if isinstance(gcode_file, str) else None,
            subtask if isinstance(subtask, str) and subtask else state.job_name,
        )

    # --- diagnostics -----------------------------------------------------------

    def diagnostics(self) -> dict[str, Any]:
        """Connection facts and the last merged report (never the access code)."""
        now = self._loop.time() if self._loop is not None else None
        return {
            "host": self._host,
            "port": self._port,
            "serial": self._serial,
            "insecure_tls": self._insecure,
            "custom_ca_file": self._ca_file is not None,
            "connected": self.connected,
            "phase": self._phase.value if self._phase else None,
            "phase_message": self._phase_message,
            "connected_since": self._connected_since,
            "reconnect_attempts": self._reconnects,
            "seconds_since_last_report": (
                round(now - self._last_report_at, 1)
                if now is not None and self._last_report_at is not None
                else None
            ),
            "info": dataclasses.asdict(self._info) if self._info else None,
            "state": state_as_dict(self._state),
            "job_tray_mapping": list(m) if (m := self.job_tray_mapping()) is not None else None,
            "last_report": _redact(self.last_report, self._access_code),
        }


def _redact(value: Any, secret: str) -> Any:
    """Replace any string containing the secret (never expected, but never leak it)."""
    if isinstance(value, dict):
        return {k: _redact(v, secret) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v, secret) for v in value]
    if isinstance(value, str) and secret and secret in value:
        return "**REDACTED**"
    return value


def _late_connect_done(client: mqtt.Client, fut: asyncio.Future[None]) -> None:
    """Clean up after a connect thread we stopped waiting for."""
    if not fut.cancelled():
        fut.exception()  # retrieved: the attempt already failed with a timeout
    _dispose_sockets(client)


def _dispose_sockets(client: mqtt.Client) -> None:
    """Close paho's socket and socket pair (any thread; never raises)."""
    with contextlib.suppress(Exception):
        client._reset_sockets()


__all__ = ["BambuClient"]
