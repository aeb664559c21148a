"""Accounts: which WhatsApp number belongs to which Inspector user, and linking them by emailed code."""

from adapters.accounts.actions import register_account_actions
from adapters.accounts.database import AccountsDatabase, create_db_engine, database_url, upgrade_database
from adapters.accounts.linking import LinkingError, LinkingLimits, LinkingService
from adapters.accounts.models import LinkCode, WhatsAppUser
from adapters.accounts.routes import linking_routes

__all__ = [
    "AccountsDatabase",
    "LinkCode",
    "LinkingError",
    "LinkingLimits",
    "LinkingService",
    "WhatsAppUser",
    "create_db_engine",
    "database_url",
    "linking_routes",
    "register_account_actions",
    "upgrade_database",
]
