import sys

from django.core.exceptions import BadRequest, SuspiciousOperation
from django.db import DatabaseError, connection
from django.http import HttpResponse, HttpResponseBadRequest
from django.http.multipartparser import MultiPartParserError
from django.template import loader
from django.utils import translation
from django.views import defaults
from django.views.decorators.http import require_safe

from config.unavailable import database_unreachable, log_unreachable

# What the 503 page asks browsers and crawlers to wait before trying again.
RETRY_AFTER_SECONDS = 30


@require_safe
def healthz(request):
    """200 when the database answers, 503 when it does not. Writes nothing and logs nothing."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return HttpResponse("database unavailable\n", status=503, content_type="text/plain")
    return HttpResponse("ok\n", content_type="text/plain")


def page_not_found(request, exception):
    """handler404. Django's 404 page reads the body of a POST for its CSRF token; on an address that is none of the
    site's, that is the first time anything reads it, so a body Django cannot read (a broken multipart form, too many
    files) would raise inside the error page and end as a logged 500. It is a bad request, answered as one."""
    try:
        return defaults.page_not_found(request, exception)
    except (BadRequest, SuspiciousOperation, MultiPartParserError):
        # The 400 page as Django's bad_request view makes it, without reading the body again.
        return HttpResponseBadRequest(loader.get_template("400.html").render())


def server_error(request):
    """handler500: Django calls it for an exception raised anywhere in a request (view, template or middleware).

    A database that cannot be reached is answered with the 503 page; any other error is the 500 it always was.
    """
    error = sys.exc_info()[1]
    if error is None or not database_unreachable(error):
        return defaults.server_error(request)
    return database_unavailable(request, error)


def database_unavailable(request, error):
    """The 503 page in the language of the address, made without the database: no request context, so no user,
    session or messages are looked up; nothing about the request is logged, no cookie is set, and the page cache
    stores it never (it keeps only 200 answers of views that returned)."""
    log_unreachable(error)
    with translation.override(translation.get_language_from_request(request, check_path=True)):
        content = loader.render_to_string("503.html")
    response = HttpResponse(content, status=503)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response.headers["Cache-Control"] = "no-store"
    return response
