"""gunicorn settings for `make run` and production. Each can be overridden from the environment."""

import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
# Help-seekers leave no trace: no access log, whatever else is configured.
accesslog = None
errorlog = "-"
loglevel = "error"
