"""Load a deterministic, clearly fictitious roster of peer supporters for demonstration and benchmarks."""

import datetime
import random
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from counties.models import County, Municipality
from counties.text import fold
from directory.models import Availability, Language, PeerSupporter, Specialty

FIRST_NAMES = (
    "Anne Astrid Berit Camilla Eli Hanne Hilde Ida Ingrid Kari Kristin Lene Linn Maria Marit Nina Ragnhild Sigrid "
    "Silje Siri Solveig Tone Tuva Unni Åse Øyvind Anders Arne Bjørn Eirik Erlend Geir Håkon Ivar Jon Knut Kristian "
    "Lars Magnus Morten Nils Ola Per Rune Sindre Stian Terje Torbjørn Trond Vegard Aslak Elle Máret Nils-Ánte Sara"
).split()
LAST_NAMES = (
    "Aasen Bakke Berg Dahl Eide Fjeld Gundersen Hagen Halvorsen Haugland Holm Jakobsen Johansen Karlsen Kristiansen "
    "Larsen Lie Lund Moen Myhre Nilsen Nygård Olsen Pedersen Rønning Sandvik Solberg Strand Sæther Tangen Toft "
    "Vik Ødegård Østby Aas Bjørke Brekke Fossum Grønli Hætta Kvalsund Lyngstad Mikkelsen Nordhus Rasmussen Skjelbred"
).split()
# Roughly by population, so that the roster looks like the real one.
COUNTY_WEIGHTS = {
    "03": 14, "32": 13, "46": 12, "50": 9, "11": 9, "34": 7, "42": 6, "31": 6,
    "33": 5, "39": 5, "15": 5, "18": 5, "40": 3, "55": 3, "56": 1.5,
}  # fmt: skip
# The larger towns, where most supporters live; the rest spread over the whole county.
TOWNS = {
    "0301", "1103", "1106", "1108", "1506", "1508", "1804", "1833", "3105", "3107", "3201", "3203", "3207", "3301",
    "3403", "3405", "3411", "3905", "3907", "4003", "4203", "4204", "4601", "4621", "5001", "5006", "5501", "5601",
    "5603",
}  # fmt: skip
TOWN_CHANCE = 0.6
SPECIALTY_WEIGHTS = {
    "general-practice-family-medicine": 45,
    "psychiatry": 12,
    "child-and-adolescent-psychiatry": 4,
    "doctor-in-specialist-training": 6,
    "internal-medicine": 4,
    "anaesthesiology": 3,
    "paediatrics": 3,
    "obstetrics-and-gynaecology": 3,
    "general-surgery": 2,
    "addiction-medicine": 2,
}
OTHER_SPECIALTY_WEIGHT = 0.4
TITLES = {
    "general-practice-family-medicine": "Fastlege",
    "doctor-in-specialist-training": "Lege",
}
# Chance of each extra language besides Norwegian; Northern Sami and Finnish far more in the north.
LANGUAGE_CHANCES = {
    "en": 0.7, "sv": 0.08, "da": 0.05, "de": 0.06, "fr": 0.03, "es": 0.03, "pl": 0.03,
    "ar": 0.02, "fa": 0.02, "ur": 0.02, "so": 0.01, "se": 0.01, "fi": 0.02,
}  # fmt: skip
NORTHERN_LANGUAGE_CHANCES = {"se": 0.3, "fi": 0.1}
NORTHERN_COUNTIES = {"55", "56"}
NOTES = [
    "I have worked as a GP for many years and know the strain of the job well. Call or send a text.",
    "Happy to meet for a walk if you prefer that to an office.",
    "Erfaren fastlege. Ring gjerne, også på kveldstid.",
    "I answer within a day. Video works well if you live far away.",
    "Tidligere sykehuslege, nå i allmennpraksis. Jeg tar gjerne en prat.",
]
BATCH_SIZE = 2000


class Command(BaseCommand):
    help = "Load a fictitious demo roster of peer supporters (deterministic: the same N gives the same roster)."

    def add_arguments(self, parser):
        parser.add_argument("--supporters", type=int, default=90, help="How many supporters (default 90).")
        parser.add_argument("--replace", action="store_true", help="Delete every existing supporter first.")
        parser.add_argument("--seed", type=int, default=2024, help="Random seed (default 2024).")

    def handle(self, *args, supporters, replace, seed, **options):
        if not 1 <= supporters <= 1_000_000:
            raise CommandError("--supporters must be between 1 and 1,000,000.")
        existing = PeerSupporter.objects.count()
        if existing and not replace:
            self.stdout.write(f"The roster already has {existing} supporters; nothing loaded (use --replace).")
            return
        started = time.monotonic()
        with transaction.atomic():
            if replace:
                PeerSupporter.objects.all().delete()
            # Fictitious people, the same for the same seed: no secret is drawn here.
            DemoRoster(random.Random(seed), timezone.localdate()).create(supporters)  # noqa: S311
        elapsed = time.monotonic() - started
        self.stdout.write(self.style.SUCCESS(f"Loaded {supporters} fictitious supporters in {elapsed:.1f} s."))


