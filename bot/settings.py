"""Environment variables the bot reads at start-up (pydantic-settings)."""
from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SLACK_API_URL = "https://slack.com/api/"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore", case_sensitive=False)

    slack_bot_token: str = Field(..., description="Bot token, xoxb-…")
    slack_app_token: str = Field(..., description="App-level token for Socket Mode, xapp-…")
    slack_api_url: str = DEFAULT_SLACK_API_URL
    database_url: str = "sqlite+aiosqlite:///tocsin.db"
    incident_config: Path | None = None
    log_level: str = "INFO"

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token(cls, value: str) -> str:
        if not value.startswith("xoxb-"):
            raise ValueError("must be a bot token starting with xoxb-")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, value: str) -> str:
        if not value.startswith("xapp-"):
            raise ValueError("must be an app-level token starting with xapp- (Socket Mode)")
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        value = value.strip() or DEFAULT_SLACK_API_URL
        return value if value.endswith("/") else value + "/"

    def config_path(self) -> Path | None:
        """INCIDENT_CONFIG, else incident.yml in the working directory when present, else None (built-ins)."""
        if self.incident_config is not None:
            return self.incident_config
        default = Path("incident.yml")
        return default if default.exists() else None
