"""Write the development configuration for scripts/develop.

Creates <dev>/config/configuration.yaml (the integrations Home Assistant needs here,
instead of default_config, which fails without go2rtc, ffmpeg and libpcap), links the
integration in, and adds config entries for the simulated printers and the Printernizer
library (trending pointed at the trending simulator, a watch folder, auto-download on)
unless they exist.

configuration.yaml is the developer's to edit: it is written once, and rewritten only
while it is still exactly what an earlier version of this script wrote. What depends on
the run (Home Assistant's port, the watch folder's absolute path for
``allowlist_external_dirs``) lives in two small files it includes, rewritten every start.

The instance stays metric: configuration.yaml pins the unit system, and onboarding's
location step (whose answer would switch the running instance to the units of the country
guessed from the network, e.g. US units) is marked done before the first start, so the
browser only asks for the owner account.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

#: Included by configuration.yaml, rewritten on every start.
HTTP_FILE = "dev_http.yaml"
ALLOWLIST_FILE = "dev_allowlist.yaml"

CONFIGURATION = f"""\
# Development configuration written by scripts/develop (edit freely; it is kept).
homeassistant:
  name: Printernizer development
  unit_system: metric
  time_zone: UTC
  currency: EUR
  country: DE
  latitude: 52.52
  longitude: 13.40
  elevation: 34
  # The watch folder (<dev>/watch), written by scripts/develop on every start.
  allowlist_external_dirs: !include {ALLOWLIST_FILE}

# Port and address, written by scripts/develop on every start (HA_PORT, default 8123).
http: !include {HTTP_FILE}

# default_config, less what cannot run here (go2rtc, ffmpeg/stream, dhcp needs libpcap).
frontend:
config:
api:
history:
logbook:
person:
system_health:
search:
automation: !include automations.yaml
script: !include scripts.yaml
scene: !include scenes.yaml
# Printernizer's library in the media browser, job previews, the Print ideas list.
media_source:
image:
todo:

# Loads Printernizer before any printer exists, so Bambu Lab discovery listens.
printernizer:

logger:
  default: info
  logs:
    custom_components.printernizer: debug
    # The frontend pulls in camera, which logs an error when the system has no
    # libturbojpeg (as here). Nothing in this set-up uses a camera.
    homeassistant.components.camera.img_util: critical
"""

#: sha256 of the configuration.yaml earlier versions of this script wrote: such a file
#: was not edited and is replaced by the current one.
LEGACY_CONFIGURATIONS = frozenset(
    {
        "62a825d6a6b03680ac9247e5c737409ff8e5110c0f477de07f3e0c95c5c5ed16",
        "4ecdf417a2597b88ec4858d8a25bcca82134151eee51af3190523e8e95ae9481",
    }
)
#: What an edited configuration.yaml must contain for everything to work (else a warning).
REQUIRED_SNIPPETS = (
    ALLOWLIST_FILE,
    HTTP_FILE,
    "media_source:",
    "image:",
    "todo:",
)
#: Records the sha256 of the configuration.yaml this script wrote last.
WRITTEN_STAMP = ".dev_config.sha256"

#: Onboarding steps done before the first start: the location/units step
#: (configuration.yaml sets them) and analytics (a development instance reports nothing).
ONBOARDING_DONE = ("core_config", "analytics")

#: The Printernizer library entry (const.py: LIBRARY_UNIQUE_ID, CONF_ENTRY_KIND, OPT_*).
LIBRARY_UNIQUE_ID = "printernizer_library"
LIBRARY_TITLE = "Printernizer library"


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def write_configuration(config: Path) -> None:
    """Write configuration.yaml unless the developer edited it (then say what it lacks)."""
    path = config / "configuration.yaml"
    stamp = config / WRITTEN_STAMP
    if path.exists():
        current = _sha256(path.read_text())
        written = stamp.read_text().strip() if stamp.exists() else None
        if current == _sha256(CONFIGURATION):
            return
        if current not in LEGACY_CONFIGURATIONS and current != written:
            text = path.read_text()
            missing = [s for s in REQUIRED_SNIPPETS if s not in text]
            if missing:
                print(
                    f"{path} was edited and lacks {', '.join(missing)}: see CONFIGURATION in "
                    "scripts/dev_config.py (or delete the file to get the current one).",
                    file=sys.stderr,
                )
            return
    path.write_text(CONFIGURATION)
    stamp.write_text(_sha256(CONFIGURATION) + "\n")


def write_run_files(config: Path, http_port: int, allowed: list[Path]) -> None:
    """The files configuration.yaml includes: port and the allowed folders."""
    (config / HTTP_FILE).write_text(
        "# Written by scripts/develop on every start.\n"
        f"server_host: 127.0.0.1\nserver_port: {http_port}\n"
    )
    lines = "".join(f"- {json.dumps(str(p))}\n" for p in allowed)
    (config / ALLOWLIST_FILE).write_text(
        "# Written by scripts/develop on every start.\n" + (lines or "[]\n")
    )


def seed_onboarding(storage: Path) -> None:
    """Mark the onboarding steps the development configuration answers as done."""
    path = storage / "onboarding"
    if path.exists():
        store = json.loads(path.read_text())
    else:
        # Home Assistant's onboarding store (homeassistant/components/onboarding).
        store = {"version": 4, "minor_version": 1, "key": "onboarding", "data": {"done": []}}
    done: list[str] = store["data"]["done"]
    missing = [step for step in ONBOARDING_DONE if step not in done]
    if missing:
        done.extend(missing)
        path.write_text(json.dumps(store, indent=2))


def library_entry(
    trending_url: str | None, watch_folder: Path | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Data and options of the development library entry."""
    data: dict[str, Any] = {"kind": "library"}
    options: dict[str, Any] = {
        "library_folder": "",  # the default, <config>/printernizer/library
        "auto_download": True,
        "watch_folders": [str(watch_folder)] if watch_folder else [],
    }
    if trending_url:
        # Both sites on one simulator (hidden data keys; const.py CONF_*_URL).
        data |= {
            "makerworld_url": trending_url,
            "printables_url": trending_url,
            "printables_media_url": trending_url,
        }
        options |= {
            "trending_makerworld": True,
            "trending_printables": True,
            "trending_items": 20,
            "trending_interval": 6,
        }
    return data, options


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--http-port", type=int, default=8123)
    parser.add_argument("--bambu-port", type=int, required=True)
    parser.add_argument("--bambu-ftps-port", type=int, default=None)
    parser.add_argument("--bambu-serial", required=True)
    parser.add_argument("--bambu-access-code", required=True)
    parser.add_argument("--bambu-ca", required=True)
    parser.add_argument("--prusa-port", type=int, required=True)
    parser.add_argument("--prusa-password", required=True)
    parser.add_argument("--prusa-serial", required=True)
    parser.add_argument("--trending-url", help="the trending simulator's base URL")
    parser.add_argument("--watch-folder", type=Path, help="the library's watch folder")
    return parser


