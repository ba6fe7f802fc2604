"""Response headers that keep the promise and that Django's own middleware does not send."""

from django.db import DatabaseError

from config.unavailable import database_unreachable

PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "ambient-light-sensor",
        "autoplay",
        "battery",
        "bluetooth",
        "browsing-topics",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "hid",
        "interest-cohort",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
)


class PrivacyHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if logged_in(request):
            # Pages of the logged-in area stay out of every cache, on the way and in the browser.
            response.headers["Cache-Control"] = "private, no-store"
        else:
            # Nothing a visitor saw lingers in the cache of a shared workstation. Static files come with their
            # own long-lived Cache-Control from whitenoise and keep it.
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def logged_in(request):
    user = getattr(request, "user", None)
    try:
        return user is not None and user.is_authenticated
    except DatabaseError as error:
        # The session could not be read, so the answer is the 503 page; whoever asked, it stays out of every cache.
        if database_unreachable(error):
            return True
        raise
