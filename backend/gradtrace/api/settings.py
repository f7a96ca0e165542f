"""Every setting and limit of the service, in one place (environment prefix GRADTRACE_)."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

_REPO_ROOT = Path(__file__).resolve().parents[3]


class Settings(BaseSettings):
    """Configuration of one gradtrace server; each field can be set as GRADTRACE_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="GRADTRACE_", extra="ignore")

    frontend_dir: Path = _REPO_ROOT / "frontend"
    cors_origins: list[str] = []