def main() -> None:
    args = _parser().parse_args()

    config: Path = args.config
    config.mkdir(parents=True, exist_ok=True)
    write_configuration(config)
    watch: Path | None = args.watch_folder.resolve() if args.watch_folder else None
    if watch is not None:
        watch.mkdir(parents=True, exist_ok=True)
    write_run_files(config, args.http_port, [watch] if watch else [])
    for name, content in (
        ("automations.yaml", "[]\n"),
        ("scripts.yaml", "{}\n"),
        ("scenes.yaml", "[]\n"),
    ):
        if not (config / name).exists():
            (config / name).write_text(content)
    components = config / "custom_components"
    components.mkdir(exist_ok=True)
    link = components / "printernizer"
    target = Path(__file__).resolve().parents[1] / "custom_components" / "printernizer"
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(target)

    storage = config / ".storage"
    storage.mkdir(exist_ok=True)
    seed_onboarding(storage)
    path = storage / "core.config_entries"
    if path.exists():
        store = json.loads(path.read_text())
    else:
        store = {
            "version": 1,
            "minor_version": 1,
            "key": "core.config_entries",
            "data": {"entries": []},
        }
    entries = store["data"]["entries"]
    now = datetime.now(UTC).isoformat()

    def upsert(
        unique_id: str, title: str, data: dict[str, Any], options: dict[str, Any] | None = None
    ) -> None:
        for entry in entries:
            if entry["domain"] == "printernizer" and entry.get("unique_id") == unique_id:
                entry["data"].update(data)  # e.g. the simulator's new CA file or ports
                for key, value in (options or {}).items():
                    entry["options"].setdefault(key, value)  # what the developer set stays
                return
        entries.append(
            {
                "entry_id": uuid.uuid4().hex,
                "version": 1,
                "minor_version": 1,
                "domain": "printernizer",
                "title": title,
                "data": data,
                "options": options or {},
                "pref_disable_new_entities": False,
                "pref_disable_polling": False,
                "source": "user",
                "unique_id": unique_id,
                "disabled_by": None,
                "created_at": now,
                "modified_at": now,
                "discovery_keys": {},
            }
        )

    upsert(
        args.bambu_serial,
        "Simulated Bambu Lab P1P",
        {
            "family": "bambu_lab",
            "host": f"127.0.0.1:{args.bambu_port}",
            "serial": args.bambu_serial,
            "access_code": args.bambu_access_code,
            "ca_file": args.bambu_ca,
            # Hidden entry key: the simulator's FTPS port (a real printer uses 990).
            **({"ftps_port": args.bambu_ftps_port} if args.bambu_ftps_port else {}),
        },
    )
    upsert(
        args.prusa_serial,
        "Simulated Prusa MK4",
        {
            "family": "prusa",
            "host": f"http://127.0.0.1:{args.prusa_port}",
            "username": "maker",
            "password": args.prusa_password,
        },
    )
    # The library: a print on each simulator lands in <config>/printernizer/library.
    upsert(LIBRARY_UNIQUE_ID, LIBRARY_TITLE, *library_entry(args.trending_url, watch))
    path.write_text(json.dumps(store, indent=2))


if __name__ == "__main__":
    main()
