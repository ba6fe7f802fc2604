from functools import update_wrapper

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import BadRequest, PermissionDenied
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


def has_nul_character(request):
    """PostgreSQL refuses text with a NUL character; the admin's filters would pass one straight to it."""
    return any(
        "\x00" in value for data in (request.GET, request.POST) for values in data.lists() for value in values[1]
    )


class VerifiedAdminSite(admin.AdminSite):
    """The admin for active staff who have logged in with their second factor; logging in happens in accounts."""

    site_header = _("Peer supporter directory")
    site_title = _("Peer supporter directory")

    def has_permission(self, request):
        return super().has_permission(request) and request.user.is_verified()

    def login(self, request, extra_context=None):
        # Someone logged in who still lands here is not staff (staff who have not yet given their second factor are
        # sent to give it before they reach the admin): the login page would send them straight back to the admin,
        # and round again. They are refused instead, with or without a second factor of their own.
        if request.user.is_authenticated:
            raise PermissionDenied
        return redirect_to_login(request.GET.get("next", reverse("admin:index")), reverse("accounts:login"))

    def admin_view(self, view, cacheable=False):
        inner = super().admin_view(view, cacheable)

        def refuse_nul_characters(request, *args, **kwargs):
            if has_nul_character(request):
                raise BadRequest("A value in the request contains a NUL character.")
            return inner(request, *args, **kwargs)

        return update_wrapper(refuse_nul_characters, inner)
