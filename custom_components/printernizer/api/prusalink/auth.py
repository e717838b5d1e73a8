"""PrusaLink authentication: HTTP Digest or ``X-Api-Key``, chosen by the challenge.

PrusaLink printers answer an unauthenticated request with ``401`` and either
``WWW-Authenticate: Digest ...`` (current firmware) or
``WWW-Authenticate: ApiKey ...`` (older set-ups, which take an ``X-Api-Key``
header). :class:`PrusaLinkAuth` sends the first request without credentials,
reads the challenge, and from then on uses the scheme the printer asked for.

The digest computation is httpx's own (:class:`httpx.DigestAuth`);
:class:`LegacyDigestAuth` only drops the ``algorithm=`` parameter when the
challenge had no ``qop`` (RFC 2069 style): Prusa Buddy firmware sends such a
challenge and rejects answers that carry ``algorithm=``.

Downloads do not go through httpx (see files.py); for them
:meth:`PrusaLinkAuth.answer_challenge` turns a 401's challenges into request
headers with the same code (:func:`digest_authorization` runs
:class:`LegacyDigestAuth`'s flow on a request that is never sent).
"""

from __future__ import annotations

import logging
from collections.abc import Generator, Iterable
from typing import Literal

import httpx

_LOGGER = logging.getLogger(__name__)

AuthMode = Literal["digest", "apikey"]

API_KEY_HEADER = "X-Api-Key"


class LegacyDigestAuth(httpx.DigestAuth):
    """httpx digest auth that omits ``algorithm=`` when the challenge had no ``qop``.

    httpx always adds ``algorithm=MD5`` to its answer; for a challenge without
    ``qop`` (RFC 2069) Prusa firmware then rejects the request. Without ``qop``
    httpx does not add ``qop``/``nc``/``cnonce`` fields either, so the absence
    of ``qop`` in the header fields tells which kind of challenge it was.
    """

    def _get_header_value(self, header_fields: dict[str, bytes]) -> str:
        if "qop" not in header_fields:
            header_fields = {k: v for k, v in header_fields.items() if k != "algorithm"}
        return super()._get_header_value(header_fields)


def digest_authorization(
    username: str, password: str, method: str, url: str, challenge: str
) -> str | None:
    """The ``Authorization`` value answering the digest ``challenge`` for ``method url``.

    Pure (no I/O): :class:`LegacyDigestAuth`'s own flow is run on a request that
    is never sent, so a download answers exactly as the httpx requests do (qop
    or the no-qop quirk). None when ``challenge`` is not a digest challenge.
    Raises what httpx raises for a challenge it cannot answer
    (``NotImplementedError`` for auth-int only, ``httpx.ProtocolError`` when
    malformed).
    """
    request = httpx.Request(method, url)
    flow = LegacyDigestAuth(username, password).auth_flow(request)
    next(flow)
    challenged = httpx.Response(401, headers={"WWW-Authenticate": challenge}, request=request)
    try:
        answered = flow.send(challenged)
    except StopIteration:
        return None
    flow.close()
    header: str | None = answered.headers.get("Authorization")
    return header


def _scheme(values: Iterable[str]) -> str | None:
    """The lower-case auth scheme the ``WWW-Authenticate`` values ask for (digest first)."""
    schemes = [value.strip().split(" ", 1)[0].lower() for value in values if value.strip()]
    if "digest" in schemes:
        return "digest"
    if "apikey" in schemes:
        return "apikey"
    return schemes[0] if schemes else None


def challenge_scheme(response: httpx.Response) -> str | None:
    """Return the lower-case auth scheme a 401 response asks for (digest first)."""
    return _scheme(response.headers.get_list("www-authenticate"))


class PrusaLinkAuth(httpx.Auth):
    """httpx auth flow for PrusaLink: digest or API key, chosen by the printer's challenge.

    ``mode`` is ``None`` until the printer sent a challenge, then ``"digest"``
    or ``"apikey"``. The same secret is the digest password or the API key.
    """

    def __init__(self, username: str, password: str) -> None:
        """Store the credentials (never logged)."""
        self._username = username
        self._password = password
        self._digest = LegacyDigestAuth(username, password)
        self.mode: AuthMode | None = None

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
        """Authenticate ``request`` with the known scheme, or find the scheme first."""
        if self.mode == "apikey":
            request.headers[API_KEY_HEADER] = self._password
            yield request
            return
        if self.mode == "digest":
            yield from self._digest.auth_flow(request)
            return

        response = yield request
        if response.status_code != 401:
            return
        scheme = challenge_scheme(response)
        if scheme == "digest":
            _LOGGER.debug("PrusaLink asks for digest auth")
            self.mode = "digest"
            # httpx's flow resends once without credentials to read the challenge
            # itself; this happens only for the first request of a client.
            yield from self._digest.auth_flow(request)
        elif scheme == "apikey":
            _LOGGER.debug("PrusaLink asks for API key auth")
            self.mode = "apikey"
            request.headers[API_KEY_HEADER] = self._password
            yield request
        else:
            _LOGGER.debug("PrusaLink sent an unknown auth challenge: %s", scheme)

    def initial_headers(self) -> dict[str, str]:
        """Headers for a request outside httpx before any challenge: the API key once known.

        A digest answer needs the printer's fresh nonce, so digest requests
        start without credentials and answer the 401 (:meth:`answer_challenge`).
        """
        return {API_KEY_HEADER: self._password} if self.mode == "apikey" else {}

    def answer_challenge(self, method: str, url: str, challenges: list[str]) -> dict[str, str]:
        """Headers answering a 401's ``WWW-Authenticate`` values for ``method url``.

        Digest (preferred) or API key, as :meth:`auth_flow` chooses; records the
        mode. Empty for an unknown scheme (the retry then gets 401 again).
        """
        scheme = _scheme(challenges)
        if scheme == "apikey":
            self.mode = "apikey"
            return {API_KEY_HEADER: self._password}
        if scheme != "digest":
            _LOGGER.debug("PrusaLink sent an unknown auth challenge: %s", scheme)
            return {}
        digest = next(c for c in challenges if _scheme([c]) == "digest")
        self.mode = "digest"
        header = digest_authorization(self._username, self._password, method, url, digest)
        return {"Authorization": header} if header else {}
