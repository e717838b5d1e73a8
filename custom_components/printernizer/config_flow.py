"""Config flow: add a Bambu Lab or Prusa printer (by hand or discovered); reauth, reconfigure."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import voluptuous as vol
from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlow,
)
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.httpx_client import get_async_client
from homeassistant.helpers.selector import (
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
from homeassistant.helpers.service_info.dhcp import DhcpServiceInfo
from homeassistant.util import slugify

from . import clients
from .api.models import (
    PrinterAuthError,
    PrinterError,
    PrinterIdentityError,
    PrinterInfo,
    PrinterNotSupportedError,
)
from .clients import split_host_port
from .const import (
    CONF_ACCESS_CODE,
    CONF_ENTRY_KIND,
    CONF_FAMILY,
    CONF_INSECURE_TLS,
    CONF_SERIAL,
    DOMAIN,
    ENTRY_KIND_LIBRARY,
    FAMILY_BAMBU,
    FAMILY_PRUSA,
    LIBRARY_TITLE,
    LIBRARY_UNIQUE_ID,
)
from .library_options import LibraryOptionsFlow

_LOGGER = logging.getLogger(__name__)

PASSWORD_SELECTOR = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
DEFAULT_PRUSA_USERNAME = "maker"
#: PrusaLink's port for DHCP-discovered printers (the tests point it at the simulator).
PRUSALINK_DHCP_PORT = 80


async def async_validate(
    hass: HomeAssistant, data: Mapping[str, Any], options: Mapping[str, Any] | None = None
) -> tuple[PrinterInfo | None, str | None]:
    """Connect once with ``data``; return (printer info, error key)."""
    try:
        client = clients.create_client(hass, dict(data), dict(options or {}))
    except ValueError:
        return None, "invalid_host"
    try:
        await client.async_connect()
        return client.info, None
    except PrinterAuthError:
        return None, "invalid_auth"
    except PrinterIdentityError:
        return None, "wrong_serial"
    except PrinterNotSupportedError:
        return None, "not_supported"
    except PrinterError as err:
        _LOGGER.debug("Cannot connect to %s: %s", data.get(CONF_HOST), err)
        return None, "cannot_connect"
    except Exception:
        _LOGGER.exception("Unexpected error while connecting to %s", data.get(CONF_HOST))
        return None, "unknown"
    finally:
        await client.async_disconnect()


def _normalize_prusa_host(value: str) -> str | None:
    from .api.prusalink.client import normalize_host  # noqa: PLC0415

    try:
        return normalize_host(value)
    except ValueError:
        return None


def _prusa_unique_id(info: PrinterInfo | None, host: str) -> tuple[str, bool]:
    """The printer's serial, or an id derived from its network host name (flag: fallback).

    The host name, not the printer's display name (which users rename), and
    the address only when the printer tells no host name.
    """
    if info is not None and info.serial:
        return info.serial, False
    basis = (info.hostname if info and info.hostname else None) or urlsplit(host).hostname or host
    return f"prusalink_{slugify(basis)}", True


class PrinternizerConfigFlow(ConfigFlow, domain=DOMAIN):
    """Add a printer."""

    VERSION = 1

    def __init__(self) -> None:
        """Initialize the flow."""
        self._discovered: dict[str, Any] = {}
        self._pending: dict[str, Any] = {}

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry[Any]) -> OptionsFlow:
        """Options (the library's settings; Bambu Lab: unverified TLS)."""
        if config_entry.data.get(CONF_ENTRY_KIND) == ENTRY_KIND_LIBRARY:
            return LibraryOptionsFlow()
        return PrinternizerOptionsFlow()

    @classmethod
    @callback
    def async_supports_options_flow(cls, config_entry: ConfigEntry[Any]) -> bool:
        """The library and Bambu Lab printers have options."""
        return (
            config_entry.data.get(CONF_ENTRY_KIND) == ENTRY_KIND_LIBRARY
            or config_entry.data.get(CONF_FAMILY) == FAMILY_BAMBU
        )

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Choose the printer family, or the library."""
        return self.async_show_menu(step_id="user", menu_options=["bambu", "prusa", "library"])

    # --- the library entry ---------------------------------------------------

    async def async_step_library(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Add the Printernizer library (a singleton: settings, files, materials, ideas)."""
        await self.async_set_unique_id(LIBRARY_UNIQUE_ID)
        if self._async_current_entries(include_ignore=False) and any(
            entry.unique_id == LIBRARY_UNIQUE_ID
            for entry in self._async_current_entries(include_ignore=False)
        ):
            return self.async_abort(reason="library_already_configured")
        if user_input is not None:
            return self.async_create_entry(
                title=LIBRARY_TITLE, data={CONF_ENTRY_KIND: ENTRY_KIND_LIBRARY}
            )
        return self.async_show_form(step_id="library", data_schema=vol.Schema({}))

    # --- Bambu Lab ---------------------------------------------------------

    async def async_step_bambu(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Host, serial and access code of a Bambu Lab printer."""
        errors: dict[str, str] = {}
        if user_input is not None:
            serial = user_input[CONF_SERIAL].strip().upper()
            data = {
                CONF_FAMILY: FAMILY_BAMBU,
                CONF_HOST: user_input[CONF_HOST].strip(),
                CONF_SERIAL: serial,
                CONF_ACCESS_CODE: user_input[CONF_ACCESS_CODE].strip(),
            }
            await self.async_set_unique_id(serial)
            self._abort_if_unique_id_configured()
            info, error = await async_validate(self.hass, data)
            if error is None:
                return self.async_create_entry(title=_bambu_title(info, serial), data=data)
            errors["base"] = error
        return self.async_show_form(
            step_id="bambu",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema(
                    {
                        vol.Required(CONF_HOST): str,
                        vol.Required(CONF_SERIAL): str,
                        vol.Required(CONF_ACCESS_CODE): PASSWORD_SELECTOR,
                    }
                ),
                user_input,
            ),
            errors=errors,
        )

    async def async_step_integration_discovery(
        self, discovery_info: dict[str, Any]
    ) -> ConfigFlowResult:
        """A Bambu Lab printer announced itself, or the library is offered."""
        if discovery_info.get(CONF_ENTRY_KIND) == ENTRY_KIND_LIBRARY:
            self.context["title_placeholders"] = {"name": LIBRARY_TITLE}
            return await self.async_step_library()
        serial = str(discovery_info[CONF_SERIAL]).upper()
        host = str(discovery_info[CONF_HOST])
        await self.async_set_unique_id(serial)
        for entry in self._async_current_entries(include_ignore=False):
            if entry.unique_id == serial and CONF_HOST in entry.data:
                _, port = split_host_port(entry.data[CONF_HOST], 0)
                if port:  # keep a non-standard port (e.g. the simulator's)
                    host = f"{host}:{port}"
        self._abort_if_unique_id_configured(updates={CONF_HOST: host})
        self._discovered = {
            CONF_HOST: host,
            CONF_SERIAL: serial,
            "model": discovery_info.get("model") or "Bambu Lab",
            "name": discovery_info.get("name") or serial,
        }
        self.context["title_placeholders"] = {"name": self._discovered["name"]}
        return await self.async_step_bambu_confirm()

    async def async_step_bambu_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask only for the access code of a discovered printer."""
        errors: dict[str, str] = {}
        if user_input is not None:
            data = {
                CONF_FAMILY: FAMILY_BAMBU,
                CONF_HOST: self._discovered[CONF_HOST],
                CONF_SERIAL: self._discovered[CONF_SERIAL],
                CONF_ACCESS_CODE: user_input[CONF_ACCESS_CODE].strip(),
            }
            info, error = await async_validate(self.hass, data)
            if error is None:
                return self.async_create_entry(
                    title=self._discovered["name"] or _bambu_title(info, data[CONF_SERIAL]),
                    data=data,
                )
            errors["base"] = error
        return self.async_show_form(
            step_id="bambu_confirm",
            data_schema=vol.Schema({vol.Required(CONF_ACCESS_CODE): PASSWORD_SELECTOR}),
            description_placeholders={
                "name": self._discovered["name"],
                "model": self._discovered["model"],
                "host": self._discovered[CONF_HOST],
            },
            errors=errors,
        )

    # --- Prusa (PrusaLink) ---------------------------------------------------

    async def async_step_prusa(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Host, username and password of a PrusaLink printer."""
        errors: dict[str, str] = {}
        if user_input is not None:
            host = _normalize_prusa_host(user_input[CONF_HOST])
            if host is None:
                errors[CONF_HOST] = "invalid_host"
            else:
                data = {
                    CONF_FAMILY: FAMILY_PRUSA,
                    CONF_HOST: host,
                    CONF_USERNAME: user_input.get(CONF_USERNAME) or DEFAULT_PRUSA_USERNAME,
                    CONF_PASSWORD: user_input[CONF_PASSWORD],
                }
                info, error = await async_validate(self.hass, data)
                if error is None:
                    unique_id, fallback = _prusa_unique_id(info, host)
                    await self.async_set_unique_id(unique_id)
                    self._abort_if_unique_id_configured(updates={CONF_HOST: host})
                    self._pending = {
                        "title": (info.name if info else None) or host,
                        "data": data,
                    }
                    if fallback:
                        return await self.async_step_prusa_no_serial()
                    return self.async_create_entry(**self._pending)
                errors["base"] = error
        defaults = user_input or {CONF_HOST: self._discovered.get(CONF_HOST, "")}
        return self.async_show_form(
            step_id="prusa",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema(
                    {
                        vol.Required(CONF_HOST): str,
                        vol.Optional(CONF_USERNAME, default=DEFAULT_PRUSA_USERNAME): str,
                        vol.Required(CONF_PASSWORD): PASSWORD_SELECTOR,
                    }
                ),
                {k: v for k, v in defaults.items() if k != CONF_PASSWORD},
            ),
            errors=errors,
        )

    async def async_step_prusa_no_serial(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Say that the printer is identified by its host name, not a serial."""
        if user_input is not None:
            return self.async_create_entry(**self._pending)
        _LOGGER.warning(
            "%s reports no serial number; identifying it as %s instead",
            self._pending["data"][CONF_HOST],
            self.unique_id,
        )
        return self.async_show_form(
            step_id="prusa_no_serial",
            data_schema=vol.Schema({}),
            description_placeholders={
                "name": self._pending["title"],
                "id": str(self.unique_id),
            },
        )

    async def async_step_dhcp(self, discovery_info: DhcpServiceInfo) -> ConfigFlowResult:
        """A device with Prusa Research's MAC prefix got an address."""
        from .api.prusalink.client import async_probe  # noqa: PLC0415

        mac = discovery_info.macaddress
        port = f":{PRUSALINK_DHCP_PORT}" if PRUSALINK_DHCP_PORT != 80 else ""
        host = f"http://{discovery_info.ip}{port}"
        await self.async_set_unique_id(f"mac_{mac}")
        self._abort_if_unique_id_configured()
        scheme = await async_probe(get_async_client(self.hass), host)
        if scheme is None:
            return self.async_abort(reason="not_prusalink")
        # A known printer that moved: its MAC tells, or its own credentials do.
        # Credentials are only tried where they stay secret: a digest answer
        # never reveals the password, an API key would travel in clear text
        # to a device we do not know yet.
        for entry in self._async_current_entries(include_ignore=False):
            if entry.data.get(CONF_FAMILY) != FAMILY_PRUSA:
                continue
            same_host = entry.data.get(CONF_HOST) == host
            known = same_host or entry.data.get("mac") == mac
            if not known and scheme in ("digest", "open"):
                info, error = await async_validate(self.hass, {**entry.data, CONF_HOST: host})
                known = error is None and _prusa_unique_id(info, host)[0] == entry.unique_id
            if known:
                if not same_host or entry.data.get("mac") != mac:
                    self.hass.config_entries.async_update_entry(
                        entry, data={**entry.data, CONF_HOST: host, "mac": mac}
                    )
                if not same_host:
                    self.hass.config_entries.async_schedule_reload(entry.entry_id)
                return self.async_abort(reason="already_configured")
        self._discovered = {CONF_HOST: host, "mac": mac}
        self.context["title_placeholders"] = {"name": discovery_info.hostname or host}
        return await self.async_step_prusa_confirm()

    async def async_step_prusa_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the password of a discovered Prusa printer."""
        errors: dict[str, str] = {}
        host = self._discovered[CONF_HOST]
        if user_input is not None:
            data = {
                CONF_FAMILY: FAMILY_PRUSA,
                CONF_HOST: host,
                CONF_USERNAME: user_input.get(CONF_USERNAME) or DEFAULT_PRUSA_USERNAME,
                CONF_PASSWORD: user_input[CONF_PASSWORD],
                "mac": self._discovered["mac"],
            }
            info, error = await async_validate(self.hass, data)
            if error is None:
                unique_id, fallback = _prusa_unique_id(info, host)
                await self.async_set_unique_id(unique_id, raise_on_progress=False)
                self._abort_if_unique_id_configured(updates={CONF_HOST: host, "mac": data["mac"]})
                self._pending = {"title": (info.name if info else None) or host, "data": data}
                if fallback:
                    return await self.async_step_prusa_no_serial()
                return self.async_create_entry(**self._pending)
            errors["base"] = error
        return self.async_show_form(
            step_id="prusa_confirm",
            data_schema=vol.Schema(
                {
                    vol.Optional(CONF_USERNAME, default=DEFAULT_PRUSA_USERNAME): str,
                    vol.Required(CONF_PASSWORD): PASSWORD_SELECTOR,
                }
            ),
            description_placeholders={"host": host},
            errors=errors,
        )

    # --- reauth and reconfigure (both families) ------------------------------

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """The printer refused the stored credentials."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the new access code / password."""
        entry = self._get_reauth_entry()
        bambu = entry.data[CONF_FAMILY] == FAMILY_BAMBU
        key = CONF_ACCESS_CODE if bambu else CONF_PASSWORD
        errors: dict[str, str] = {}
        if user_input is not None:
            updates = {key: user_input[key].strip() if bambu else user_input[key]}
            _, error = await async_validate(self.hass, {**entry.data, **updates}, entry.options)
            if error is None:
                return self.async_update_reload_and_abort(entry, data_updates=updates)
            errors["base"] = error
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=vol.Schema({vol.Required(key): PASSWORD_SELECTOR}),
            description_placeholders={"name": entry.title},
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the printer's address."""
        entry = self._get_reconfigure_entry()
        bambu = entry.data[CONF_FAMILY] == FAMILY_BAMBU
        errors: dict[str, str] = {}
        if user_input is not None:
            host: str | None = user_input[CONF_HOST].strip()
            if not bambu:
                host = _normalize_prusa_host(user_input[CONF_HOST])
            if not host:
                errors[CONF_HOST] = "invalid_host"
            else:
                data = {**entry.data, CONF_HOST: host}
                info, error = await async_validate(self.hass, data, entry.options)
                if error is None and not bambu:
                    await self.async_set_unique_id(_prusa_unique_id(info, host)[0])
                    self._abort_if_unique_id_mismatch(reason="wrong_printer")
                if error is None:
                    return self.async_update_reload_and_abort(entry, data_updates={CONF_HOST: host})
                errors["base"] = error
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema({vol.Required(CONF_HOST): str}),
                {CONF_HOST: entry.data[CONF_HOST]},
            ),
            errors=errors,
        )


def _bambu_title(info: PrinterInfo | None, serial: str) -> str:
    if info is not None and info.name:
        return info.name
    model = info.model if info is not None and info.model else "Bambu Lab"
    return f"{model} {serial[-4:]}"


class PrinternizerOptionsFlow(OptionsFlow):
    """Options of a Bambu Lab printer."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Allow an unverified TLS connection (off by default)."""
        if user_input is not None:
            return self.async_create_entry(data=user_input)
        return self.async_show_form(
            step_id="init",
            data_schema=vol.Schema(
                {
                    vol.Required(
                        CONF_INSECURE_TLS,
                        default=self.config_entry.options.get(CONF_INSECURE_TLS, False),
                    ): bool,
                }
            ),
        )
