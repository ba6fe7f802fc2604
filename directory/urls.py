from django.urls import path, re_path

from directory import api, listing_views, views
from directory.cache import cached_page

app_name = "directory"

urlpatterns = [
    # Pages that show the roster are kept in the server-side page cache (directory/cache.py).
    path("", cached_page(views.home), name="home"),
    path("search/", cached_page(views.search), name="search"),
    re_path(r"^counties/(?P<number>[0-9]{2})/$", cached_page(views.county), name="county"),
    path("supporters/<int:pk>/", cached_page(views.supporter), name="supporter"),
    path("supporters/<int:pk>/vcard/", cached_page(views.supporter_vcard_download), name="supporter_vcard"),
    path("about/", views.about, name="about"),
    path("privacy/", views.privacy, name="privacy"),
    path("open-data/", api.open_data, name="open_data"),
    path("accessibility/", views.accessibility, name="accessibility"),
    # The logged-in supporter's own listing; no id in the address.
    path("my/", listing_views.my_listing, name="my_listing"),
    path("my/confirm/", listing_views.my_listing_confirm, name="my_listing_confirm"),
]
