import os

from django.core.wsgi import get_wsgi_application
from django.utils.http import parse_header_parameters

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def readable_content_type(content_type):
    """Whether Django can read this Content-Type: it parses, its charset, if any, decodes with replacement, and a form
    (application/x-www-form-urlencoded, which is UTF-8 by definition) names no other charset."""
    try:
        main, parameters = parse_header_parameters(content_type)
        if parameters.get("charset"):
            b"a".decode(parameters["charset"], "replace")
    except (LookupError, ValueError):  # a charset Python does not know; UnicodeError is a ValueError
        return False
    # Django refuses to read such a form (BadRequest), and again on the way to each error page, up to a 500.
    return main != "application/x-www-form-urlencoded" or parameters.get("charset", "utf-8").lower() == "utf-8"


def leave_out_unreadable_content_type(application):
    """Django reads the Content-Type header while it builds the request, before any middleware or error page, and
    some headers raise there (`charset=rot13`, a charset that is no text encoding, a header too long to parse): the
    server would answer 500 and log the request line with its query string. Without the header the request is read as
    UTF-8, as Django already does for a charset it does not know."""

    def checked(environ, start_response):
        if environ.get("CONTENT_TYPE") and not readable_content_type(environ["CONTENT_TYPE"]):
            environ["CONTENT_TYPE"] = ""
        return application(environ, start_response)

    return checked


application = leave_out_unreadable_content_type(get_wsgi_application())
