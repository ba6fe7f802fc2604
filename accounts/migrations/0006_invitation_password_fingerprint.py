from django.db import migrations, models
from django.utils.crypto import salted_hmac


def fingerprint_waiting_invitations(apps, schema_editor):
    """Invitations already sent keep working until their account's password is set or changed."""
    Invitation = apps.get_model("accounts", "Invitation")
    for invitation in Invitation.objects.filter(used_at__isnull=True).select_related("user"):
        # The same digest as accounts.models.password_fingerprint, which a migration may not import.
        invitation.password_fingerprint = salted_hmac(
            "accounts.invitation.password", invitation.user.password, algorithm="sha256"
        ).hexdigest()
        invitation.save(update_fields=["password_fingerprint"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_translated_labels"),
    ]

    operations = [
        migrations.AddField(
            model_name="invitation",
            name="password_fingerprint",
            field=models.CharField(default="", editable=False, max_length=64),
        ),
        migrations.RunPython(fingerprint_waiting_invitations, migrations.RunPython.noop),
    ]
