"""Whether the password reset's answer time tells which addresses have accounts.

Starts gunicorn as `make run` does, on a fresh SQLite database with some accounts, and a mail server on 127.0.0.1
that takes each message after a delay (as a real one over the network does). Then asks for resets in a random order
of addresses with and without an account, one at a time, timing each until the server has answered and closed the
connection, and prints the median of each kind and how often a time threshold, chosen on half of the answers, tells
the other half apart (50 % is a coin toss).

    .venv/bin/python bench/reset_timing.py --requests 400 --mail-delay 0.05
"""

import argparse
import http.client
import random
import re
import signal
import socket
import socketserver
import statistics
import subprocess
import threading
import time
import urllib.parse

from run import GUNICORN, ROOT, WORK, environment, free_port, fresh_database, manage, wait_for


class SlowSMTP(socketserver.StreamRequestHandler):
    """Just enough SMTP for Django's backend; each message is taken after the server's delay."""

    def handle(self):
        self.wfile.write(b"220 mail.test ESMTP\r\n")
        for raw in self.rfile:
            verb = raw[:4].upper()
            if verb == b"DATA":
                self.wfile.write(b"354 go on\r\n")
                for line in iter(self.rfile.readline, b".\r\n"):
                    if not line:
                        return
                time.sleep(self.server.delay)
                self.wfile.write(b"250 queued\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


def classify(threshold, known_below, value):
    """ "known" or "unknown" for a time, by the threshold and the side the known ones fall on."""
    return "known" if (value < threshold) == known_below else "unknown"


def best_threshold(known, unknown):
    """The time threshold, and the side of it for addresses with an account, that tells the most samples apart."""
    best = (0, 0.0, True)
    for threshold in sorted(known + unknown):
        for known_below in (True, False):
            right = sum(classify(threshold, known_below, t) == "known" for t in known) + sum(
                classify(threshold, known_below, t) == "unknown" for t in unknown
            )
            best = max(best, (right, threshold, known_below))
    return best[1], best[2]


def held_out_accuracy(known, unknown):
    """How often a threshold chosen on half of the answers tells the other half apart (0.5 is a coin toss)."""
    threshold, known_below = best_threshold(known[::2], unknown[::2])
    tests = [("known", t) for t in known[1::2]] + [("unknown", t) for t in unknown[1::2]]
    return sum(classify(threshold, known_below, t) == kind for kind, t in tests) / len(tests)


def reset(port, cookie, token, email):
    """Seconds from sending the request until the server has answered and closed the connection."""
    body = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "email": email})
    request = (
        f"POST /en/accounts/password/reset/ HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n\r\n{body}"
    ).encode()
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    elapsed = time.perf_counter() - started
    if not answer.startswith(b"HTTP/1.1 302"):
        raise RuntimeError(f"the reset answered {answer[:40]!r}")
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--mail-delay", type=float, default=0.05, help="seconds the mail server takes per message")
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)

    mail = socketserver.ThreadingTCPServer(("127.0.0.1", 0), SlowSMTP)
    mail.daemon_threads = True
    mail.delay = options.mail_delay
    threading.Thread(target=mail.serve_forever, daemon=True).start()

    port = free_port()
    env = {
        **environment(fresh_database("sqlite", "reset"), port),
        "EMAIL_URL": f"smtp://127.0.0.1:{mail.server_address[1]}",
    }
    manage(env, "migrate", "--no-input")
    manage(env, "collectstatic", "--no-input")
    # Each account has few requests, so that the per-address limit holds back no e-mail in the measurement.
    accounts = [f"known{number}@example.org" for number in range(options.requests // 2)]
    create = "; ".join(f"User.objects.create_user('{email}', password='x-long-passphrase-1')" for email in accounts)
    manage(env, "shell", "-c", f"from accounts.models import User; {create}")

    server = subprocess.Popen([GUNICORN, "--config", "gunicorn.conf.py", "config.wsgi"], cwd=ROOT, env=env)
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/en/accounts/password/reset/")
        page = conn.getresponse()
        cookie = page.getheader("Set-Cookie").split(";", 1)[0]
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.read())[1].decode()
        conn.close()

        rng = random.Random(options.seed)  # noqa: S311 - the order of the requests, not a secret
        asks = [("known", email) for email in accounts] + [
            ("unknown", f"nobody{number}@example.org") for number in range(len(accounts))
        ]
        rng.shuffle(asks)
        times = {"known": [], "unknown": []}
        for kind, email in asks:
            times[kind].append(reset(port, cookie, token, email))
            time.sleep(options.mail_delay * 2)  # let the worker finish its e-mail, as separate visitors would
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        mail.shutdown()

    for kind, values in times.items():
        print(f"{kind:8} n={len(values)}  median {statistics.median(values) * 1000:.2f} ms")
    accuracy = held_out_accuracy(times["known"], times["unknown"])
    print(f"a threshold chosen on half the answers tells the other half apart: {accuracy:.1%}")


if __name__ == "__main__":
    main()
