"""The settings of a local run (`make run`), from the environment, checked once.

| name | default | meaning |
| LISTEN_HOST | 127.0.0.1 | the address both processes listen on (0.0.0.0: every interface) |
| WEB_PORT | 3000 | the web app's port |
| API_PORT | 8000 | the task API's port |
| LOG_REQUESTS | 0 | 1: the task API logs a JSON line per request |

`LISTEN_HOST` rather than `HOST`: some shells (tcsh) export HOST as the machine's name, which
would quietly serve every interface.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

DEFAULTS = {"LISTEN_HOST": "127.0.0.1", "WEB_PORT": "3000", "API_PORT": "8000"}
WILDCARDS = {"0.0.0.0": "127.0.0.1", "::": "::1"}  # noqa: S104 (what a wildcard is reached by)


class SettingError(Exception):
    """A setting is wrong; the message is one line naming it."""


@dataclass(frozen=True)
class LocalSettings:
    host: str
    web_port: int
    api_port: int
    log_requests: bool

    @property
    def api_url(self) -> str:
        """Where the web app (and the readiness check) reach the task API."""
        return f"http://{url_host(WILDCARDS.get(self.host, self.host))}:{self.api_port}"

    def web_url(self, path: str = "") -> str:
        """Where the readiness check reaches the web app (not the address people open)."""
        return f"http://{url_host(WILDCARDS.get(self.host, self.host))}:{self.web_port}{path}"


def read_settings(env: Mapping[str, str]) -> LocalSettings:
    """Raises SettingError for a port that is not 1 to 65535, two equal ports, or an empty host."""
    value = {name: (env.get(name) or default).strip() for name, default in DEFAULTS.items()}
    ports = {name: _port(name, value[name]) for name in ("WEB_PORT", "API_PORT")}
    if ports["WEB_PORT"] == ports["API_PORT"]:
        raise SettingError(f"WEB_PORT and API_PORT are both {ports['WEB_PORT']}; choose two ports")
    host = value["LISTEN_HOST"].strip("[]")
    if not host:
        raise SettingError("LISTEN_HOST is empty; use 127.0.0.1 (the default) or an address")
    return LocalSettings(
        host=host,
        web_port=ports["WEB_PORT"],
        api_port=ports["API_PORT"],
        log_requests=env.get("LOG_REQUESTS", "").strip().lower() in ("1", "true", "yes", "on"),
    )


def _port(name: str, text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise SettingError(f"{name} must be a port number from 1 to 65535, not {text!r}")
    return int(text)


def url_host(host: str) -> str:
    """The host as it goes in a URL: an IPv6 address in brackets."""
    return f"[{host}]" if ":" in host else host


def is_loopback(host: str) -> bool:
    """localhost (and its subdomains, RFC 6761 §6.3), 127.0.0.0/8 or ::1."""
    name = host.strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def local_origin(configured: str | None, settings: LocalSettings) -> str | None:
    """BETTER_AUTH_URL for this run: a loopback origin moved to WEB_PORT (the port this run
    serves on), so that a port chosen with WEB_PORT is the one Better Auth expects. None for an
    origin that is not loopback (a proxy in front, say): that one is left as configured."""
    parts = urlsplit(configured or f"http://localhost:{DEFAULTS['WEB_PORT']}")
    if not parts.hostname or not is_loopback(parts.hostname):
        return None
    return f"{parts.scheme}://{url_host(parts.hostname)}:{settings.web_port}"
