"""Seed the 15 counties and 357 municipalities in force since 1 January 2024 (Kartverket, CC BY 4.0)."""

import csv
from pathlib import Path

from django.db import migrations

from counties.text import fold

DATA = Path(__file__).resolve().parent.parent / "data"


def read_rows(filename):
    with open(DATA / filename, encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


def seed(apps, schema_editor):
    County = apps.get_model("counties", "County")
    Municipality = apps.get_model("counties", "Municipality")
    counties = {
        row["county_number"]: County.objects.create(
            number=row["county_number"],
            name=row["name"],
            official_name=row["official_name"],
            search_name=fold(row["name"]),
        )
        for row in read_rows("norway-counties-2024.csv")
    }
    Municipality.objects.bulk_create(
        Municipality(
            number=row["municipality_number"],
            name=row["name"],
            county=counties[row["county_number"]],
            latitude=float(row["centroid_lat"]),
            longitude=float(row["centroid_lon"]),
            search_name=fold(row["name"]),
        )
        for row in read_rows("norway-municipalities-2024.csv")
    )


def unseed(apps, schema_editor):
    apps.get_model("counties", "Municipality").objects.all().delete()
    apps.get_model("counties", "County").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("counties", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
