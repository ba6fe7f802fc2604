"""Seed the recognised Norwegian medical specialties and the languages supporters can choose from."""

import csv
from pathlib import Path

from django.db import migrations
from django.utils.text import slugify

from counties.text import fold

DATA = Path(__file__).resolve().parent.parent / "data"


def read_rows(filename):
    with open(DATA / filename, encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


def seed(apps, schema_editor):
    Specialty = apps.get_model("directory", "Specialty")
    Language = apps.get_model("directory", "Language")
    Specialty.objects.bulk_create(
        Specialty(
            slug=slugify(row["name_en"]),
            name_nb=row["name_nb"],
            name_en=row["name_en"],
            group=row["group"],
            search_text=fold(row["name_nb"], row["name_en"]),
        )
        for row in read_rows("norwegian-medical-specialties.csv")
    )
    Language.objects.bulk_create(Language(**row) for row in read_rows("languages.csv"))


def unseed(apps, schema_editor):
    apps.get_model("directory", "Specialty").objects.all().delete()
    apps.get_model("directory", "Language").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("directory", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
