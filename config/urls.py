from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Peer supporter directory"
admin.site.site_title = "Peer supporter directory"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("directory.urls")),
]
