from django.urls import path

from tallies import views

app_name = "tallies"

# The logged-in supporter's own counts; the address names a month, never a supporter.
urlpatterns = [
    path("", views.index, name="index"),
    path("<int:year>/<int:month>/", views.edit, name="edit"),
]
