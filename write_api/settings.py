"""Settings of the write API: one frozen object, loaded once and injected.

Environment prefix ``RUSTOK_WRITE_``. ``platform_token`` is the bootstrap credential for
platform administration (creating tenants, switching their modules); without it those
routes answer 401.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_SECRET = "rustok-development-secret-change-me"  # noqa: S105 - refused outside development


class WriteApiSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RUSTOK_WRITE_", frozen=True, extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: SecretStr
    jwt_secret: SecretStr = SecretStr(DEVELOPMENT_SECRET)
    platform_token: SecretStr | None = None
    access_token_seconds: int = Field(default=900, ge=30, le=86_400)
    refresh_token_seconds: int = Field(default=30 * 86_400, ge=60)
    max_body_bytes: int = Field(default=1 << 20, ge=1024)
    max_import_bytes: int = Field(default=32 << 20, ge=1024)
    pool_size: int = Field(default=10, ge=1, le=200)
    # argon2 cost; tests lower it, production keeps the library's recommended defaults.
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=65_536, ge=8)

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> WriteApiSettings:
        if self.environment != "development":
            if self.jwt_secret.get_secret_value() == DEVELOPMENT_SECRET:
                raise ValueError("RUSTOK_WRITE_JWT_SECRET must be set outside development")
            if len(self.jwt_secret.get_secret_value()) < 32:
                raise ValueError("RUSTOK_WRITE_JWT_SECRET must be at least 32 characters")
        if self.platform_token is not None and len(self.platform_token.get_secret_value()) < 24:
            raise ValueError("RUSTOK_WRITE_PLATFORM_TOKEN must be at least 24 characters")
        return self
