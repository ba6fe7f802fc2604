from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path

from config import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/", include("directory.api_urls")),
    # Every page for people lives under its language: /nb/... and /en/...; "/" sends the visitor to one of them.
    *i18n_patterns(
        path("accounts/", include("accounts.urls")),
        path("my/counts/", include("tallies.urls")),
        path("staff/", include("staff.urls")),
        path("", include("directory.urls")),
    ),
]

# A database that cannot be reached gets a 503 page instead of the 500 one (config/unavailable.py).
handler500 = views.server_error
handler404 = views.page_not_found
