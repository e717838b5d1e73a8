"""TLS for Bambu Lab printers: Bambu's CA, no hostname check, serial as CN.

Creating a context reads certificate files: call :func:`create_ssl_context`
from an executor, never on the event loop.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

CERTS_DIR = Path(__file__).parent / "certs"


def shipped_ca_pem() -> str:
    """Return Bambu Lab's public CA certificates, concatenated (blocking I/O)."""
    return "\n".join(path.read_text(encoding="ascii") for path in sorted(CERTS_DIR.glob("*.cert")))


def create_ssl_context(*, insecure: bool = False, ca_file: str | None = None) -> ssl.SSLContext:
    """Create the client context (blocking: loads files).

    Verified mode: CERT_REQUIRED against Bambu's CA (or ``ca_file``), no
    hostname check (the CN is the serial, checked by :func:`check_peer_serial`)
    and without VERIFY_X509_STRICT (Bambu's CA certificates are not strict
    RFC 5280). Insecure mode verifies nothing.
    """
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    if insecure:
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.verify_flags &= ~ssl.VERIFY_X509_STRICT
    if ca_file is not None:
        ctx.load_verify_locations(cafile=ca_file)
    else:
        ctx.load_verify_locations(cadata=shipped_ca_pem())
    return ctx


def peer_common_name(peer_cert: dict[str, Any] | None) -> str | None:
    """Return the subject CN of a certificate dict from ``SSLSocket.getpeercert()``."""
    if not peer_cert:
        return None
    for rdn in peer_cert.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return str(value)
    return None
