"""The real server for tests: gunicorn started as `make run` and production start it, with production settings."""

import contextlib
import http.client
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.db import connection

PROJECT = Path(settings.BASE_DIR)
GUNICORN = Path(sys.executable).parent / "gunicorn"
# The proxy that talks to gunicorn, and the visitor it forwards for: neither address may be written anywhere.
PROXY_ADDRESS = "127.0.0.2"
VISITOR_ADDRESS = "203.0.113.77"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def scratch_database(directory):
    """A database URL of the engine the suite runs on, and a function that removes it afterwards."""
    if connection.vendor == "postgresql":
        name = f"server_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        params = connection.settings_dict
        base = f"postgres://{params['USER']}@{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}"
        admin = f"{base}/{params['NAME']}"
        subprocess.run(["psql", admin, "-qc", f'CREATE DATABASE "{name}"'], check=True)
        return f"{base}/{name}", lambda: subprocess.run(["psql", admin, "-qc", f'DROP DATABASE "{name}" WITH (FORCE)'])
    return f"sqlite:///{directory / 'db.sqlite3'}", lambda: None


def unreachable_database():
    """A database URL of the engine the suite runs on where no database can be reached: a port nothing listens on,
    a file in a folder that does not exist."""
    if connection.vendor == "postgresql":
        return "postgres://postgres@127.0.0.1:1/nothing-listens-here"
    return "sqlite:////nonexistent-directory/db.sqlite3"


def production_environment(directory, database_url, **extra):
    return {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": database_url,
        "STATIC_ROOT": str(directory / "static"),
        "FORWARDED_ALLOW_IPS": PROXY_ADDRESS,
        "WEB_CONCURRENCY": "2",
        **extra,
    }


class Server:
    """gunicorn started as `make run` and production start it, with its output kept in files."""

    def __init__(self, directory, environment):
        self.directory = directory
        self.port = free_port()
        self.stdout = directory / f"gunicorn-{self.port}.out"
        self.stderr = directory / f"gunicorn-{self.port}.err"
        with open(self.stdout, "wb") as out, open(self.stderr, "wb") as err:
            self.process = subprocess.Popen(
                [GUNICORN, "--config", "gunicorn.conf.py", "--bind", f"127.0.0.1:{self.port}", "config.wsgi"],
                cwd=PROJECT,
                env={**environment, "BIND": f"127.0.0.1:{self.port}"},
                stdout=out,
                stderr=err,
            )
        self.wait_until_listening()

    def wait_until_listening(self):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.stderr.read_text()
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise AssertionError("gunicorn did not start")

    def get(self, path, headers=None):
        """A GET as a TLS-ending proxy at PROXY_ADDRESS sends it on behalf of VISITOR_ADDRESS."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10, source_address=(PROXY_ADDRESS, 0))
        conn.request(
            "GET",
            path,
            headers={
                "Host": "127.0.0.1",
                "X-Forwarded-For": VISITOR_ADDRESS,
                "X-Forwarded-Proto": "https",
                **(headers or {}),
            },
        )
        response = conn.getresponse()
        body = response.read()
        conn.close()
        return response, body

    def send_raw(self, data):
        with socket.create_connection(("127.0.0.1", self.port), timeout=10, source_address=(PROXY_ADDRESS, 0)) as sock:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
            return sock.recv(65536)

    def workers(self):
        """The process ids of gunicorn's workers (children of its master process)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text()
        return {int(pid) for pid in children.split()}

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            # A worker stuck in a request (a test that failed) keeps gunicorn's graceful stop waiting.
            for worker in self.workers():
                os.kill(worker, signal.SIGKILL)
            self.process.kill()
            self.process.wait(timeout=30)
            raise

    def output(self):
        return self.stdout.read_bytes() + self.stderr.read_bytes()


def manage(environment, *arguments):
    subprocess.run([sys.executable, "manage.py", *arguments], cwd=PROJECT, env=environment, check=True)


@contextlib.contextmanager
def production_site(directory, django_db_blocker, **extra):
    """A production site with a small demo roster in a scratch database of the engine under test: its environment."""
    # The database (a SQLite file) in a folder of its own, which a test may take away from under the server.
    (directory / "database").mkdir()
    with django_db_blocker.unblock():
        database_url, remove_database = scratch_database(directory / "database")
    environment = production_environment(directory, database_url, **extra)
    try:
        manage(environment, "migrate", "--no-input", "--verbosity", "0")
        manage(environment, "seed_demo", "--supporters", "30")
        manage(environment, "collectstatic", "--no-input", "--verbosity", "0")
        yield environment
    finally:
        with django_db_blocker.unblock():
            remove_database()


def everything_written(directory):
    return b"".join(path.read_bytes() for path in sorted(directory.rglob("*")) if path.is_file())
