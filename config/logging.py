"""Error reports that say what broke, never who was looking: no query string, no client address."""

import copy
import logging

from django.http import HttpRequest
from django.utils.log import AdminEmailHandler
from django.views.debug import SafeExceptionReporterFilter

# What an error report may keep of a request: enough to find the page, nothing to find the visitor.
KEPT_META = ("REQUEST_METHOD", "PATH_INFO", "SCRIPT_NAME", "SERVER_NAME", "SERVER_PORT", "HTTP_HOST", "wsgi.url_scheme")


def anonymous_request(request):
    """A copy of request with method and path only: no query string, headers, cookies or client address."""
    anonymous = HttpRequest()
    anonymous.method = request.method
    anonymous.path = request.path
    anonymous.path_info = request.path_info
    anonymous.META = {key: request.META[key] for key in KEPT_META if key in request.META}
    return anonymous


class PrivateExceptionReporterFilter(SafeExceptionReporterFilter):
    """Leave out the values of local variables, which may hold what a visitor searched for."""

    def get_traceback_frame_variables(self, request, tb_frame):
        return []


class PrivateAdminEmailHandler(AdminEmailHandler):
    def emit(self, record):
        request = getattr(record, "request", None)
        if isinstance(request, HttpRequest):
            record = copy.copy(record)
            record.request = anonymous_request(request)
        super().emit(record)


class NotServiceUnavailable(logging.Filter):
    """Leave out Django's line per 503 answer, which names the page: config.unavailable says once a minute that the
    database is unreachable, without the pages asked for meanwhile (and /healthz logs nothing)."""

    def filter(self, record):
        return getattr(record, "status_code", None) != 503
