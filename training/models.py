from django.db import models
from simple_history.models import HistoricalRecords

from directory.models import PeerSupporter, training_cutoff

__all__ = ["Attendance", "TrainingMeeting", "training_cutoff"]


class TrainingMeeting(models.Model):
    """The national training meeting for peer supporters."""

    date = models.DateField()
    place = models.CharField(max_length=200)
    attendees = models.ManyToManyField(PeerSupporter, through="Attendance", related_name="training_meetings")

    history = HistoricalRecords()

    class Meta:
        ordering = ["-date"]
        constraints = [models.UniqueConstraint(fields=["date", "place"], name="training_meeting_unique")]

    def __str__(self):
        return f"{self.date:%Y-%m-%d} {self.place}"


class Attendance(models.Model):
    meeting = models.ForeignKey(TrainingMeeting, on_delete=models.PROTECT, related_name="attendances")
    supporter = models.ForeignKey(PeerSupporter, on_delete=models.CASCADE, related_name="attendances")

    history = HistoricalRecords()

    class Meta:
        ordering = ["-meeting__date"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "supporter"], name="attendance_once_per_meeting"),
        ]

    def __str__(self):
        return f"{self.supporter} at {self.meeting}"
