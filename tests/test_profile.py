"""The public profile page of a supporter, the vCard download, and how a pause that has ended is shown."""

import datetime
import re

import pytest
from django.utils import timezone

from directory.models import Availability, PeerSupporter

VCARD_LINE_OCTETS = 75


def profile(client, supporter):
    return client.get(f"/en/supporters/{supporter.pk}/")


def vcard(client, supporter):
    return client.get(f"/en/supporters/{supporter.pk}/vcard/")


def unfold(payload: bytes) -> list[str]:
    """The logical content lines of a vCard: CRLF followed by a space continues the previous line."""
    return payload.decode("utf-8").replace("\r\n ", "").split("\r\n")


def unescape(value: str) -> str:
    """Undo RFC 6350 text escaping: \\n, \\, \\; and \\\\."""
    return re.sub(r"\\(.)", lambda match: "\n" if match.group(1) in "nN" else match.group(1), value)


def property_value(lines: list[str], name: str) -> str:
    """The raw (still escaped) value of the first property called name, parameters skipped."""
    for line in lines:
        head, separator, value = line.partition(":")
        if separator and head.split(";")[0].upper() == name:
            return value
    raise AssertionError(f"No {name} property in {lines!r}")


def split_components(value: str) -> list[str]:
    """Split a structured value on unescaped semicolons."""
    return [unescape(part) for part in re.split(r"(?<!\\);", value)]


# --- The profile page ---------------------------------------------------------------------------------------


def test_profile_shows_every_public_field(client, make_supporter):
    supporter = make_supporter(
        name="Kari Nordmann",
        title="Fastlege",
        municipality="Bergen",
        town="Fana",
        specialties=["general-practice-family-medicine", "psychiatry"],
        languages=["nb", "en"],
        meets_in_person=True,
        meets_by_phone=False,
        meets_by_video=True,
        evenings=True,
        weekends=True,
        note="Ring gjerne.\nJeg svarer innen en dag.",
        last_confirmed=datetime.date(2026, 3, 3),
    )

    response = profile(client, supporter)

    assert response.status_code == 200
    html = response.content.decode()
    assert '<h1 class="ds-heading" data-size="lg">Kari Nordmann</h1>' in html
    assert "Fastlege" in html
    assert "General practice (family medicine)" in html
    assert "Psychiatry" in html
    assert "Fana, Bergen," in html
    assert '<a class="ds-link" href="/en/counties/46/">Vestland</a>' in html
    meets = re.search(r"<dt>Meets</dt>\s*<dd>(.*?)</dd>", html, re.S).group(1).lower()
    assert "in person" in meets
    assert "video" in meets
    assert "phone" not in meets
    assert "Can meet on evenings and weekends" in html
    assert "English" in html
    assert "Norwegian" in html
    assert "Ring gjerne.<br>Jeg svarer innen en dag." in html
    assert '<time datetime="2026-03-03">3 March 2026</time>' in html


def test_profile_says_daytime_when_the_supporter_meets_neither_evenings_nor_weekends(client, make_supporter):
    supporter = make_supporter(evenings=False, weekends=False)

    html = profile(client, supporter).content.decode()

    assert "Usually in the daytime on weekdays" in html
    assert "Can meet on" not in html


def test_profile_shows_the_note_as_escaped_plain_text(client, make_supporter):
    supporter = make_supporter(note='Hei <script>alert("x")</script> & <b>bold</b>')

    html = profile(client, supporter).content.decode()

    assert "<script>alert" not in html
    assert "<b>bold</b>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html


def test_profile_links_the_phone_in_e164_and_shows_it_in_national_format(client, make_supporter):
    supporter = make_supporter(phone="+4722123456")

    html = profile(client, supporter).content.decode()

    tel = re.search(r'<a class="ds-button" [^>]*href="tel:\+4722123456">(.*?)</a>', html, re.S)
    assert tel, html
    assert re.sub(r"<[^>]+>", "", tel.group(1)) == "Call 22 12 34 56"


def test_profile_links_the_email_with_mailto(client, make_supporter):
    supporter = make_supporter(email="kari.nordmann@example.org")

    html = profile(client, supporter).content.decode()

    mail = re.search(r'<a class="ds-button" [^>]*href="mailto:kari.nordmann@example.org">(.*?)</a>', html, re.S)
    assert mail, html
    assert re.sub(r"<[^>]+>", "", mail.group(1)) == "E-mail kari.nordmann@example.org"


