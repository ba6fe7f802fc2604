import datetime
import hashlib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, RegexValidator
from django.db import models
from django.db.models import Case, Exists, ExpressionWrapper, F, OuterRef, Q, StringAgg, Subquery, Value, When
from django.db.models.functions import ASin, Cast, Cos, Length, Power, Radians, Sin, Sqrt
from django.db.models.lookups import Exact, LessThanOrEqual
from django.urls import reverse
from django.utils.text import format_lazy
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField
from simple_history.models import HistoricalRecords

from counties.models import County, Municipality
from counties.text import fold

NOTE_MAX_LENGTH = 500
EARTH_RADIUS_KM = 6371.0088


def in_language(name_nb, name_en):
    """The name in the active language: English for English pages, Norwegian Bokmål otherwise."""
    return name_en if (get_language() or "").startswith("en") else name_nb


# Defined outside the models so that their Meta constraints can name them.
class SpecialtyGroup(models.TextChoices):
    FAMILY_MEDICINE = "family_medicine", _("Family medicine")
    PSYCHIATRY = "psychiatry", _("Psychiatry")
    INTERNAL_MEDICINE = "internal_medicine", _("Internal medicine")
    SURGERY = "surgery", _("Surgery")
    LABORATORY_MEDICINE = "laboratory_medicine", _("Laboratory medicine")
    OTHER = "other", _("Other")


class Availability(models.TextChoices):
    OPEN = "open", _("Open to new contacts")
    FEW_PLACES = "few_places", _("Few places left")
    PAUSED = "paused", _("Paused")


