"""Every setting Hypobot reads, from the environment (or .env), checked at start-up."""

from __future__ import annotations

from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cryptography.fernet import Fernet
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

MAKE_FERNET_KEY = (
    '$(python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())")'
)
# What a malformed or missing variable should look like, for the one-line start-up error.
EXAMPLES = {
    "SLACK_BOT_TOKEN": "xoxb-1234-5678-abcd",
    "SLACK_SIGNING_SECRET": "8f742231b10e8888abcd99yyyzzz85a5",
    "SLACK_CLIENT_ID": "1234567890.1234567890123",
    "SLACK_CLIENT_SECRET": "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
    "HYPOBOT_ENCRYPTION_KEY": MAKE_FERNET_KEY,
    "SLACK_APP_TOKEN": "xapp-1-A123-456-abcdef",
    "SLACK_API_URL": "https://slack.com/api/",
    "DATABASE_URL": "postgres://hypobot@db.internal:5432/hypobot",
    "HOST": "0.0.0.0",
    "PORT": "3000",
    "DEFAULT_TIMEZONE": "Europe/Berlin",
    "HYPOBOT_ADMINS": "U012ABCDEF,U034GHIJKL",
    "HYPOBOT_SCHEDULER": "on",
    "HYPOBOT_API_RATE": "10",
    "HYPOBOT_API_BURST": "20",
    "LOG_LEVEL": "INFO",
    "LOG_FORMAT": "json",
    "SLACK_WORKSPACE_POSTS_PER_SECOND": "20",
    "SLACK_WORKSPACE_POST_BURST": "40",
    "SLACK_CHANNEL_POSTS_PER_SECOND": "1",
    "SLACK_CHANNEL_POST_BURST": "3",
}

# Installing in any workspace (OAuth mode) needs all three.
OAUTH_SETTINGS = ("slack_client_id", "slack_client_secret", "hypobot_encryption_key")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    # Installing in any workspace (OAuth): all three, instead of SLACK_BOT_TOKEN.
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    hypobot_encryption_key: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    database_url: str | None = None
    host: str = "0.0.0.0"
    port: int = Field(default=3000, ge=1, le=65535)
    default_timezone: str = "UTC"
    hypobot_admins: Annotated[frozenset[str], NoDecode] = frozenset()
    hypobot_scheduler: Literal["on", "off"] = "on"
    # The HTTP API's limit per token: requests a second, and how many may come at once.
    hypobot_api_rate: float = Field(default=10.0, gt=0)
    hypobot_api_burst: int = Field(default=20, ge=1)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "text"] = "json"
    # How fast the outbox posts to one workspace (Slack's workspace-wide limit) and to one
    # channel (Slack's: about one a second, short bursts): a steady rate, and a burst.
    slack_workspace_posts_per_second: float = Field(default=20.0, gt=0)
    slack_workspace_post_burst: int = Field(default=40, ge=1)
    slack_channel_posts_per_second: float = Field(default=1.0, gt=0)
    slack_channel_post_burst: int = Field(default=3, ge=1)
    # How fast boards are rewritten (canvases.edit, Slack's tier 3: 50+ a minute per
    # workspace), and the least time between two rewrites of one board: the changes made
    # meanwhile go out together in the next.
    slack_canvas_edits_per_minute: float = Field(default=50.0, gt=0)
    slack_canvas_edit_burst: int = Field(default=5, ge=1)
    hypobot_board_every_s: float = Field(default=10.0, ge=0)

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xoxb-"):
            raise ValueError("must be a bot token starting with xoxb-")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value():
            return None
        if value is not None and not value.get_secret_value().startswith("xapp-"):
            raise ValueError("must be an app-level token starting with xapp-")
        return value

    @field_validator("slack_client_id", "slack_client_secret", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("hypobot_encryption_key", mode="before")
    @classmethod
    def _fernet_key(cls, value: object) -> object:
        if value == "" or value is None:
            return None
        raw = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
        try:
            Fernet(raw.encode())
        except ValueError:
            raise ValueError("must be a Fernet key: 32 url-safe base64-encoded bytes") from None
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _api_url_shape(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value if value.endswith("/") else value + "/"

    @field_validator("database_url")
    @classmethod
    def _database_url_shape(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith(("sqlite://", "postgres://", "postgresql://")):
            raise ValueError("must start with sqlite://, postgres:// or postgresql://")
        return value

    @field_validator("default_timezone")
    @classmethod
    def _zone_exists(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone") from None
        return value

    @field_validator("hypobot_admins", mode="before")
    @classmethod
    def _split_admins(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @property
    def multi_workspace(self) -> bool:
        """OAuth mode: installed in any workspace, each with its own token (SLACK_BOT_TOKEN,
        if set too, is ignored)."""
        return self.slack_client_id is not None or self.slack_client_secret is not None

    def require_slack(self) -> None:
        """Serving Slack needs a signing secret and either one bot token or the three OAuth
        variables; say which is missing."""
        if self.multi_workspace:
            missing = [name.upper() for name in OAUTH_SETTINGS if getattr(self, name) is None]
            if missing:
                raise SettingsError(_missing_for_oauth(missing))
        elif self.slack_bot_token is None:
            raise SettingsError(_missing("SLACK_BOT_TOKEN"))
        if self.slack_signing_secret is None:
            raise SettingsError(_missing("SLACK_SIGNING_SECRET"))


class SettingsError(Exception):
    """A one-line message naming the variable and showing an example value."""


def _missing(variable: str) -> str:
    return f"{variable} is not set; set it, for example {variable}={EXAMPLES[variable]}"


def _missing_for_oauth(variables: list[str]) -> str:
    *rest, last = variables
    names = f"{', '.join(rest)} and {last}" if rest else last
    verb = "are" if rest else "is"
    everything = ", ".join(v.upper() for v in OAUTH_SETTINGS)
    examples = " ".join(f"{v}={EXAMPLES[v]}" for v in variables)
    return (
        f"{names} {verb} not set; installing in any workspace needs {everything}; "
        f"set, for example {examples}"
    )


def load_settings() -> Settings:
    """Read the environment; raise SettingsError with one line for the first bad variable."""
    try:
        return Settings()
    except ValidationError as error:
        first = error.errors()[0]
        variable = str(first["loc"][0]).upper() if first["loc"] else "settings"
        reason = first["msg"].removeprefix("Value error, ")
        example = EXAMPLES.get(variable, "")
        raise SettingsError(
            f"{variable} is malformed ({reason}); for example {variable}={example}"
        ) from None