def test_a_hidden_phone_appears_nowhere_in_the_profile_or_the_vcard(client, make_supporter):
    supporter = make_supporter(phone="+4722123456", show_phone=False, email="open@example.org")

    page = profile(client, supporter).content.decode()
    card = vcard(client, supporter).content.decode()

    for text in (page, card):
        assert "22123456" not in text
        assert "22 12 34 56" not in text
        assert "tel:+47" not in text
    assert "TEL" not in card
    # The visible e-mail is still offered.
    assert "mailto:open@example.org" in page
    assert "EMAIL:open@example.org" in card


def test_a_hidden_email_appears_nowhere_in_the_profile_or_the_vcard(client, make_supporter):
    supporter = make_supporter(email="secret.person@example.org", show_email=False, phone="+4722123456")

    page = profile(client, supporter).content.decode()
    card = vcard(client, supporter).content.decode()

    for text in (page, card):
        assert "secret.person" not in text
    assert "mailto:" not in page
    assert "EMAIL" not in card
    # The visible phone is still offered.
    assert "tel:+4722123456" in page
    assert "tel:+4722123456" in card


def test_profile_has_the_what_to_expect_box(client, make_supporter):
    html = profile(client, make_supporter()).content.decode()

    assert 'class="what-to-expect ds-card"' in html
    assert "What to expect" in html
    assert "Up to three conversations, free of charge." in html


def test_profile_links_to_the_vcard(client, make_supporter):
    supporter = make_supporter()

    html = profile(client, supporter).content.decode()

    assert f'href="/en/supporters/{supporter.pk}/vcard/"' in html


def test_an_unlisted_supporter_has_no_profile_and_no_vcard(client, make_supporter):
    supporter = make_supporter(name="Skjult Person", listed=False)

    page = profile(client, supporter)
    card = vcard(client, supporter)

    assert page.status_code == 404
    assert card.status_code == 404
    assert "Skjult Person" not in page.content.decode()
    assert "Skjult Person" not in card.content.decode()


def test_an_unknown_supporter_id_is_not_found(client, make_supporter):
    supporter = make_supporter()
    unknown = supporter.pk + 1000

    assert client.get(f"/en/supporters/{unknown}/").status_code == 404
    assert client.get(f"/en/supporters/{unknown}/vcard/").status_code == 404


# --- The vCard ------------------------------------------------------------------------------------------------


def test_vcard_is_an_utf8_text_vcard_attachment(client, make_supporter):
    supporter = make_supporter()

    response = vcard(client, supporter)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/vcard; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="peer-supporter-{supporter.pk}.vcf"'


def test_vcard_uses_crlf_line_endings_only(client, make_supporter):
    payload = vcard(client, make_supporter(title="Overlege")).content

    assert payload.endswith(b"\r\n")
    without_crlf = payload.replace(b"\r\n", b"")
    assert b"\n" not in without_crlf
    assert b"\r" not in without_crlf


def test_vcard_has_the_required_properties_in_order(client, make_supporter):
    supporter = make_supporter(name="Kari Nordmann", phone="+4722123456", email="kari@example.org")

    lines = unfold(vcard(client, supporter).content)

    assert lines[0] == "BEGIN:VCARD"
    assert lines[1] == "VERSION:4.0"
    assert lines[-2] == "END:VCARD"
    assert lines[-1] == ""  # the payload ends with CRLF
    assert property_value(lines, "FN") == "Kari Nordmann"
    assert split_components(property_value(lines, "N")) == ["Nordmann", "Kari", "", "", ""]
    assert property_value(lines, "EMAIL") == "kari@example.org"


def test_vcard_gives_the_phone_as_a_tel_uri(client, make_supporter):
    supporter = make_supporter(phone="22 12 34 56")

    lines = unfold(vcard(client, supporter).content)

    tel = next(line for line in lines if line.startswith("TEL"))
    assert tel.endswith(":tel:+4722123456")
    assert "VALUE=uri" in tel.split(":")[0]


def test_vcard_gives_the_place_and_county_as_address(client, make_supporter):
    supporter = make_supporter(municipality="Bergen", town="Fana")

    lines = unfold(vcard(client, supporter).content)

    assert split_components(property_value(lines, "ADR")) == ["", "", "", "Fana", "Vestland", "", "Norway"]


