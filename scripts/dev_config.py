"""Write the development configuration for scripts/develop.

Creates .dev/config/configuration.yaml (the integrations Home Assistant needs here,
instead of default_config, which fails without go2rtc, ffmpeg and libpcap), links the
integration in, and adds config entries for the simulated printers unless they exist.
"""

from __future__ import annotations

import argparse
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

CONFIGURATION = """\
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--bambu-port", type=int, required=True)
    parser.add_argument("--bambu-ftps-port", type=int, default=None)
    parser.add_argument("--bambu-serial", required=True)
    parser.add_argument("--bambu-access-code", required=True)
    parser.add_argument("--bambu-ca", required=True)
    parser.add_argument("--prusa-port", type=int, required=True)
    parser.add_argument("--prusa-password", required=True)
    parser.add_argument("--prusa-serial", required=True)
    args = parser.parse_args()

    config: Path = args.config
    config.mkdir(parents=True, exist_ok=True)
    if not (config / "configuration.yaml").exists():
        (config / "configuration.yaml").write_text(CONFIGURATION)
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

    def upsert(unique_id: str, title: str, data: dict) -> None:
        for entry in entries:
            if entry["domain"] == "printernizer" and entry.get("unique_id") == unique_id:
                entry["data"].update(data)  # e.g. the simulator's new CA file
                return
        entries.append(
            {
                "entry_id": uuid.uuid4().hex,
                "version": 1,
                "minor_version": 1,
                "domain": "printernizer",
                "title": title,
                "data": data,
                "options": {},
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
    # The library entry, so a print on each simulator lands in the library
    # (<config>/printernizer/library, under .dev/).
    upsert("printernizer_library", "Printernizer library", {"kind": "library"})
    path.write_text(json.dumps(store, indent=2))


if __name__ == "__main__":
    main()
