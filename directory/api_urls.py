"""Open data, outside the language prefix: names and addresses come in both languages."""

from django.urls import path

from directory import api
from directory.cache import cached_page

app_name = "api"

urlpatterns = [
    path("roster.json", cached_page(api.roster), name="roster"),
]