class Specialty(models.Model):
    """A recognised Norwegian medical specialty, or "in specialist training" / "no specialty"."""

    Group = SpecialtyGroup

    slug = models.SlugField(_("slug"), max_length=100, unique=True, help_text=_("Used in search addresses."))
    name_nb = models.CharField(_("name (Norwegian)"), max_length=100, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=100)
    group = models.CharField(
        _("group"), max_length=30, choices=SpecialtyGroup, help_text=_("Used for coverage overviews.")
    )
    search_text = models.CharField(max_length=250, editable=False)

    class Meta:
        ordering = ["name_nb"]
        verbose_name = _("specialty")
        verbose_name_plural = _("specialties")
        constraints = [
            models.CheckConstraint(condition=Q(group__in=SpecialtyGroup.values), name="specialty_group_valid"),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.search_text = fold(self.name_nb, self.name_en)
        super().save(*args, **kwargs)

    @property
    def name(self):
        return in_language(self.name_nb, self.name_en)


class Language(models.Model):
    """A language a supporter can hold a conversation in, by its ISO 639-1 code."""

    code = models.CharField(
        _("ISO 639-1 code"),
        max_length=2,
        unique=True,
        validators=[RegexValidator(r"^[a-z]{2}\Z", _("Two lower-case letters, such as nb or en."))],
    )
    name_nb = models.CharField(_("name (Norwegian)"), max_length=60)
    name_en = models.CharField(_("name (English)"), max_length=60)

    class Meta:
        ordering = ["name_en"]
        verbose_name = _("language")
        verbose_name_plural = _("languages")
        constraints = [
            models.CheckConstraint(
                condition=Exact(Length("code"), 2),
                name="language_code_iso_639_1",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def name(self):
        return in_language(self.name_nb, self.name_en)


# A prime above every id: the daily order is worked out in integers modulo this prime.
DAILY_ORDER_PRIME = 2**31 - 1


def daily_order_key(today):
    """A shuffle of supporters that is the same all day, different the next, and stored nowhere.

    Integers the database works out and sorts quickly even for a hundred thousand rows (a hash as text is compared
    by collation): the id through a line and two squares modulo a prime, with three numbers from a hash of the date.
    A line alone would keep neighbouring ids in step and favour some of them day after day; the squares mix them as
    well as a random shuffle does (tests/test_rotation.py). Every product stays below 2**63 on both databases.
    """
    digest = hashlib.sha256(f"daily order {today.isoformat()}".encode()).digest()
    slope, offset, shift = (1 + int.from_bytes(digest[i : i + 8], "big") % (DAILY_ORDER_PRIME - 1) for i in (0, 8, 16))
    # The % operator, not Mod(): SQLite's MOD() is a Python function on floats, slow and inexact past 2**53.
    mixed = (F("id") * Value(slope) + Value(offset)) % Value(DAILY_ORDER_PRIME)
    mixed = (mixed * mixed + Value(shift)) % Value(DAILY_ORDER_PRIME)
    return ExpressionWrapper(mixed * mixed % Value(DAILY_ORDER_PRIME), output_field=models.BigIntegerField())


def training_cutoff(today):
    """The earliest meeting date that still counts: supporters attend at least every TRAINING_INTERVAL_YEARS."""
    years = settings.TRAINING_INTERVAL_YEARS
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def confirmation_cutoff(today):
    """Listings last confirmed before this day are out of date."""
    return today - datetime.timedelta(days=settings.CONFIRMATION_MAX_AGE_DAYS)


def through_exists(field_name, **lookups):
    """Whether a supporter has a related row matching lookups, without duplicating supporters."""
    through = PeerSupporter._meta.get_field(field_name).remote_field.through
    return Exists(through.objects.filter(peersupporter_id=OuterRef("pk"), **lookups))


def linked_ids(field_name, column):
    """The ids a supporter links to through a many-to-many table, comma-separated (PostgreSQL evaluates it only for
    the rows that are returned, after ORDER BY and LIMIT; SQLite likewise)."""
    through = PeerSupporter._meta.get_field(field_name).remote_field.through
    ids = (
        through.objects.filter(peersupporter_id=OuterRef("pk"))
        .order_by()
        .values("peersupporter_id")
        .annotate(ids=StringAgg(Cast(column, models.CharField()), Value(",")))
        .values("ids")
    )
    return Subquery(ids, output_field=models.CharField())


class PeerSupporterQuerySet(models.QuerySet):
    def listed(self):
        return self.filter(listed=True)

    def open_now(self, today):
        """Open to new contacts (or few places left) today, counting a pause that has ended as open."""
        return self.filter(~Q(availability=PeerSupporter.Availability.PAUSED) | Q(availability_until__lt=today))

    def in_counties(self, counties):
        return self.filter(municipality__county__in=counties)

    def in_municipalities(self, municipality_ids):
        return self.filter(municipality_id__in=municipality_ids)

    def in_specialties(self, specialties):
        return self.filter(through_exists("specialties", specialty__in=specialties))

    def speaking(self, languages):
        return self.filter(through_exists("languages", language__in=languages))

    def meeting_by(self, modes):
        """Supporters who meet in at least one of the given modes."""
        condition = Q()
        for mode in modes:
            condition |= Q(**{PeerSupporter.Mode(mode).field_name: True})
        return self.filter(condition)

    def remote(self):
        return self.meeting_by([PeerSupporter.Mode.PHONE, PeerSupporter.Mode.VIDEO])

    def matching_text(self, text, reference=None):
        """Every word of text appears in the name, title, town, municipality, county or a specialty.

        Municipalities, counties and specialties are matched in the reference data in memory, so that the database
        compares one column of its own per word (search_text, which a trigram index serves on PostgreSQL) and looks
        the rest up by id.
        """
        if reference is None:
            # Imported here: directory.reference imports this module.
            from directory.reference import reference as current_reference

            reference = current_reference()
        queryset = self
        for word in fold(text).split():
            queryset = queryset.filter(
                Q(search_text__contains=word)
                | Q(municipality_id__in=reference.municipality_ids_matching(word))
                | through_exists("specialties", specialty_id__in=reference.specialty_ids_matching(word))
            )
        return queryset

    def with_availability_on(self, today):
        return self.annotate(
            current_availability=Case(
                When(availability_until__lt=today, then=Value(PeerSupporter.Availability.OPEN)),
                default=F("availability"),
            )
        )

    def in_daily_order(self, today):
        """Open supporters first, then a fair order that changes every day."""
        return self.with_availability_on(today).order_by(
            Case(When(current_availability=PeerSupporter.Availability.PAUSED, then=Value(1)), default=Value(0)),
            daily_order_key(today),
            "id",
        )

    def nearest_to(self, municipality, today):
        """Nearest first, by great-circle distance between municipality centroids; ties in the daily order."""
        lat, lon = Radians(F("municipality__latitude")), Radians(F("municipality__longitude"))
        lat0, lon0 = Radians(Value(municipality.latitude)), Radians(Value(municipality.longitude))
        haversine = Power(Sin((lat - lat0) / 2), 2) + Cos(lat0) * Cos(lat) * Power(Sin((lon - lon0) / 2), 2)
        return (
            self.with_availability_on(today)
            .annotate(distance_km=2 * EARTH_RADIUS_KM * ASin(Sqrt(haversine)))
            .order_by("distance_km", daily_order_key(today), "id")
        )

    def training_due(self, today):
        """Supporters who have not attended a training meeting in the last TRAINING_INTERVAL_YEARS."""
        return self.exclude(attendances__meeting__date__gte=training_cutoff(today))

    def not_confirmed_since(self, today):
        """Supporters whose listing has not been confirmed for CONFIRMATION_MAX_AGE_DAYS (or never)."""
        return self.filter(Q(last_confirmed__isnull=True) | Q(last_confirmed__lt=confirmation_cutoff(today)))

    def for_cards(self):
        """What a list of supporter cards shows, fetched in a fixed number of queries."""
        return self.select_related("municipality__county").prefetch_related("specialties", "languages")

    def with_link_ids(self):
        """Each supporter's specialty and language ids as text ("3,17"), read in the same query as the supporter.

        The public pages turn them into names from the reference data in memory (directory/reference.py) instead of
        one more query per relation.
        """
        return self.select_related("municipality__county").annotate(
            specialty_ids=linked_ids("specialties", "specialty_id"),
            language_ids=linked_ids("languages", "language_id"),
        )


class PeerSupporter(models.Model):
    """A peer supporter as listed in the directory."""

    Availability = Availability

    class Mode(models.TextChoices):
        IN_PERSON = "in_person", _("In person")
        PHONE = "phone", _("By phone")
        VIDEO = "video", _("By video")

        @property
        def field_name(self):
            return {"in_person": "meets_in_person", "phone": "meets_by_phone", "video": "meets_by_video"}[self.value]

    name = models.CharField(_("name"), max_length=150)
    title = models.CharField(_("title"), max_length=150, blank=True, help_text=_("Such as “Fastlege” or “Overlege”."))
    specialties = models.ManyToManyField(
        Specialty, blank=True, related_name="supporters", verbose_name=_("specialties")
    )
    municipality = models.ForeignKey(
        Municipality, on_delete=models.PROTECT, related_name="supporters", verbose_name=_("municipality")
    )
    town = models.CharField(
        _("town"), max_length=100, blank=True, help_text=_("Town or place, if not the municipality's name.")
    )

    email = models.EmailField(_("e-mail"), blank=True)
    show_email = models.BooleanField(_("show e-mail publicly"), default=True)
    phone = PhoneNumberField(_("phone"), blank=True, help_text=_("Stored as +47…, shown in national format."))
    show_phone = models.BooleanField(_("show phone publicly"), default=True)

    meets_in_person = models.BooleanField(_("meets in person"), default=True)
    meets_by_phone = models.BooleanField(_("meets by phone"), default=True)
    meets_by_video = models.BooleanField(_("meets by video"), default=False)
    evenings = models.BooleanField(_("can meet on evenings"), default=False)
    weekends = models.BooleanField(_("can meet on weekends"), default=False)
    languages = models.ManyToManyField(Language, blank=True, related_name="supporters", verbose_name=_("languages"))
    note = models.TextField(
        _("note"),
        blank=True,
        max_length=NOTE_MAX_LENGTH,
        validators=[MaxLengthValidator(NOTE_MAX_LENGTH)],
        help_text=format_lazy(_("Plain text, at most {limit} characters."), limit=NOTE_MAX_LENGTH),
    )

    availability = models.CharField(_("availability"), max_length=20, choices=Availability, default=Availability.OPEN)
    availability_until = models.DateField(
        _("until"),
        null=True,
        blank=True,
        help_text=_("Last day of a pause or of “few places left”; open again from the day after."),
    )
    last_confirmed = models.DateField(_("details last confirmed"), null=True, blank=True)
    appointed = models.DateField(_("appointed on"), null=True, blank=True)
    listed = models.BooleanField(_("listed"), default=True, help_text=_("Shown in the public directory."))
    account = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="supporter",
        verbose_name=_("account"),
    )

    # Folded name, title and town, kept in step by save() for accent- and case-blind search.
    search_text = models.CharField(max_length=420, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = PeerSupporterQuerySet.as_manager()
    history = HistoricalRecords(m2m_fields=[specialties, languages], excluded_fields=["search_text", "updated_at"])

    class Meta:
        ordering = ["name"]
        verbose_name = _("peer supporter")
        verbose_name_plural = _("peer supporters")
        constraints = [
            models.CheckConstraint(
                condition=Q(listed=False) | (Q(show_email=True) & ~Q(email="")) | (Q(show_phone=True) & ~Q(phone="")),
                name="supporter_listed_has_public_contact",
            ),
            models.CheckConstraint(
                condition=Q(listed=False) | Q(meets_in_person=True) | Q(meets_by_phone=True) | Q(meets_by_video=True),
                name="supporter_listed_has_meeting_mode",
            ),
            models.CheckConstraint(
                condition=Q(availability__in=Availability.values), name="supporter_availability_valid"
            ),
            models.CheckConstraint(
                condition=Q(availability_until__isnull=True)
                | Q(availability__in=[Availability.PAUSED, Availability.FEW_PLACES]),
                name="supporter_until_only_when_limited",
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("note"), NOTE_MAX_LENGTH), name="supporter_note_length"
            ),
            # On SQLite, REGEXP is a function Django adds to its own connections.
            models.CheckConstraint(
                condition=Q(phone="") | Q(phone__regex=r"^\+[1-9][0-9]{6,14}$"), name="supporter_phone_e164"
            ),
        ]
        indexes = [
            models.Index(fields=["listed", "availability"], name="supporter_listed_availability"),
            # The county filter (municipality ids of the county) and the supporters per county on the home page.
            models.Index(fields=["listed", "municipality"], name="supporter_listed_municipality"),
            # On PostgreSQL also a trigram index on search_text for the free text (migration 0006, PostgreSQL only).
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.search_text = self.folded_search_text()
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("directory:supporter", kwargs={"pk": self.pk})

    def clean(self):
        super().clean()
        errors = {}
        if self.listed and not (self.public_email or self.public_phone):
            errors["listed"] = _("A listed supporter must show at least one contact method: a phone number or e-mail.")
        if self.listed and not self.modes:
            errors["meets_in_person"] = _("A listed supporter must offer at least one way to meet.")
        if self.availability_until and self.availability == self.Availability.OPEN:
            errors["availability_until"] = _("An end date only applies to “paused” or “few places left”.")
        if errors:
            raise ValidationError(errors)

    def folded_search_text(self):
        return fold(self.name, self.title, self.town)

    @property
    def county(self) -> County:
        return self.municipality.county

    @property
    def public_email(self):
        return self.email if self.show_email and self.email else ""

    @property
    def public_phone(self):
        return self.phone if self.show_phone and self.phone else None

    @property
    def modes(self):
        return [mode for mode in self.Mode if getattr(self, mode.field_name)]

    def availability_on(self, day: datetime.date):
        """The availability in force on day: a limited status reverts to open after its end date."""
        if self.availability_until and self.availability_until < day:
            return self.Availability.OPEN
        return self.Availability(self.availability)

    def until_on(self, day: datetime.date):
        """The end date still in force on day, if any."""
        if self.availability_until and self.availability_until >= day:
            return self.availability_until
        return None


class ReminderKind(models.TextChoices):
    CONFIRM = "confirm", _("Confirm the listing")
    PAUSE_ENDED = "pause_ended", _("Pause has ended")
    COUNTS = "counts", _("Enter last month's counts")


class Reminder(models.Model):
    """A reminder e-mail that went out to a supporter, kept so that the daily run never sends it twice.

    The key names the occasion: the day a confirmation reminder went out, the last day of the pause that ended,
    or the first day of the month whose counts were missing. Nothing else is stored.
    """

    Kind = ReminderKind

    supporter = models.ForeignKey(PeerSupporter, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=20, choices=ReminderKind)
    key = models.DateField(help_text=_("The occasion: day sent, last day of the pause, or month of the counts."))
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(fields=["supporter", "kind", "key"], name="reminder_once_per_occasion"),
            models.CheckConstraint(condition=Q(kind__in=ReminderKind.values), name="reminder_kind_valid"),
            models.CheckConstraint(
                condition=~Q(kind=ReminderKind.COUNTS) | Q(key__day=1), name="reminder_counts_key_first_day"
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.key:%Y-%m-%d})"
