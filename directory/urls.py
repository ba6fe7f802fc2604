from django.urls import path, re_path

from directory import api, listing_views, views

app_name = "directory"

urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    re_path(r"^counties/(?P<number>[0-9]{2})/$", views.county, name="county"),
    path("supporters/<int:pk>/", views.supporter, name="supporter"),
    path("supporters/<int:pk>/vcard/", views.supporter_vcard_download, name="supporter_vcard"),
    path("about/", views.about, name="about"),
    path("privacy/", views.privacy, name="privacy"),
    path("open-data/", api.open_data, name="open_data"),
    path("accessibility/", views.accessibility, name="accessibility"),
    # The logged-in supporter's own listing; no id in the address.
    path("my/", listing_views.my_listing, name="my_listing"),
    path("my/confirm/", listing_views.my_listing_confirm, name="my_listing_confirm"),
]