class DemoRoster:
    def __init__(self, rng, today):
        self.rng = rng
        self.today = today
        counties = {county.number: county for county in County.objects.filter(active=True)}
        if not counties:
            raise CommandError("There are no active counties: run migrate first.")
        self.county_numbers = sorted(counties)
        self.county_weights = [COUNTY_WEIGHTS.get(number, 3) for number in self.county_numbers]
        self.municipalities = {number: [] for number in counties}
        self.towns = {number: [] for number in counties}
        for municipality in Municipality.objects.select_related("county").order_by("number"):
            county_number = municipality.county.number
            if county_number in self.municipalities:
                self.municipalities[county_number].append(municipality)
                if municipality.number in TOWNS:
                    self.towns[county_number].append(municipality)
        specialties = list(Specialty.objects.order_by("slug"))
        self.specialties = specialties
        self.specialty_weights = [SPECIALTY_WEIGHTS.get(s.slug, OTHER_SPECIALTY_WEIGHT) for s in specialties]
        self.languages = {language.code: language for language in Language.objects.all()}

    def create(self, count):
        Through = PeerSupporter.specialties.through
        LanguageThrough = PeerSupporter.languages.through
        for start in range(0, count, BATCH_SIZE):
            drafts = [self.draft(index) for index in range(start, min(start + BATCH_SIZE, count))]
            created = PeerSupporter.objects.bulk_create([supporter for supporter, _, _ in drafts])
            specialty_links, language_links = [], []
            for supporter, (_, specialties, languages) in zip(created, drafts, strict=True):
                specialty_links += [Through(peersupporter_id=supporter.pk, specialty=s) for s in specialties]
                language_links += [LanguageThrough(peersupporter_id=supporter.pk, language=lang) for lang in languages]
            Through.objects.bulk_create(specialty_links)
            LanguageThrough.objects.bulk_create(language_links)

    def draft(self, index):
        rng = self.rng
        # The first supporters go one to each county, so every county has someone.
        if index < len(self.county_numbers):
            county_number = self.county_numbers[index]
        else:
            county_number = rng.choices(self.county_numbers, self.county_weights)[0]
        towns = self.towns[county_number]
        municipality = rng.choice(towns if towns and rng.random() < TOWN_CHANCE else self.municipalities[county_number])
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        specialties = {rng.choices(self.specialties, self.specialty_weights)[0]}
        if rng.random() < 0.15:
            specialties.add(rng.choices(self.specialties, self.specialty_weights)[0])
        main = min(specialties, key=lambda s: -SPECIALTY_WEIGHTS.get(s.slug, 0))
        modes = {
            "meets_in_person": rng.random() < 0.9,
            "meets_by_phone": rng.random() < 0.85,
            "meets_by_video": rng.random() < 0.5,
        }
        if not any(modes.values()):
            modes["meets_by_phone"] = True
        show_phone, show_email = True, True
        hidden = rng.random()
        if hidden < 0.15:
            show_phone = False
        elif hidden < 0.25:
            show_email = False
        supporter = PeerSupporter(
            name=f"{first} {last}",
            title=TITLES.get(main.slug, "Overlege"),
            municipality=municipality,
            email=f"{fold(first).replace(' ', '-')}.{fold(last).replace(' ', '-')}.{index}@example.org",
            show_email=show_email,
            # Valid Norwegian mobile numbers, one per supporter.
            phone=f"+479{index:07d}",
            show_phone=show_phone,
            evenings=rng.random() < 0.55,
            weekends=rng.random() < 0.35,
            note=rng.choice(NOTES) if rng.random() < 0.4 else "",
            last_confirmed=self.today - datetime.timedelta(days=rng.randrange(0, 400)),
            appointed=datetime.date(rng.randrange(2012, 2026), rng.randrange(1, 13), 1),
            listed=rng.random() >= 0.03,
            **modes,
            **self.availability(),
        )
        supporter.search_text = supporter.folded_search_text()
        return supporter, specialties, self.spoken_languages(county_number)

    def availability(self):
        draw = self.rng.random()
        if draw < 0.75:
            return {"availability": Availability.OPEN, "availability_until": None}
        status = Availability.FEW_PLACES if draw < 0.87 else Availability.PAUSED
        until = None
        if self.rng.random() < 0.6:
            # Some end dates have already passed: those supporters count as open again.
            until = self.today + datetime.timedelta(days=self.rng.randrange(-20, 90))
        return {"availability": status, "availability_until": until}

    def spoken_languages(self, county_number):
        chances = dict(LANGUAGE_CHANCES)
        if county_number in NORTHERN_COUNTIES:
            chances.update(NORTHERN_LANGUAGE_CHANCES)
        codes = ["nb"] + [code for code, chance in chances.items() if self.rng.random() < chance]
        return [self.languages[code] for code in codes if code in self.languages]
