"""The load test: 64 connections for 60 seconds on the public search, then on the profile pages.

gunicorn runs with the production settings (HTTPS on, behind a TLS-ending proxy on the same machine, whose
`X-Forwarded-Proto: https` wrk sends; page cache on; no access log), on a fictitious roster loaded by seed_demo.
wrk asks for many different addresses in turn: every county, specialty, language and meeting mode, free text,
nearest first from a municipality, later pages, and a few hundred different profiles, so that the server renders
as well as answers from its page cache. Any error, non-2xx answer or timeout fails the run (exit status 1).

    make load                                    # PostgreSQL, 1,000 supporters, 60 s, 64 connections each
    make load ARGS="--database sqlite --size 1000 --duration 10"
"""

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

from run import GUNICORN, PYTHON, ROOT, WORK, free_port, fresh_database, manage, secret_key, wrk

# A few words the free-text search finds in a fictitious roster (places, specialties, titles).
FREE_TEXT = ["bergen", "tromso", "psykiatri", "allmennmedisin", "oslo", "kirurgi", "overlege", "baerum", "trondheim"]
PROFILES = 400


def production(database_url, port):
    """The settings of a production server: nothing relaxed for the test but the host name and the database."""
    return {
        "PATH": os.environ["PATH"],
        "SECRET_KEY": secret_key(),
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": database_url,
        "BIND": f"127.0.0.1:{port}",
        "STATIC_ROOT": str(WORK / "static"),
        "CACHE_DIR": str(WORK / "cache"),
        "EMAIL_URL": "smtp://127.0.0.1:25",
    }


def roster_values(env):
    """What the roster holds to search for: counties, municipalities, specialties, languages, listed ids."""
    script = (
        "import json, django; django.setup()\n"
        "from counties.models import County, Municipality\n"
        "from directory.models import Language, PeerSupporter, Specialty\n"
        "listed = PeerSupporter.objects.filter(listed=True)\n"
        "print(json.dumps({\n"
        "    'counties': list(County.objects.values_list('number', flat=True)),\n"
        "    'municipalities': list(Municipality.objects.filter(\n"
        "        pk__in=listed.values('municipality')).values_list('number', flat=True)),\n"
        "    'specialties': list(Specialty.objects.values_list('slug', flat=True)),\n"
        "    'languages': list(Language.objects.values_list('code', flat=True)),\n"
        "    'supporters': list(listed.order_by('pk').values_list('pk', flat=True)),\n"
        "}))\n"
    )
    env = {**env, "DJANGO_SETTINGS_MODULE": "config.settings"}
    output = subprocess.run([PYTHON, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return json.loads(output.stdout.strip().splitlines()[-1])


def search_paths(values, rng):
    """Search addresses as visitors make them: one filter or several, in either language, some on later pages."""
    # How often a visitor sets each parameter, and what to choose its value from.
    parameters = [
        (0.6, "county", values["counties"]),
        (0.4, "specialty", values["specialties"]),
        (0.2, "mode", ["in_person", "phone", "video"]),
        (0.15, "language", values["languages"]),
        (0.15, "open", ["on"]),
        (0.2, "q", FREE_TEXT),
        (0.15, "municipality", values["municipalities"]),
        (0.1, "page", [2, 3]),
    ]
    paths = set()
    while len(paths) < 600:
        query = "&".join(
            f"{name}={rng.choice(choices)}" for chance, name, choices in parameters if rng.random() < chance
        )
        paths.add(f"/{rng.choice(['nb', 'en'])}/search/?{query}")
    return sorted(paths)


def profile_paths(values, rng):
    ids = rng.sample(values["supporters"], min(PROFILES, len(values["supporters"])))
    return [f"/{rng.choice(['nb', 'en'])}/supporters/{pk}/" for pk in ids]


def lua_script(paths):
    """A wrk script that asks for the paths in turn, each thread from its own starting point."""
    listed = ",\n".join(json.dumps(path) for path in paths)
    return (
        f"local paths = {{\n{listed}\n}}\n"
        "local threads = 0\n"
        "function setup(thread)\n"
        "  threads = threads + 1\n"
        "  thread:set('offset', threads * 97)\n"
        "end\n"
        "function init(args)\n"
        "  counter = offset\n"
        "end\n"
        "function request()\n"
        "  counter = counter + 1\n"
        "  return wrk.format('GET', paths[(counter % #paths) + 1])\n"
        "end\n"
    )


def status(url):
    """The status of a GET through the TLS-ending proxy that the server expects in front of it."""
    request = urllib.request.Request(url, headers={"X-Forwarded-Proto": "https"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status


def wait_for_server(base, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            return status(base + "/healthz")
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the server did not answer at {base}")


def check_paths(base, paths):
    """Every address answers 200 before the load starts, so a failure under load is the load's doing."""
    for path in paths:
        if (answer := status(base + path)) != 200:
            raise RuntimeError(f"{path} answered {answer}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="postgresql")
    parser.add_argument("--size", type=int, default=1_000, help="supporters in the roster (default 1,000)")
    parser.add_argument("--duration", type=int, default=60, help="seconds of load per page kind (default 60)")
    parser.add_argument("--connections", type=int, default=64, help="concurrent connections (default 64)")
    parser.add_argument("--timeout", type=int, default=10, help="seconds after which a request counts as timed out")
    options = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    WORK.mkdir(parents=True, exist_ok=True)
    database_url = fresh_database(options.database, options.size)
    port = free_port()
    env = production(database_url, port)
    manage(env, "collectstatic", "--no-input", "--verbosity", "0")
    manage(env, "migrate", "--no-input")
    manage(env, "seed_demo", "--supporters", str(options.size), "--replace")
    values = roster_values(env)
    rng = random.Random(f"load {options.size}")  # noqa: S311 - which fictitious addresses to ask for, not a secret
    kinds = [("search", search_paths(values, rng)), ("profile", profile_paths(values, rng))]
    server = subprocess.Popen(
        [GUNICORN, "--config", "gunicorn.conf.py", "config.wsgi"], cwd=ROOT, env=env, start_new_session=True
    )
    base = f"http://127.0.0.1:{port}"
    results, failed = [], False
    try:
        wait_for_server(base)
        for kind, paths in kinds:
            check_paths(base, paths[:20])
            script = WORK / f"load-{kind}.lua"
            script.write_text(lua_script(paths))
            started = time.monotonic()
            result = wrk(
                base + paths[0],
                options.connections,
                options.duration,
                threads=2,
                extra=["--script", str(script), "--header", "X-Forwarded-Proto: https"],
                timeout=options.timeout,
            )
            result["seconds"] = time.monotonic() - started
            results.append((kind, len(paths), result))
            failed |= result["errors"] > 0 or result["timeouts"] > 0
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    print(
        f"\n{options.database}, {options.size:,} supporters, {options.connections} connections, "
        f"{options.duration} s per page kind, timeout {options.timeout} s, gunicorn with production settings\n"
    )
    print(f"{'pages':8} {'addresses':>9} {'requests':>9} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} "
          f"{'timeouts':>8}")  # fmt: skip
    for kind, addresses, result in results:
        print(
            f"{kind:8} {addresses:>9} {result['requests']:>9,} {result['rps']:>7.0f} {result['p50']:>8.1f} "
            f"{result['p99']:>8.1f} {result['errors']:>7} {result['timeouts']:>8}"
        )
    if failed:
        sys.exit("\nThe load test failed: some requests ended in an error or timed out.")


if __name__ == "__main__":
    main()