def test_vcard_escapes_commas_semicolons_backslashes_and_newlines(client, make_supporter):
    title = "Overlege, psykiatri; del\\tid\nog forsker"
    supporter = make_supporter(name="Anne, Berit; Back\\slash", title=title)

    lines = unfold(vcard(client, supporter).content)

    raw_title = property_value(lines, "TITLE")
    assert raw_title == "Overlege\\, psykiatri\\; del\\\\tid\\nog forsker"
    assert unescape(raw_title) == title
    raw_name = property_value(lines, "FN")
    assert raw_name == "Anne\\, Berit\\; Back\\\\slash"
    assert unescape(raw_name) == supporter.name
    family, given, *_ = split_components(property_value(lines, "N"))
    assert (family, given) == ("Back\\slash", "Anne, Berit;")


def test_vcard_folds_long_lines_at_75_octets_without_splitting_a_character(client, make_supporter):
    name = "Åse Ødegård-Kråkenes Bjørnstad Sæbø Grønnæss Hætta Ærlends Løvås Brænnå Mørkøy Østgård"
    title = "Overlege, spesialist i barne- og ungdomspsykiatri; veileder for leger i spesialisering på Sørlandet"
    fn_line = f"FN:{name}".encode()
    # The "ø" of "Løvås" occupies octets 75 and 76 of the FN line, so a fold at exactly 75 octets would cut it.
    with pytest.raises(UnicodeDecodeError):
        fn_line[:VCARD_LINE_OCTETS].decode()
    supporter = make_supporter(name=name, title=title, municipality="Kristiansand")

    payload = vcard(client, supporter).content

    physical_lines = payload.split(b"\r\n")
    for line in physical_lines:
        assert len(line) <= VCARD_LINE_OCTETS, line
        line.decode("utf-8")  # raises if a character was cut in two
    assert fn_line[: VCARD_LINE_OCTETS - 1] + b"\r\n " in payload
    continuation_lines = [line for line in physical_lines if line.startswith(b" ")]
    assert len(continuation_lines) >= 2
    lines = unfold(payload)
    assert unescape(property_value(lines, "FN")) == name
    assert unescape(property_value(lines, "TITLE")) == title


def test_vcard_leaves_short_lines_unfolded(client, make_supporter):
    payload = vcard(client, make_supporter(name="Ola Nordmann", title="Fastlege")).content

    assert b"\r\n " not in payload
    assert b"FN:Ola Nordmann\r\n" in payload


# --- Availability and the end of a pause ----------------------------------------------------------------------


def test_a_pause_that_ended_yesterday_shows_as_open_on_the_profile(client, make_supporter):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    supporter = make_supporter(availability=Availability.PAUSED, availability_until=yesterday)

    html = profile(client, supporter).content.decode()

    assert "Open to new contacts" in html
    assert "availability--open" in html
    assert "Paused" not in html


def test_a_pause_until_tomorrow_shows_paused_with_its_end_date(client, make_supporter):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    supporter = make_supporter(availability=Availability.PAUSED, availability_until=tomorrow)

    html = profile(client, supporter).content.decode()

    assert f"Paused until {tomorrow.day} {tomorrow:%B %Y}" in html
    assert "availability--paused" in html
    assert "Open to new contacts" not in html


def test_few_places_left_until_a_date_shows_that_date(client, make_supporter):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    supporter = make_supporter(availability=Availability.FEW_PLACES, availability_until=tomorrow)

    html = profile(client, supporter).content.decode()

    assert f"Few places left until {tomorrow.day} {tomorrow:%B %Y}" in html


def test_availability_on_reverts_to_open_only_after_the_last_day(make_supporter, today):
    day = datetime.timedelta(days=1)
    supporter = make_supporter(availability=Availability.PAUSED, availability_until=today)

    assert supporter.availability_on(today - day) == Availability.PAUSED
    assert supporter.availability_on(today) == Availability.PAUSED
    assert supporter.availability_on(today + day) == Availability.OPEN
    assert supporter.until_on(today) == today
    assert supporter.until_on(today + day) is None


def test_availability_on_keeps_a_pause_without_end_date(make_supporter, today):
    supporter = make_supporter(availability=Availability.PAUSED)

    assert supporter.availability_on(today + datetime.timedelta(days=3650)) == Availability.PAUSED
    assert supporter.until_on(today) is None


