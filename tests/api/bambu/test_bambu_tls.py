"""api/bambu/tls.py: the peer certificate's common name (pure) and the contexts."""

from __future__ import annotations

import ssl

from custom_components.printernizer.api.bambu.tls import create_ssl_context, peer_common_name


def test_peer_common_name() -> None:
    """The subject's CN; None without a certificate or without a CN."""
    cert = {
        "subject": (
            (("countryName", "CN"),),
            (("organizationName", "BBL Technologies Co., Ltd"),),
            (("commonName", "01P00A000000001"),),
        )
    }
    assert peer_common_name(cert) == "01P00A000000001"
    assert peer_common_name(None) is None
    assert peer_common_name({}) is None
    assert peer_common_name({"subject": ((("organizationName", "Bambu"),),)}) is None


def test_contexts() -> None:
    """Verified: CERT_REQUIRED without hostname check or X509 strict; insecure: CERT_NONE."""
    ctx = create_ssl_context()
    assert ctx.verify_mode == ssl.CERT_REQUIRED
    assert not ctx.check_hostname
    assert not ctx.verify_flags & ssl.VERIFY_X509_STRICT
    assert ctx.get_ca_certs()
    insecure = create_ssl_context(insecure=True)
    assert insecure.verify_mode == ssl.CERT_NONE
