"""The benchmark: public pages at 1,000, 10,000 and 100,000 supporters on SQLite and PostgreSQL.

For each database and roster size it loads the fictitious roster with seed_demo, starts gunicorn with the
production settings exactly as `make run` does, drives each endpoint with wrk from a separate process, and
prints one table. The baseline is a static file served by whitenoise in the same server: each endpoint's
throughput is also given as a ratio to it, because absolute numbers on a shared machine drift.

Each endpoint is measured twice, on two servers started in turn: "cached" as `make run` serves it, where wrk's
repeated requests for one address are answered from the server-side page cache after the first; and "uncached"
with PAGE_CACHE_SECONDS=0, where every request renders the page from the database (what a visitor meets when
nobody has asked for that address since the roster last changed).

    make bench                                  # everything (about 13 minutes)
    make bench ARGS="--sizes 1000 --databases sqlite --duration 3"
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
POSTGRES_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
POSTGRES_BENCH_DATABASE = "peer_bench"
WORK = ROOT / "var" / "bench"


def endpoints(profile_id):
    """(name, path) for each measured endpoint; the first is the baseline."""
    return [
        ("static file (baseline)", None),  # filled in from the home page's stylesheet link
        ("home", "/nb/"),
        ("search: county + specialty", "/nb/search/?county=46&specialty=psychiatry"),
        ("search: free text", "/nb/search/?q=bergen+psykiatri"),
        ("search: municipality, nearest first", "/nb/search/?municipality=4601"),
        ("profile", f"/nb/supporters/{profile_id}/"),
        ("open data JSON", "/api/roster.json?county=46"),
    ]


def environment(database_url, port, *, cached=True):
    """The environment `make run` gives the site, with this run's database and address (and no page cache)."""
    return {
        **os.environ,
        "SECRET_KEY": secret_key(),
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "DJANGO_HTTPS": "false",
        "DATABASE_URL": database_url,
        "BIND": f"127.0.0.1:{port}",
        "STATIC_ROOT": str(WORK / "static"),
        "CACHE_DIR": str(WORK / "cache"),
        "PAGE_CACHE_SECONDS": os.environ.get("PAGE_CACHE_SECONDS", "3600") if cached else "0",
    }


def secret_key():
    """The benchmark's own secret key, made once and kept in its work folder."""
    secret = WORK / "secret-key"
    if not secret.exists():
        secret.write_text(os.urandom(32).hex())
    return secret.read_text()


