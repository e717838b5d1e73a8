"""Server-side HTTP Digest verification for the PrusaLink simulator (hand-written on purpose).

Two flavours:

* ``qop=True``: RFC 7616 MD5 with ``qop=auth`` (``nc``/``cnonce`` required).
* ``qop=False``: the legacy (RFC 2069) challenge Prusa Buddy firmware sends:
  no ``qop`` in the challenge, and an answer that carries ``algorithm=`` is
  rejected (the firmware quirk clients have to handle).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from urllib.request import parse_http_list, parse_keqv_list


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def parse_authorization(header: str) -> dict[str, str] | None:
    """Parse ``Digest k=v, ...``; None when it is not a digest header or is malformed."""
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != "digest" or not rest:
        return None
    try:
        return parse_keqv_list(parse_http_list(rest))
    except ValueError:
        return None


@dataclass
class DigestVerifier:
    """Issues nonces and checks digest answers."""

    realm: str
    qop: bool = True
    issued: set[str] = field(default_factory=set)
    #: Why the last check failed (for tests and debugging).
    last_failure: str | None = None
    #: The parameters of the last Authorization header seen.
    last_params: dict[str, str] | None = None

    def challenge(self) -> str:
        """Return a fresh ``WWW-Authenticate`` value."""
        nonce = secrets.token_hex(16)
        self.issued.add(nonce)
        if self.qop:
            return f'Digest realm="{self.realm}", qop="auth", algorithm=MD5, nonce="{nonce}"'
        return f'Digest realm="{self.realm}", nonce="{nonce}", stale=FALSE'

    def expire_nonces(self) -> None:
        """Forget every issued nonce (as the firmware does after a while): clients must
        answer a fresh challenge."""
        self.issued.clear()

    def _fail(self, reason: str) -> bool:
        self.last_failure = reason
        return False

    def verify(
        self, header: str | None, method: str, uri: str, username: str, password: str
    ) -> bool:
        """Check an ``Authorization`` header against the expected credentials."""
        if not header:
            return self._fail("no authorization header")
        params = parse_authorization(header)
        if params is None:
            return self._fail("not a digest authorization")
        self.last_params = params
        required = ("username", "realm", "nonce", "uri", "response")
        if any(key not in params for key in required):
            return self._fail("missing digest fields")
        if params["nonce"] not in self.issued:
            return self._fail("unknown nonce")
        if params["realm"] != self.realm:
            return self._fail("wrong realm")
        if params["uri"] != uri:
            return self._fail("uri mismatch")
        if not hmac.compare_digest(params["username"], username):
            return self._fail("wrong username")
        ha1 = _md5(f"{username}:{self.realm}:{password}")
        ha2 = _md5(f"{method}:{uri}")
        if self.qop:
            if params.get("qop") != "auth" or "nc" not in params or "cnonce" not in params:
                return self._fail("qop=auth with nc and cnonce required")
            algorithm = params.get("algorithm", "MD5")
            if algorithm.upper() != "MD5":
                return self._fail("only MD5 supported")
            expected = _md5(f"{ha1}:{params['nonce']}:{params['nc']}:{params['cnonce']}:auth:{ha2}")
        else:
            if "algorithm" in params:
                # The firmware quirk: a legacy challenge answered with algorithm= fails.
                return self._fail("algorithm= not accepted for a challenge without qop")
            if "qop" in params:
                return self._fail("qop not offered")
            expected = _md5(f"{ha1}:{params['nonce']}:{ha2}")
        if not hmac.compare_digest(params["response"], expected):
            return self._fail("wrong response (password)")
        self.last_failure = None
        return True
