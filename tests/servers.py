"""The real server for tests: gunicorn started as `make run` and production start it, with production settings."""

import contextlib
import email
import email.policy
import http.client
import os
import secrets
import signal
import socket
import socketserver
import subprocess
import sys
import threading
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

    def send_raw(self, data, until_closed=False):
        """Send bytes as the proxy; the first answer the server gives, or (until_closed) all it sends until it closes
        the connection."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=10, source_address=(PROXY_ADDRESS, 0)) as sock:
            sock.sendall(data)
            if not until_closed:
                sock.shutdown(socket.SHUT_WR)
                return sock.recv(65536)
            received = b""
            while chunk := sock.recv(65536):
                received += chunk
            return received

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


class SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for Django's backend (RFC 5321's greeting, EHLO, MAIL, RCPT, DATA, QUIT), or a failure."""

    def reply(self, line):
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self):
        server = self.server
        server.connections += 1
        # A server that is slow to answer: the greeting waits until the test lets it go.
        server.hold.wait(timeout=60)
        if server.behaviour == "silent":
            self.rfile.read()  # Until the client gives up and closes the connection.
            return
        if server.behaviour == "busy":
            self.reply("421 4.3.2 Service not available, closing transmission channel")
            return
        self.reply("220 mail.test ESMTP")
        recipients = []
        for raw in self.rfile:
            command = raw.decode("ascii", "replace").strip()
            verb = command[:4].upper()
            if verb == "MAIL" and server.behaviour == "drops":
                return  # Mid-conversation, as a server that crashes or is restarted.
            if verb in ("EHLO", "HELO"):
                self.reply("250 mail.test")
            elif verb == "RCPT":
                recipient = command.split(":", 1)[1].strip().strip("<>")
                if recipient in server.unknown:
                    self.reply("550 5.1.1 No such mailbox")
                    continue
                recipients.append(recipient)
                self.reply("250 2.1.5 OK")
            elif verb == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                data = b"".join(iter(self.rfile.readline, b".\r\n"))
                server.received.append((recipients, email.message_from_bytes(data, policy=email.policy.default)))
                recipients = []
                self.reply("250 2.0.0 OK queued")
            elif verb == "QUIT":
                self.reply("221 2.0.0 Bye")
                return
            else:
                self.reply("250 2.0.0 OK")


class SMTPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, behaviour="works"):
        super().__init__(("127.0.0.1", 0), SMTPHandler)
        self.behaviour = behaviour
        self.hold = threading.Event()
        self.hold.set()
        self.connections = 0
        self.received = []
        # Addresses the server says have no mailbox (a refusal of one recipient, not of the server as a whole).
        self.unknown = set()

    @property
    def port(self):
        return self.server_address[1]


def through_the_application(path, method="GET", query="", body=b"", **environ):
    """A request handed to config.wsgi's application as gunicorn hands it: (status, headers, body)."""
    import io

    from config.wsgi import application

    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SCRIPT_NAME": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        **({"CONTENT_LENGTH": str(len(body))} if body else {}),
        **environ,
    }
    started = []
    content = b"".join(application(environ, lambda *arguments: started.append(arguments)))
    status, headers = started[0][:2]
    return int(status.split()[0]), dict(headers), content
