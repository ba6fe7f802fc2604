"""A supporter's public contact details as a vCard (RFC 6350), to save in a phone's address book."""

from django.utils.translation import gettext

LINE_OCTETS = 75


def escape(value):
    """Escape a text value (RFC 6350 section 3.4)."""
    return (
        str(value)
        .replace("\\", "\\\\")
        .replace(",", "\\,")
        .replace(";", "\\;")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def fold_line(line):
    """Split a content line into pieces of at most 75 octets, never inside a UTF-8 character."""
    pieces, current, size = [], "", 0
    for char in line:
        width = len(char.encode())
        # Continuation lines start with a space, which counts towards their length.
        if size + width > LINE_OCTETS:
            pieces.append(current)
            current, size = " ", 1
        current += char
        size += width
    pieces.append(current)
    return "\r\n".join(pieces)


def supporter_vcard(supporter):
    """Only what the supporter has chosen to show publicly goes into the card."""
    given, _, family = supporter.name.rpartition(" ")
    if not given:
        given, family = family, ""
    lines = [
        "BEGIN:VCARD",
        "VERSION:4.0",
        "KIND:individual",
        f"FN:{escape(supporter.name)}",
        f"N:{escape(family)};{escape(given)};;;",
    ]
    if supporter.title:
        lines.append(f"TITLE:{escape(supporter.title)}")
    if supporter.public_phone:
        lines.append(f"TEL;VALUE=uri;TYPE=voice:tel:{supporter.public_phone.as_e164}")
    if supporter.public_email:
        lines.append(f"EMAIL:{escape(supporter.public_email)}")
    locality = supporter.town or supporter.municipality.name
    country = gettext("Norway")
    lines.append(f"ADR;TYPE=work:;;;{escape(locality)};{escape(supporter.county.name)};;{escape(country)}")
    lines.append("NOTE:" + escape(gettext("Peer supporter for doctors and medical students.")))
    lines.append("END:VCARD")
    return "".join(fold_line(line) + "\r\n" for line in lines)
