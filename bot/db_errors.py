"""Database trouble in one sentence a person can act on, never with the URL's password."""

from __future__ import annotations

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

__all__ = ["describe_database_error", "safe_url"]


def safe_url(url: str) -> str:
    """`url` with any password replaced by ***."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unparseable URL)"


def describe_database_error(url: str, exc: BaseException) -> str:
    """What failed and what to check, from a driver error; the password never appears."""
    where = safe_url(url)
    text = str(getattr(exc, "orig", None) or exc).lower()
    if "readonly database" in text or "read-only" in text or isinstance(exc, PermissionError):
        return (
            f"the database {where} is read-only: trialwatch needs to write to it and to its "
            "directory (SQLite keeps -wal and -shm files beside it); check their permissions "
            "and the disk"
        )
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return (
            f"the database {where} is not a readable SQLite database (corrupt, or another kind "
            "of file): restore it from a backup or point [storage].url at another file"
        )
    if "disk is full" in text or "no space" in text:
        return f"the disk holding the database {where} is full: free some space and run again"
    if "unable to open database file" in text:
        return (
            f"cannot open the database file {where}: check that its directory exists and is "
            "writable"
        )
    if "password authentication failed" in text or "authentication failed" in text:
        return (
            f"the database server refused the login for {where}: check the user and password "
            "in [storage].url"
        )
    if "does not exist" in text and "database" in text:
        return f"the database in {where} does not exist on that server: create it first"
    if isinstance(exc, SQLAlchemyError) and _is_connection_failure(text):
        return (
            f"cannot connect to the database server at {where}: is it running and reachable "
            "from here? check the host and port in [storage].url"
        )
    kind = type(getattr(exc, "orig", None) or exc).__name__
    return f"the database {where} failed ({kind}); check that it is reachable and writable"


def _is_connection_failure(text: str) -> bool:
    signs = (
        "connection refused",
        "could not connect",
        "could not translate host name",
        "name or service not known",
        "connection failed",
        "timeout expired",
        "server closed the connection",
        "no route to host",
    )
    return any(sign in text for sign in signs)
