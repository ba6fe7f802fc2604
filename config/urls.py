from django.contrib import admin
from django.urls import include, path

from config import views

admin.site.site_header = "Peer supporter directory"
admin.site.site_title = "Peer supporter directory"

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("", include("directory.urls")),
]
