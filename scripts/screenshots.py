"""Take README's screenshots from the real UI of scripts/develop (headless Chromium).

Start ``scripts/develop`` first, then run ``scripts/screenshots`` (it calls this file).
Playwright drives Debian's ``chromium`` (``apt-get install -y chromium``) through its
``executable_path``: Playwright's own browser download is not used. On a fresh
``.dev/`` the script completes Home Assistant's onboarding itself (user ``dev``).

Writes docs/screenshots/device.png, dashboard.png and config_flow.png.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path
from typing import Any

import aiohttp
from playwright.async_api import Page, async_playwright

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
VIEWPORT = {"width": 1280, "height": 860}


async def _tokens(session: aiohttp.ClientSession, url: str, user: str, password: str) -> Any:
    """Onboard (a fresh instance) or log in; return the token response."""
    client_id = f"{url}/"
    async with session.get(f"{url}/api/onboarding") as resp:
        steps = {step["step"]: step["done"] for step in await resp.json()}
    if not steps.get("user", True):
        async with session.post(
            f"{url}/api/onboarding/users",
            json={
                "client_id": client_id,
                "name": "Developer",
                "username": user,
                "password": password,
                "language": "en",
            },
        ) as resp:
            resp.raise_for_status()
            code = (await resp.json())["auth_code"]
    else:
        async with session.post(
            f"{url}/auth/login_flow",
            json={
                "client_id": client_id,
                "handler": ["homeassistant", None],
                "redirect_uri": client_id,
            },
        ) as resp:
            flow = await resp.json()
        async with session.post(
            f"{url}/auth/login_flow/{flow['flow_id']}",
            json={"client_id": client_id, "username": user, "password": password},
        ) as resp:
            code = (await resp.json())["result"]
    async with session.post(
        f"{url}/auth/token",
        data={"grant_type": "authorization_code", "code": code, "client_id": client_id},
    ) as resp:
        resp.raise_for_status()
        tokens = await resp.json()
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    for step, body in (
        ("core_config", {}),
        ("analytics", {}),
        ("integration", {"client_id": client_id, "redirect_uri": client_id}),
    ):
        if not steps.get(step, True):
            async with session.post(
                f"{url}/api/onboarding/{step}", json=body, headers=headers
            ) as resp:
                resp.raise_for_status()
    return tokens


async def _template(session: aiohttp.ClientSession, url: str, token: str, template: str) -> Any:
    async with session.post(
        f"{url}/api/template",
        json={"template": template},
        headers={"Authorization": f"Bearer {token}"},
    ) as resp:
        resp.raise_for_status()
        return json.loads(await resp.text())


async def _settle(page: Page, seconds: float = 4) -> None:
    await page.wait_for_load_state("networkidle")
    await page.wait_for_timeout(seconds * 1000)


DASHBOARD = {
    "title": "Printers",
    "views": [
        {
            "title": "Printers",
            "cards": [
                {
                    "type": "vertical-stack",
                    "cards": [
                        {"type": "tile", "entity": "{status}"},
                        {
                            "type": "gauge",
                            "entity": "{progress}",
                            "name": "Progress",
                            "severity": {"green": 90, "yellow": 0},
                        },
                        {
                            "type": "entities",
                            "entities": [
                                "{current_job}",
                                "{remaining_time}",
                                "{end_time}",
                                "{nozzle_temperature}",
                                "{bed_temperature}",
                            ],
                        },
                    ],
                }
            ],
        }
    ],
}


def _dashboard(entities: dict[str, str]) -> dict[str, Any]:
    text = json.dumps(DASHBOARD)
    for key, entity_id in entities.items():
        text = text.replace("{" + key + "}", entity_id)
    result: dict[str, Any] = json.loads(text)
    return result


async def main() -> None:
    """Log in, then photograph the device page, a dashboard and the config flow."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:8123")
    parser.add_argument("--user", default="dev")
    parser.add_argument("--password", default="dev-password")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    url = args.url.rstrip("/")
    args.out.mkdir(parents=True, exist_ok=True)

    async with aiohttp.ClientSession() as session:
        tokens = await _tokens(session, url, args.user, args.password)
        token = tokens["access_token"]
        # the Bambu Lab printer (its status sensor says which device it is)
        status = await _template(
            session,
            url,
            token,
            "{{ integration_entities('printernizer') | select('match', 'sensor[.].*_status$')"
            " | list | to_json }}",
        )
        status_entity = sorted(status)[0]
        device_id = await _template(
            session, url, token, f"{{{{ device_id('{status_entity}') | to_json }}}}"
        )
        prefix = status_entity.removeprefix("sensor.").removesuffix("_status")
        entities = {
            key: f"sensor.{prefix}_{key}"
            for key in (
                "status",
                "progress",
                "current_job",
                "remaining_time",
                "end_time",
                "nozzle_temperature",
                "bed_temperature",
            )
        }

    stored = {
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": tokens["expires_in"],
        "refresh_token": tokens["refresh_token"],
        "hassUrl": url,
        "clientId": f"{url}/",
        "expires": int(time.time() * 1000) + tokens["expires_in"] * 1000,
    }
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True)
        context = await browser.new_context(viewport=VIEWPORT, color_scheme="light")
        # Signed in before the frontend's first script runs.
        await context.add_init_script(
            f"localStorage.setItem('hassTokens', {json.dumps(json.dumps(stored))});"
        )
        page = await context.new_page()
        await page.goto(f"{url}/config/devices/device/{device_id}")
        await _settle(page)
        await page.screenshot(path=str(args.out / "device.png"))

        await page.evaluate(
            """config => document.querySelector('home-assistant').hass.callWS(
                {type: 'lovelace/config/save', url_path: null, config: config})""",
            _dashboard(entities),
        )
        await page.goto(f"{url}/lovelace/0")
        await _settle(page)
        await page.screenshot(path=str(args.out / "dashboard.png"))

        await page.goto(f"{url}/config/integrations/dashboard/add?domain=printernizer")
        await _settle(page, 6)
        # "Do you want to set up Printernizer?" -> the menu -> the Bambu Lab form
        await page.get_by_role("button", name="OK").click()
        await _settle(page, 3)
        await page.get_by_text("Bambu Lab (LAN)").click()
        await _settle(page, 3)
        await page.screenshot(path=str(args.out / "config_flow.png"))
        await browser.close()
    for name in ("device.png", "dashboard.png", "config_flow.png"):
        print(args.out / name)


if __name__ == "__main__":
    asyncio.run(main())
