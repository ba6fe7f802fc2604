from django.core.validators import RegexValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from counties.text import fold


class County(models.Model):
    """A county (fylke). Counties merge and split, so they are data that staff can edit."""

    number = models.CharField(
        _("number"),
        max_length=2,
        unique=True,
        validators=[RegexValidator(r"^[0-9]{2}\Z", _("Two digits, such as 03."))],
        help_text=_("Official two-digit county number."),
    )
    name = models.CharField(_("name"), max_length=100)
    official_name = models.CharField(
        _("official name"), max_length=200, help_text=_("Including Sámi and Kven forms where they exist.")
    )
    active = models.BooleanField(
        _("active"), default=True, help_text=_("Inactive counties are hidden from the public pages.")
    )
    search_name = models.CharField(max_length=100, editable=False)

    history = HistoricalRecords(excluded_fields=["search_name"])

    class Meta:
        ordering = ["number"]
        verbose_name = _("county")
        verbose_name_plural = _("counties")

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.search_name = fold(self.name)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("directory:county", kwargs={"number": self.number})


class Municipality(models.Model):
    """A municipality (kommune), with the centroid used to sort supporters nearest first."""

    number = models.CharField(
        _("number"),
        max_length=4,
        unique=True,
        validators=[RegexValidator(r"^[0-9]{4}\Z", _("Four digits, such as 0301."))],
        help_text=_("Official four-digit municipality number."),
    )
    name = models.CharField(_("name"), max_length=100)
    county = models.ForeignKey(
        County, on_delete=models.PROTECT, related_name="municipalities", verbose_name=_("county")
    )
    latitude = models.FloatField(_("latitude"), help_text=_("Centroid latitude, WGS 84 degrees."))
    longitude = models.FloatField(_("longitude"), help_text=_("Centroid longitude, WGS 84 degrees."))
    search_name = models.CharField(max_length=100, editable=False, db_index=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("municipality")
        verbose_name_plural = _("municipalities")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(latitude__gte=-90, latitude__lte=90, longitude__gte=-180, longitude__lte=180),
                name="municipality_centroid_on_earth",
            ),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.search_name = fold(self.name)
        super().save(*args, **kwargs)
