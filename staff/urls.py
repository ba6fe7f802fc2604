from django.urls import path

from staff import views

app_name = "staff"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("coverage/", views.coverage, name="coverage"),
    path("statistics/", views.statistics, name="statistics"),
    path("statistics/export.csv", views.export, name="export"),
    path("months/close/", views.close_month, name="close_month"),
]
