"""Open data, outside the language prefix: names and addresses come in both languages."""

from django.urls import path

from directory import api

app_name = "api"

urlpatterns = [
    path("roster.json", api.roster, name="roster"),
]
