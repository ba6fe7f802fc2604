"""gunicorn settings for `make run` and production. BIND, WEB_CONCURRENCY and ACCESS_LOG come from the environment.

Looking for help leaves no trace: there is no access log unless an operator asks for one (ACCESS_LOG=- or a
file path), and even then its lines carry neither the client's address nor the query string, referrer or
browser. Do not add logconfig, logconfig_dict or syslog here: any of them turns gunicorn's access log back on.
"""

import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))

accesslog = os.environ.get("ACCESS_LOG") or None
# Time, method, path without query, status, bytes, duration in milliseconds.
access_log_format = '%(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)s'
errorlog = "-"
loglevel = "error"

# No request header may set the script name or the path the site sees. By default gunicorn takes SCRIPT_NAME and
# PATH_INFO headers from any address in FORWARDED_ALLOW_IPS, and a visitor's request reaches it through that proxy: a
# SCRIPT_NAME header would move every address the site builds under another prefix, or make gunicorn answer 500.
# The site lives at the root; the proxy passes the path in the request line only. X-Forwarded-Proto from the proxy
# (secure_scheme_headers) is unaffected.
forwarder_headers = ""
# Any other header with an underscore is dropped (gunicorn's default, written down so that it stays so): headers
# named alike but for `-` and `_` must not merge into one.
header_map = "drop"
