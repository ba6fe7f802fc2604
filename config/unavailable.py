"""When the database cannot be reached: a kind 503 page instead of a 500, and one line in the log.

A doctor who opens the directory while the database is down, restarting or cut off by the network is told that it is
briefly unavailable and given the emergency numbers, never a bare error. Only failures to reach the database count:
a query that is wrong (a missing table, a bad column, a statement timeout) is a bug, and stays a 500 reported as
every other error is.
"""

import logging
import threading
import time

from django.db import OperationalError

logger = logging.getLogger(__name__)

# How often each process may say that the database is unreachable, however many requests find it so.
LOG_INTERVAL_SECONDS = 60
# PostgreSQL errors (SQLSTATE) that say the connection is gone or cannot be made: connection exceptions (class 08),
# the server shutting down, crashing, starting up or ending an idle session (57P01-57P03, 57P05), and no connection
# slots left (53300). Anything else the server reports is about the query.
POSTGRESQL_CONNECTION_STATES = ("08", "57P01", "57P02", "57P03", "57P05", "53300")
# SQLite: the file cannot be opened (its disk or folder is gone), or reading it fails.
SQLITE_UNREACHABLE = ("SQLITE_CANTOPEN", "SQLITE_IOERR")

_lock = threading.Lock()
_last_logged = {"at": None}


def database_unreachable(error):
    """Whether error says the database cannot be reached, rather than that a query is wrong.

    psycopg reports a connection that failed, broke or was closed as an OperationalError without a SQLSTATE (no server
    answered) or with a connection state; its InterfaceError means the driver was misused, which is a bug. SQLite
    names the error. Django raises its own OperationalError from the driver's.
    """
    if not isinstance(error, OperationalError):
        return False
    cause = error.__cause__ or error
    if name := getattr(cause, "sqlite_errorname", None):
        return name.startswith(SQLITE_UNREACHABLE)
    if hasattr(cause, "sqlstate"):
        return cause.sqlstate is None or cause.sqlstate.startswith(POSTGRESQL_CONNECTION_STATES)
    return False


def log_unreachable(error):
    """Say once a minute per process that the database is unreachable, with the driver's reason.

    Nothing about the request: not its address, not its query, not who asked. The driver's first line names the
    database server or file ("connection failed: connection to server at ... Connection refused"), never a visitor.
    """
    now = time.monotonic()
    with _lock:
        if _last_logged["at"] is not None and now - _last_logged["at"] < LOG_INTERVAL_SECONDS:
            return
        _last_logged["at"] = now
    cause = error.__cause__ or error
    reason = (str(cause).strip() or type(cause).__name__).splitlines()[0][:300]
    logger.error("The database is unreachable (%s); pages answer 503 until it is back.", reason)