def test_availability_on_reverts_few_places_left_to_open_after_its_end_date(make_supporter, today):
    supporter = make_supporter(
        availability=Availability.FEW_PLACES, availability_until=today - datetime.timedelta(days=1)
    )

    assert supporter.availability_on(today) == Availability.OPEN
    assert supporter.availability_on(today - datetime.timedelta(days=1)) == Availability.FEW_PLACES


def test_open_now_counts_a_pause_that_has_ended_as_open(make_supporter, today):
    day = datetime.timedelta(days=1)
    open_one = make_supporter(name="Open")
    few_places = make_supporter(name="Few", availability=Availability.FEW_PLACES)
    pause_ended = make_supporter(name="Ended", availability=Availability.PAUSED, availability_until=today - day)
    make_supporter(name="Until today", availability=Availability.PAUSED, availability_until=today)
    make_supporter(name="Until tomorrow", availability=Availability.PAUSED, availability_until=today + day)
    make_supporter(name="Indefinitely", availability=Availability.PAUSED)

    names = set(PeerSupporter.objects.open_now(today).values_list("name", flat=True))

    assert names == {open_one.name, few_places.name, pause_ended.name}
    # One day later the pause that lasted until "today" has ended as well.
    later = set(PeerSupporter.objects.open_now(today + day).values_list("name", flat=True))
    assert later == names | {"Until today"}


@pytest.mark.parametrize("days_from_today", [-30, -1, 0, 1, 30])
def test_open_now_agrees_with_availability_on(make_supporter, today, days_from_today):
    until = today + datetime.timedelta(days=days_from_today)
    supporter = make_supporter(availability=Availability.PAUSED, availability_until=until)

    in_open_now = PeerSupporter.objects.open_now(today).filter(pk=supporter.pk).exists()

    assert in_open_now == (supporter.availability_on(today) == Availability.OPEN)
    assert in_open_now == (days_from_today < 0)


# --- Languages and markup -------------------------------------------------------------------------------------


def test_bokmal_profile_is_in_norwegian(client, make_supporter):
    supporter = make_supporter(
        name="Kari Nordmann",
        municipality="Bergen",
        specialties=["psychiatry"],
        languages=["en"],
        meets_in_person=True,
        meets_by_phone=True,
        meets_by_video=False,
        evenings=True,
        weekends=False,
        last_confirmed=datetime.date(2026, 3, 3),
    )

    html = client.get(f"/nb/supporters/{supporter.pk}/").content.decode()

    assert '<html lang="nb"' in html
    assert "Kontakt Kari Nordmann direkte" in html
    assert re.search(r'href="tel:\+47[0-9]+"><span class="contact-actions__kind">Ring</span>', html)
    assert "Lagre kontakten (vCard)" in html
    assert "Psykiatri" in html
    assert "Engelsk" in html
    assert re.search(r"<dt>Møteform</dt>\s*<dd>Ved oppmøte, på telefon</dd>", html)
    assert "Kan møtes på kveldstid" in html
    assert '<time datetime="2026-03-03">3. mars 2026</time>' in html
    assert "Tar imot nye henvendelser" in html
    assert "Hva du kan forvente" in html


def test_bokmal_profile_shows_a_pause_with_its_last_day(client, make_supporter):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    supporter = make_supporter(availability=Availability.PAUSED, availability_until=tomorrow)

    html = client.get(f"/nb/supporters/{supporter.pk}/").content.decode()

    assert "På pause til og med " in html
    assert f"{tomorrow.day}. " in html


@pytest.mark.parametrize(
    ("availability", "color"),
    [(Availability.OPEN, "success"), (Availability.FEW_PLACES, "warning"), (Availability.PAUSED, "neutral")],
)
def test_availability_is_a_tag_coloured_by_status(client, make_supporter, availability, color):
    supporter = make_supporter(availability=availability)

    html = profile(client, supporter).content.decode()

    assert f'<span class="ds-tag availability availability--{availability}" data-color="{color}">' in html


def test_bokmal_vcard_names_the_country_in_norwegian(client, make_supporter):
    supporter = make_supporter(municipality="Bergen")

    lines = unfold(client.get(f"/nb/supporters/{supporter.pk}/vcard/").content)

    assert split_components(property_value(lines, "ADR"))[-1] == "Norge"
