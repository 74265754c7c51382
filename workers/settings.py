from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from workers.secret import stored_secret

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = PROJECT_ROOT / "var"


class Settings(BaseSettings):
    """Every knob of the service, read from TFGRADE_* environment variables."""

    model_config = SettingsConfigDict(env_prefix="TFGRADE_")

    environment: Literal["development", "production"] = "development"
    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str = ""
    broker_url: str = ""
    # Empty: in development, a random secret made once and kept in the data folder (workers/secret.py).
    secret_key: str = ""
    public_url: str = "http://127.0.0.1:8000"

    max_upload_bytes: int = 5 * 1024 * 1024
    max_grading_attempts: int = 3
    # Submissions of one student waiting for grading at once; another upload waits until one is graded.
    max_pending_submissions: int = 3
    worker_concurrency: int = 1
    worker_heartbeat_seconds: float = 5.0
    worker_stale_seconds: float = 60.0
    broker_visibility_timeout_seconds: int = 3600
    # How long a worker whose canary failed waits before it tries that assignment (and its canary) again.
    canary_retry_seconds: float = 60.0
    # A grading worker on a host without memory and pids cgroups refuses to start unless this is set.
    allow_no_cgroup: bool = False

    # Failed logins allowed per account and per client address within the window, then 429.
    login_failures_per_account: int = 5
    login_failures_per_client: int = 30
    login_failure_window_seconds: float = 900.0

    delivery_max_retries: int = 8
    delivery_backoff_seconds: float = 10.0
    delivery_timeout_seconds: float = 10.0

    @model_validator(mode="after")
    def _embedded_defaults(self) -> "Settings":
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'tfgrade.sqlite3'}"
        if not self.broker_url:
            self.broker_url = f"sqla+sqlite:///{self.data_dir / 'broker.sqlite3'}"
        if not self.secret_key:
            if self.environment == "production":
                raise ValueError("set TFGRADE_SECRET_KEY: production never makes up its own secret")
            self.secret_key = stored_secret(self.data_dir)
        return self

    @property
    def uses_embedded_storage(self) -> bool:
        return self.database_url.startswith("sqlite") or self.broker_url.startswith("sqla+sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
