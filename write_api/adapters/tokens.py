"""JWT access and refresh tokens (PyJWT, HS256).

Both carry the tenant (``tid``), the user (``sub``) and the session (``sid``: the
refresh token family). Refresh tokens are also stored, hashed, so they can be rotated
and revoked; access tokens are short-lived and checked against their session.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from uuid import UUID

import jwt

from write_api.errors import Unauthenticated

TokenType = Literal["access", "refresh"]
_ALGORITHM = "HS256"


@dataclass(frozen=True, slots=True)
class Claims:
    tenant_id: UUID
    user_id: UUID
    session_id: UUID
    expires_at: datetime


_VERIFIED_CACHE = 10_000


class TokenCodec:
    """Issues and verifies tokens. Verified access tokens are remembered (by their exact
    text, so the signature check is the same one) until they expire: a client sends the
    same token with every request, and verifying it is a good part of a request's CPU.
    Expiry is still checked on every use; revocation is the session check's business."""

    def __init__(self, secret: str, access_seconds: int, refresh_seconds: int) -> None:
        self._secret = secret
        self.access_seconds = access_seconds
        self.refresh_seconds = refresh_seconds
        self._verified: dict[tuple[str, TokenType], Claims] = {}

    def issue(self, kind: TokenType, tenant_id: UUID, user_id: UUID, session_id: UUID) -> tuple[str, datetime]:
        now = datetime.now(UTC)
        expires = now + timedelta(seconds=self.access_seconds if kind == "access" else self.refresh_seconds)
        payload = {
            "typ": kind, "tid": str(tenant_id), "sub": str(user_id), "sid": str(session_id),
            "iat": now, "exp": expires, "jti": secrets.token_urlsafe(12),
        }
        return jwt.encode(payload, self._secret, algorithm=_ALGORITHM), expires

    def decode(self, token: str, kind: TokenType) -> Claims:
        if kind != "access":  # refresh tokens are used once: nothing to remember
            return self._verify(token, kind)
        claims = self._verified.get((token, kind))
        if claims is None:
            claims = self._verify(token, kind)
            if len(self._verified) >= _VERIFIED_CACHE:
                self._verified.clear()
            self._verified[(token, kind)] = claims
        if claims.expires_at <= datetime.now(UTC):
            self._verified.pop((token, kind), None)
            raise Unauthenticated("the token has expired")
        return claims

    def _verify(self, token: str, kind: TokenType) -> Claims:
        try:
            payload = jwt.decode(token, self._secret, algorithms=[_ALGORITHM], options={"require": ["exp", "sub", "tid", "sid"]})
            if payload.get("typ") != kind:
                raise Unauthenticated(f"not an {kind} token")
            return Claims(UUID(payload["tid"]), UUID(payload["sub"]), UUID(payload["sid"]),
                          datetime.fromtimestamp(payload["exp"], UTC))
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the token has expired") from None
        except (jwt.InvalidTokenError, ValueError, KeyError):
            raise Unauthenticated("the token is not valid") from None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
