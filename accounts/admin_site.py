from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.urls import reverse


class VerifiedAdminSite(admin.AdminSite):
    """The admin for active staff who have logged in with their second factor; logging in happens in accounts."""

    site_header = "Peer supporter directory"
    site_title = "Peer supporter directory"

    def has_permission(self, request):
        return super().has_permission(request) and request.user.is_verified()

    def login(self, request, extra_context=None):
        return redirect_to_login(request.GET.get("next", reverse("admin:index")), reverse("accounts:login"))
