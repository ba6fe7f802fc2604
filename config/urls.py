from django.contrib import admin
from django.urls import include, path

from config import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("my/counts/", include("tallies.urls")),
    path("staff/", include("staff.urls")),
    path("", include("directory.urls")),
]
