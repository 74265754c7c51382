"""Limits on login attempts, kept in the database so that every API process counts the same attempts.

Two limits apply within the window. Attempts at one account from one client address count from the moment
they arrive, so that guesses sent at the same moment count against each other. Failed attempts from one
client address at any account count once they have failed, so that a class behind one address can log in
at once. Neither limit counts what other addresses did, so no one can lock a student out from elsewhere;
an attempt that succeeds is forgotten.
"""

import hashlib
import ipaddress
import math
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import ColumnElement, and_, delete, select, update
from sqlalchemy.orm import Session

from workers.database import session_scope
from workers.models import LoginAttempt, utcnow


def account_key(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def client_key(address: str) -> str:
    """IPv6 clients are counted by their /64, which one subscriber usually holds whole."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return hashlib.sha256(address.encode()).hexdigest()
    if parsed.version == 6:
        parsed = ipaddress.ip_network(f"{parsed}/64", strict=False).network_address
    return hashlib.sha256(parsed.packed).hexdigest()


@dataclass(frozen=True)
class LoginLimits:
    per_account: int
    per_client: int
    window: timedelta

    def attempt(self, database_url: str, email: str, client: str) -> tuple[int, int | None]:
        """Records an attempt, in a transaction of its own so that attempts made at the same moment see it.
        Returns its id, and the seconds to wait when a limit is reached (then the attempt is not kept:
        waiting is not held against anyone)."""
        account, address = account_key(email), client_key(client)
        with session_scope(database_url) as session:
            row = LoginAttempt(account=account, client=address)
            session.add(row)
            session.flush()
            attempt_id = row.id
        others = LoginAttempt.id != attempt_id
        with session_scope(database_url) as session:
            pair = and_(others, LoginAttempt.account == account, LoginAttempt.client == address)
            waits = [
                self._wait(session, pair, self.per_account),
                self._wait(
                    session,
                    and_(others, LoginAttempt.client == address, LoginAttempt.failed),
                    self.per_client,
                ),
            ]
            wait = max((seconds for seconds in waits if seconds is not None), default=None)
            if wait is not None:
                session.execute(delete(LoginAttempt).where(LoginAttempt.id == attempt_id))
        return attempt_id, wait

    def _wait(self, session: Session, where: ColumnElement[bool], limit: int) -> int | None:
        recent = session.scalars(
            select(LoginAttempt.at)
            .where(where, LoginAttempt.at > utcnow() - self.window)
            .order_by(LoginAttempt.at.desc())
            .limit(limit)
        ).all()
        if len(recent) < limit:
            return None
        # The attempt may go ahead once the limit-th most recent one has left the window.
        return max(1, math.ceil((recent[-1] + self.window - utcnow()).total_seconds()))

    def failed(self, session: Session, attempt_id: int) -> None:
        session.execute(update(LoginAttempt).where(LoginAttempt.id == attempt_id).values(failed=True))

    def succeeded(self, session: Session, email: str, client: str) -> None:
        """The account starts afresh from this address; other addresses' attempts stay counted."""
        session.execute(
            delete(LoginAttempt).where(
                LoginAttempt.account == account_key(email), LoginAttempt.client == client_key(client)
            )
        )
        session.execute(delete(LoginAttempt).where(LoginAttempt.at < utcnow() - self.window))


def forget_account(session: Session, email: str) -> None:
    """After an instructor's reset, the account's one-time password is not held back by old guesses."""
    session.execute(delete(LoginAttempt).where(LoginAttempt.account == account_key(email)))
