"""The SQL side of linking: small functions over one session, run by `AccountsDatabase.run`.

Updates that enforce a rule (one use per code, at most N wrong attempts) are single conditional
UPDATE statements, so two concurrent requests cannot both win, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from adapters.accounts.models import LinkCode, WhatsAppUser

_USER_BY_PHONE = select(WhatsAppUser).where(WhatsAppUser.phone == sa.bindparam("phone"))

#: What a row keeps of an Inspector account once its phone is unlinked: nothing.
UNLINKED = {"linked": False, "linked_at": None, "inspector_user_id": None, "role": None, "name": None, "email": None}


def get_user(session: Session, phone: str) -> WhatsAppUser | None:
    # One statement with a bound phone: built per call it cost more than the query (every new conversation
    # asks `accounts.identify`).
    return session.exec(_USER_BY_PHONE, params={"phone": phone}).first()


def linked_users(session: Session, role: str | None) -> list[WhatsAppUser]:
    query = select(WhatsAppUser).where(col(WhatsAppUser.linked).is_(True))
    if role is not None:
        query = query.where(WhatsAppUser.role == role)
    return list(session.exec(query.order_by(col(WhatsAppUser.id))).all())


def latest_code(session: Session, phone: str, road: str = "whatsapp") -> LinkCode | None:
    # Equal timestamps (a frozen test clock): the one code `add_code` left unrevoked is the newest.
    query = (
        select(LinkCode)
        .where(LinkCode.phone == phone, LinkCode.road == road)
        .order_by(col(LinkCode.created_at).desc(), col(LinkCode.revoked).asc())
    )
    return session.exec(query.limit(1)).first()


def add_code(session: Session, code: LinkCode) -> None:
    """Store a new code; any earlier code of the same phone asked on the same road stops working."""
    session.execute(
        sa.update(LinkCode)
        .where(col(LinkCode.phone) == code.phone, col(LinkCode.road) == code.road, col(LinkCode.used).is_(False))
        .values(revoked=True)
    )
    session.add(code)


def revoke_code(session: Session, code_id: str) -> None:
    session.execute(sa.update(LinkCode).where(col(LinkCode.id) == code_id).values(revoked=True))


def _usable(code_id: str, max_attempts: int) -> sa.ColumnElement[bool]:
    return sa.and_(
        col(LinkCode.id) == code_id,
        col(LinkCode.used).is_(False),
        col(LinkCode.revoked).is_(False),
        col(LinkCode.attempts) < max_attempts,
    )


def count_wrong_attempt(session: Session, code_id: str, max_attempts: int) -> int | None:
    """Add one wrong attempt; burn the code at the limit. Returns attempts so far, None if not usable."""
    result = session.execute(
        sa.update(LinkCode)
        .where(_usable(code_id, max_attempts))
        .values(
            attempts=col(LinkCode.attempts) + 1,
            revoked=col(LinkCode.attempts) + 1 >= max_attempts,
        )
    )
    if _changed(result) != 1:
        return None
    return session.execute(sa.select(col(LinkCode.attempts)).where(col(LinkCode.id) == code_id)).scalar_one()


def consume_code(session: Session, code_id: str, max_attempts: int) -> bool:
    """Mark the code used, if nobody else used or burned it first."""
    result = session.execute(sa.update(LinkCode).where(_usable(code_id, max_attempts)).values(used=True))
    return _changed(result) == 1


def link(session: Session, phone: str, account: dict[str, Any], now: datetime,
         language: str | None = None) -> WhatsAppUser:
    """Link `phone` to an Inspector account, removing that account's link from any other phone.

    The phone keeps `language` (the one picked in this conversation), else its own, else the one the
    account had on its previous phone, so a user who changes phones is not asked again."""
    account_id = str(account["id"])
    email = (account.get("email") or "").lower() or None
    others = col(WhatsAppUser.inspector_user_id) == account_id
    if email:
        others = sa.or_(others, col(WhatsAppUser.email) == email)
    previous = session.execute(
        sa.select(col(WhatsAppUser.language))
        .where(col(WhatsAppUser.phone) != phone, col(WhatsAppUser.linked).is_(True), others,
               col(WhatsAppUser.language).is_not(None))
    ).scalars().first()
    session.execute(
        sa.update(WhatsAppUser)
        .where(col(WhatsAppUser.phone) != phone, col(WhatsAppUser.linked).is_(True), others)
        .values(**UNLINKED, updated_at=now)
    )
    session.flush()
    user = get_user(session, phone) or WhatsAppUser(phone=phone, created_at=now)
    user.inspector_user_id = account_id
    user.role = account.get("role")
    user.name = account.get("name")
    user.email = email
    user.linked = True
    user.linked_at = now
    user.language = language or user.language or previous
    user.updated_at = now
    session.add(user)
    session.flush()
    return user


def set_language(session: Session, phone: str, language: str, now: datetime) -> bool:
    result = session.execute(
        sa.update(WhatsAppUser).where(col(WhatsAppUser.phone) == phone).values(language=language, updated_at=now)
    )
    return _changed(result) == 1


def unlink(session: Session, phone: str, now: datetime) -> bool:
    result = session.execute(
        sa.update(WhatsAppUser)
        .where(col(WhatsAppUser.phone) == phone, col(WhatsAppUser.linked).is_(True))
        .values(**UNLINKED, updated_at=now)
    )
    return _changed(result) == 1


def record_inbound(session: Session, phone: str, profile_name: str | None, at: datetime) -> None:
    """Upsert the phone's row; `last_inbound_at` only moves forward (webhooks can arrive late).

    The statement is built once per dialect (two: with and without a profile name) and run with bound
    values: building it per call had been most of its cost (~0.75 ms of CPU on SQLite)."""
    dialect = session.get_bind().dialect.name
    stmt = _inbound_upsert(dialect, bool(profile_name))
    session.execute(stmt, {"phone": phone, "profile_name": profile_name, "at": at})


@functools.cache
def _inbound_upsert(dialect: str, with_profile: bool) -> Any:
    table = cast(sa.Table, sa.inspect(WhatsAppUser).local_table)
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    at = sa.bindparam("at", type_=table.c.last_inbound_at.type)
    stmt = insert(table).values(
        phone=sa.bindparam("phone"), profile_name=sa.bindparam("profile_name"), linked=False, last_inbound_at=at,
        created_at=at, updated_at=at,
    )
    newer = stmt.excluded.last_inbound_at
    changes: dict[str, Any] = {
        "last_inbound_at": sa.case(
            (table.c.last_inbound_at.is_(None), newer),
            (table.c.last_inbound_at < newer, newer),
            else_=table.c.last_inbound_at,
        ),
        "updated_at": stmt.excluded.updated_at,
    }
    if with_profile:
        changes["profile_name"] = stmt.excluded.profile_name
    return stmt.on_conflict_do_update(index_elements=["phone"], set_=changes)


def _changed(result: sa.Result[Any]) -> int:
    """Rows an UPDATE changed: only a cursor result knows, and sqlmodel types `execute` as a plain Result."""
    return cast("sa.CursorResult[Any]", result).rowcount
