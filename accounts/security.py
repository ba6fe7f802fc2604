"""Who is knocking, as far as brute-force protection needs to know."""

from django.conf import settings


def client_address(request):
    """The visitor's address: from X-Forwarded-For when the request came through the trusted reverse proxy.

    Only used, hashed, in the cache key of failed logins; never stored or logged as it is.
    """
    address = request.META.get("REMOTE_ADDR", "")
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if address in settings.TRUSTED_PROXIES and forwarded:
        # The proxy appends the address it saw; anything before it was written by the client.
        return forwarded.split(",")[-1].strip()
    return address