def manage(env, *args):
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def fresh_database(kind, size):
    if kind == "sqlite":
        path = WORK / f"bench-{size}.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    import psycopg

    with psycopg.connect(POSTGRES_ADMIN_URL.replace("postgres://", "postgresql://"), autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {POSTGRES_BENCH_DATABASE} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {POSTGRES_BENCH_DATABASE}")
    return f"postgres://postgres@127.0.0.1:5432/{POSTGRES_BENCH_DATABASE}"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(url, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.read()
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the server did not answer at {url}")


def fetch(url, headers=None):
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, response.read()


def first_visit(base, path):
    """Bytes a first visit of path transfers with compression: the page and every stylesheet, script and icon."""
    compressed = {"Accept-Encoding": "br, gzip"}
    _status, html = fetch(base + path, compressed)
    total, parts = len(html), {path: len(html)}
    page = fetch(base + path)[1].decode()
    for asset in sorted(set(re.findall(r'(?:href|src)="(/static/[^"]+)"', page))):
        size = len(fetch(base + asset, compressed)[1])
        parts[asset] = size
        total += size
    return total, parts


WRK_LATENCY = re.compile(r"^\s*(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)


def wrk(url, connections, seconds, threads=1, extra=(), timeout=10):
    """Requests per second, p50 and p99 in milliseconds, and the counts of requests, errors and timeouts."""
    output = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "--timeout",
            f"{timeout}s",
            *extra,
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    latency = {int(p): float(value) * scale[unit] for p, value, unit in WRK_LATENCY.findall(output)}
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1])
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    failed = sum(int(n) for n in errors.groups()) if errors else 0
    failed += int(non_2xx[1]) if non_2xx else 0
    return {
        "requests": int(re.search(r"(\d+) requests in", output)[1]),
        "rps": rate,
        "p50": latency[50],
        "p99": latency[99],
        "errors": failed,
        "timeouts": int(errors[4]) if errors else 0,
    }


def query_counts(env, paths):
    """SQL queries per request for each path, counted inside a process with the same settings (cold, then warm)."""
    script = (
        "import json, sys, django; django.setup()\n"
        "from django.db import connection\n"
        "from django.test import Client\n"
        "from django.test.utils import CaptureQueriesContext\n"
        "client, counts = Client(), {}\n"
        "for path in json.loads(sys.argv[1]):\n"
        "    runs = []\n"
        "    for _ in range(2):\n"
        "        with CaptureQueriesContext(connection) as queries:\n"
        "            client.get(path)\n"
        "        runs.append(len(queries))\n"
        "    counts[path] = runs\n"
        "print(json.dumps(counts))\n"
    )
    env = {**env, "DJANGO_SETTINGS_MODULE": "config.settings"}
    output = subprocess.run(
        [PYTHON, "-c", script, json.dumps(paths)], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def measure(kind, size, duration, connections):
    """Rows for every endpoint, cached and uncached, and the seconds the roster took to load."""
    database_url = fresh_database(kind, size)
    env = environment(database_url, 0)
    started = time.monotonic()
    manage(env, "migrate", "--no-input")
    manage(env, "seed_demo", "--supporters", str(size), "--replace")
    seeded = time.monotonic() - started
    rows, first_visit_bytes = [], None
    for cached in (True, False):
        port = free_port()
        env = environment(database_url, port, cached=cached)
        server = subprocess.Popen(
            [GUNICORN, "--config", "gunicorn.conf.py", "config.wsgi"], cwd=ROOT, env=env, start_new_session=True
        )
        base = f"http://127.0.0.1:{port}"
        mode = "cached" if cached else "uncached"
        try:
            home = wait_for(base + "/nb/").decode()
            stylesheet = re.search(r'href="(/static/css/site\.[0-9a-f]+\.css)"', home)[1]
            profile_id = re.search(r'href="/nb/supporters/(\d+)/"', fetch(base + "/nb/search/")[1].decode())[1]
            measured = [(name, path or stylesheet) for name, path in endpoints(profile_id)]
            counts = query_counts(env, [path for _name, path in measured])
            first_visit_bytes = first_visit_bytes or first_visit(base, "/nb/")
            run = []
            for name, path in measured:
                status, body = fetch(base + path)
                wrk(base + path, connections, 1)  # warm-up: connections, the workers' first imports, the cache
                result = wrk(base + path, connections, duration)
                run.append({"database": kind, "size": size, "endpoint": name, "cache": mode, "path": path,
                            "status": status, "bytes": len(body), "queries": counts[path], **result})  # fmt: skip
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        baseline = run[0]["rps"]
        for row in run:
            row["ratio"] = row["rps"] / baseline
        rows += run
    return rows, seeded, first_visit_bytes


def table(rows):
    """One line per endpoint, cache mode, database and size; sizes of one endpoint next to each other."""
    order = {name: index for index, (name, _path) in enumerate(endpoints(0))}
    rows = sorted(rows, key=lambda row: (row["database"], row["cache"], order[row["endpoint"]], row["size"]))
    columns = ["endpoint".ljust(38), "cache".ljust(8), f"{'N':>7}", "db".ljust(10), f"{'req/s':>8}", f"{'ratio':>6}"]
    columns += [f"{'p50 ms':>8}", f"{'p99 ms':>8}", f"{'SQL':>7}", f"{'bytes':>8}", f"{'err':>4}"]
    header = " ".join(columns)
    lines = [header, "-" * len(header)]
    for row in rows:
        cold, warm = row["queries"]
        lines.append(
            f"{row['endpoint']:38} {row['cache']:8} {row['size']:>7,} {row['database']:10} {row['rps']:>8.0f} "
            f"{row['ratio']:>6.2f} {row['p50']:>8.1f} {row['p99']:>8.1f} {f'{cold}/{warm}':>7} {row['bytes']:>8,} "
            f"{row['errors']:>4}"
        )
    return "\n".join(lines)


def growth(rows):
    """How much each endpoint's p50 grew from the smallest roster measured to the largest."""
    sizes = sorted({row["size"] for row in rows})
    if len(sizes) < 2:
        return ""
    smallest, largest = sizes[0], sizes[-1]
    p50 = {(row["database"], row["cache"], row["endpoint"], row["size"]): row["p50"] for row in rows}
    lines = [f"p50 at {largest:,} supporters / p50 at {smallest:,}:"]
    for database, cache, endpoint, size in sorted(p50):
        if size == smallest and (database, cache, endpoint, largest) in p50:
            ratio = p50[database, cache, endpoint, largest] / p50[database, cache, endpoint, size]
            lines.append(f"  {endpoint:38} {cache:8} {database:10} {ratio:5.1f}x")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--databases", nargs="+", choices=["sqlite", "postgresql"], default=["sqlite", "postgresql"])
    parser.add_argument("--duration", type=int, default=5, help="seconds of load per endpoint (default 5)")
    parser.add_argument("--connections", type=int, default=4, help="concurrent connections (default 4)")
    parser.add_argument("--json", type=Path, help="also write the rows to this file")
    options = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    started = time.monotonic()
    WORK.mkdir(parents=True, exist_ok=True)
    env = environment("sqlite:///" + str(WORK / "collect.sqlite3"), 0)
    manage(env, "collectstatic", "--no-input", "--clear")
    rows = []
    for kind in options.databases:
        for size in options.sizes:
            measured, seeded, (visit, parts) = measure(kind, size, options.duration, options.connections)
            print(f"{kind}, {size:,} supporters: loaded in {seeded:.1f} s; first visit of the home page "
                  f"{visit:,} bytes with compression {parts}", file=sys.stderr)  # fmt: skip
            rows += measured
    print(f"\n{options.connections} connections, {options.duration} s per endpoint; SQL = queries cold/warm; "
          "ratio = throughput / the static file's in the same server\n")  # fmt: skip
    print(table(rows))
    print()
    print(growth(rows))
    print(f"\nThe whole run took {(time.monotonic() - started) / 60:.1f} minutes.")
    if options.json:
        options.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
