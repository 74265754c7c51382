"""Rate limits on failed logins, per account and per client address, kept in the database so that every
API process counts the same failures."""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from workers.models import LoginFailure, utcnow


@dataclass(frozen=True)
class LoginLimits:
    per_account: int
    per_client: int
    window: timedelta

    def keys(self, email: str, client: str) -> dict[str, int]:
        """Each counter this login attempt falls under, with its limit."""
        return {f"account:{email.strip().lower()}": self.per_account, f"client:{client}": self.per_client}

    def retry_after(self, session: Session, email: str, client: str) -> int | None:
        """Seconds until this attempt may be tried, or None when no limit is reached."""
        since = utcnow() - self.window
        waits = []
        for key, limit in self.keys(email, client).items():
            recent = select(LoginFailure.at).where(LoginFailure.key == key, LoginFailure.at > since)
            count = session.scalar(select(func.count()).select_from(recent.subquery())) or 0
            if count >= limit:
                # The attempt may go ahead once enough of the failures have left the window.
                oldest_kept: datetime = session.scalars(
                    recent.order_by(LoginFailure.at.desc()).offset(limit - 1).limit(1)
                ).one()
                waits.append(math.ceil((oldest_kept + self.window - utcnow()).total_seconds()))
        return max(1, *waits) if waits else None

    def record_failure(self, session: Session, email: str, client: str) -> None:
        session.add_all(LoginFailure(key=key) for key in self.keys(email, client))
        session.execute(delete(LoginFailure).where(LoginFailure.at < utcnow() - self.window))
        session.flush()

    def forget_account(self, session: Session, email: str) -> None:
        """After a successful login the account starts afresh; its client's count stays."""
        account, _ = self.keys(email, "")
        session.execute(delete(LoginFailure).where(LoginFailure.key == account))
        session.flush()
