from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from directory.models import PeerSupporter, training_cutoff

__all__ = ["Attendance", "TrainingMeeting", "training_cutoff"]


class TrainingMeeting(models.Model):
    """The national training meeting for peer supporters."""

    date = models.DateField(_("date"))
    place = models.CharField(_("place"), max_length=200)
    attendees = models.ManyToManyField(
        PeerSupporter, through="Attendance", related_name="training_meetings", verbose_name=_("attendees")
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("training meeting")
        verbose_name_plural = _("training meetings")
        ordering = ["-date"]
        constraints = [models.UniqueConstraint(fields=["date", "place"], name="training_meeting_unique")]

    def __str__(self):
        return f"{self.date:%Y-%m-%d} {self.place}"


class Attendance(models.Model):
    meeting = models.ForeignKey(
        TrainingMeeting, on_delete=models.PROTECT, related_name="attendances", verbose_name=_("training meeting")
    )
    supporter = models.ForeignKey(
        PeerSupporter, on_delete=models.CASCADE, related_name="attendances", verbose_name=_("supporter")
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendances")
        ordering = ["-meeting__date"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "supporter"], name="attendance_once_per_meeting"),
        ]

    def __str__(self):
        return _("%(supporter)s at %(meeting)s") % {"supporter": self.supporter, "meeting": self.meeting}
