"""Test certificate chain for the Bambu simulator (a CA that plays Bambu Lab's).

``load_or_make_chain`` keeps them in a state folder across restarts.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass(frozen=True, slots=True)
class CertChain:
    """PEM material: the CA that clients trust and the printer's cert + key."""

    ca_pem: str
    cert_pem: str
    key_pem: str


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Printernizer Simulator"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _make_ca(cn: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(_name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _issue(
    serial_cn: str, signer_key: ec.EllipticCurvePrivateKey, signer_cert: x509.Certificate
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A printer certificate with CN = ``serial_cn``, signed by the given CA."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(serial_cn))
        .issuer_name(signer_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer_key.public_key()),
            critical=False,
        )
        .sign(signer_key, hashes.SHA256())
    )
    return key, cert


def _cert_pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _key_pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def make_chain(serial: str, *, wrong_cn: bool = False, other_ca: bool = False) -> CertChain:
    """Create a CA and a printer certificate with CN = serial (blocking, CPU).

    ``wrong_cn`` issues the printer certificate for another serial;
    ``other_ca`` signs it with a second CA that is not the returned ``ca_pem``.
    """
    ca_key, ca_cert = _make_ca("Simulated BBL CA")
    signer_key, signer_cert = _make_ca("Some Other CA") if other_ca else (ca_key, ca_cert)
    key, cert = _issue("00M00A000000000" if wrong_cn else serial, signer_key, signer_cert)
    return CertChain(ca_pem=_cert_pem(ca_cert), cert_pem=_cert_pem(cert), key_pem=_key_pem(key))


#: Files of a state folder (see :func:`load_or_make_chain`).
CA_FILE = "ca.pem"
CA_KEY_FILE = "ca-key.pem"
CERT_FILE = "cert.pem"
KEY_FILE = "key.pem"


def _common_name(cert: x509.Certificate) -> str | None:
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else None


def load_or_make_chain(state_dir: Path, serial: str) -> CertChain:
    """Keep the CA and the printer certificate in ``state_dir``, like a real printer (blocking).

    The first start creates them; later starts reuse them, so a client that
    trusts the CA keeps connecting across simulator restarts. A certificate
    for another serial (or an expired one) is issued anew by the same CA.
    """
    state_dir.mkdir(parents=True, exist_ok=True)
    paths = {name: state_dir / name for name in (CA_FILE, CA_KEY_FILE, CERT_FILE, KEY_FILE)}
    if paths[CA_FILE].exists() and paths[CA_KEY_FILE].exists():
        ca_cert = x509.load_pem_x509_certificate(paths[CA_FILE].read_bytes())
        ca_key = serialization.load_pem_private_key(paths[CA_KEY_FILE].read_bytes(), None)
        if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{paths[CA_KEY_FILE]} is not an EC private key")
    else:
        ca_key, ca_cert = _make_ca("Simulated BBL CA")
        _write(paths[CA_KEY_FILE], _key_pem(ca_key), private=True)
        _write(paths[CA_FILE], _cert_pem(ca_cert))
    if paths[CERT_FILE].exists() and paths[KEY_FILE].exists():
        cert = x509.load_pem_x509_certificate(paths[CERT_FILE].read_bytes())
        now = datetime.datetime.now(datetime.UTC)
        if (
            _common_name(cert) == serial
            and cert.issuer == ca_cert.subject
            and cert.not_valid_after_utc > now
        ):
            return CertChain(
                ca_pem=_cert_pem(ca_cert),
                cert_pem=paths[CERT_FILE].read_text(),
                key_pem=paths[KEY_FILE].read_text(),
            )
    key, cert = _issue(serial, ca_key, ca_cert)
    _write(paths[KEY_FILE], _key_pem(key), private=True)
    _write(paths[CERT_FILE], _cert_pem(cert))
    return CertChain(ca_pem=_cert_pem(ca_cert), cert_pem=_cert_pem(cert), key_pem=_key_pem(key))


def _write(path: Path, text: str, *, private: bool = False) -> None:
    """Write atomically (temporary file, rename); private keys readable by the owner only."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    if private:
        os.chmod(tmp, 0o600)
    os.replace(tmp, path)
