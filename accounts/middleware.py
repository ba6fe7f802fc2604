from django.shortcuts import redirect
from django.urls import Resolver404, resolve

from accounts.two_factor import needs_second_factor

# What someone who has given their password, but not yet their second factor, may reach.
OPEN_BEFORE_SECOND_FACTOR = (
    # A new invitation, opened in a browser still logged in without the second factor, leads to setting one up.
    "accounts:invitation",
    "accounts:two_factor",
    "accounts:two_factor_verify",
    "accounts:two_factor_setup",
    "accounts:logout",
)


class SecondFactorMiddleware:
    """Staff, and supporters who have set up a second factor, use nothing until they have given it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        # is_verified() is an attribute check; needs_second_factor() may ask the database, so it comes last.
        held = user is not None and user.is_authenticated and not user.is_verified() and needs_second_factor(user)
        if held and view_name(request) not in OPEN_BEFORE_SECOND_FACTOR and not request.path.startswith("/static/"):
            return redirect("accounts:two_factor")
        return self.get_response(request)


def view_name(request):
    try:
        return resolve(request.path_info).view_name
    except Resolver404:
        return None
