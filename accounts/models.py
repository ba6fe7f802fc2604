import datetime
import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **extra_fields):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra_fields)

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)


class StaffRole(models.TextChoices):
    NONE = "", _("No staff role")
    ADMINISTRATOR = "administrator", _("National administrator")
    COORDINATOR = "coordinator", _("County coordinator")


class User(AbstractBaseUser, PermissionsMixin):
    """Someone who logs in: staff or a peer supporter. Help-seekers never have an account."""

    class Language(models.TextChoices):
        NB = "nb", "Norsk bokmål"
        EN = "en", "English"

    Role = StaffRole

    email = models.EmailField(_("e-mail address"), unique=True)
    name = models.CharField(_("name"), max_length=150, blank=True)
    language = models.CharField(
        _("language"),
        max_length=2,
        choices=Language,
        default=Language.NB,
        help_text=_("The language of e-mails to this person."),
    )
    role = models.CharField(_("staff role"), max_length=20, choices=StaffRole, blank=True, default=StaffRole.NONE)
    counties = models.ManyToManyField(
        "counties.County",
        blank=True,
        related_name="coordinators",
        verbose_name=_("counties"),
        help_text=_("The counties a coordinator maintains."),
    )
    is_staff = models.BooleanField(
        _("staff status"), default=False, help_text=_("May log in to the admin: kept in step with the role.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
            models.CheckConstraint(condition=models.Q(role__in=StaffRole.values), name="accounts_user_role_valid"),
        ]

    def __str__(self):
        return self.email

    def save(self, *args, **kwargs):
        # Staff status follows the role: only administrators, coordinators and superusers reach the admin.
        self.is_staff = self.is_superuser or bool(self.role)
        super().save(*args, **kwargs)

    @property
    def is_administrator(self):
        return self.is_active and (self.is_superuser or self.role == self.Role.ADMINISTRATOR)

    @property
    def is_coordinator(self):
        return self.is_active and self.role == self.Role.COORDINATOR

    def clean(self):
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email)


def token_digest(token):
    """Invitation links are stored as a digest: a copy of the database does not let anyone in."""
    return hashlib.sha256(token.encode()).hexdigest()


def password_fingerprint(user):
    """A digest of the account's password as it is now: it changes whenever the password is set or changed, whatever
    the path (the account page, a reset by e-mail, the admin, a management command)."""
    return salted_hmac("accounts.invitation.password", user.password, algorithm="sha256").hexdigest()


class InvitationQuerySet(models.QuerySet):
    def usable(self, now):
        return self.filter(used_at__isnull=True, expires_at__gt=now)


class Invitation(models.Model):
    """A one-time link to set a password, sent to a supporter (or staff member) by e-mail."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="invitations", verbose_name=_("account"))
    token_digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("sent"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    used_at = models.DateTimeField(_("used"), null=True, blank=True)
    # The account's password when the invitation was sent: a link to set a password is spent once one has been set
    # or changed since, by any path.
    password_fingerprint = models.CharField(max_length=64, editable=False, default="")
    invited_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invitations_sent",
        verbose_name=_("invited by"),
    )

    objects = InvitationQuerySet.as_manager()

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("created_at")), name="invitation_expires_later"
            ),
        ]

    def __str__(self):
        return _("Invitation for %(account)s") % {"account": self.user}

    @classmethod
    def issue(cls, *, user, invited_by=None, now=None):
        """A new invitation and the secret token of its link (which is not stored)."""
        now = now or timezone.now()
        token = secrets.token_urlsafe(32)
        invitation = cls.objects.create(
            user=user,
            token_digest=token_digest(token),
            created_at=now,
            expires_at=now + datetime.timedelta(days=settings.INVITATION_VALID_DAYS),
            invited_by=invited_by,
            password_fingerprint=password_fingerprint(user),
        )
        return invitation, token

    def state(self, now):
        if not self.user.is_active:
            return "deactivated"
        if self.used_at:
            return "used"
        if self.password_fingerprint != password_fingerprint(self.user):
            return "password_changed"
        if self.expires_at <= now:
            return "expired"
        return "valid"
