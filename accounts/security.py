"""Who is knocking, as far as brute-force protection needs to know, and under which keys it is remembered.

Failed logins are counted per (account, address) pair in a cache (django-axes). Both halves of the pair go into the
cache key only as HMACs under the site's secret key: someone who can read the cache cannot test guesses of who
failed from where, not even by running through every IPv4 address, without that key.
"""

import ipaddress
import unicodedata

from django.conf import settings
from django.core.cache import caches
from django.utils.crypto import salted_hmac

# An IPv6 visitor usually holds a whole /64 and can pick any address in it: the lockout counts the network.
IPV6_PREFIX = 64
# Password reset e-mails to one address (spelled any way) in an hour, at most.
RESET_MAILS_PER_HOUR = 3


def login_name(typed):
    """An e-mail address as typed at login, folded so that every spelling login accepts for an account is one name.

    Login matches the account ignoring letter case (in the database), after folding Unicode compatibility forms and
    stripping outer spaces (Django's username field); this folds at least as much: compatibility forms, outer
    spaces, then letter case in full (upper case first, so that dotless i, long s and sharp s fold with i, s and ss,
    as a database's upper() may make them).
    """
    text = unicodedata.normalize("NFKC", typed or "").strip()
    return unicodedata.normalize("NFKC", text.upper().casefold())


def keyed(purpose, value):
    """An HMAC of value under the secret key, one per purpose: what the failure counters are keyed by."""
    return salted_hmac(f"accounts.security.{purpose}", value, algorithm="sha256").hexdigest()


def lockout_username(request, credentials=None):
    """AXES_USERNAME_CALLABLE: the account half of the lockout key, the same for every spelling of one address."""
    field = settings.AXES_USERNAME_FORM_FIELD
    typed = credentials.get(field) if credentials else getattr(request, "POST", {}).get(field)
    return keyed("login-name", login_name(typed)) if typed else None


def without_port(address):
    """The address alone, where a proxy wrote it with a port: `203.0.113.7:40000`, `[2001:db8::1]:443`."""
    address = address.strip()
    if address.startswith("["):
        return address[1:].partition("]")[0]
    host, colon, port = address.rpartition(":")
    if colon and port.isdigit() and ":" not in host:
        return host
    return address


def network_of(address):
    """The address as one visitor holds it: IPv4 as it is, IPv4-mapped IPv6 as IPv4, other IPv6 as its /64; a port
    written after it is left out."""
    try:
        parsed = ipaddress.ip_address(without_port(address))
    except ValueError:
        return address
    if parsed.version == 6 and parsed.ipv4_mapped:
        return str(parsed.ipv4_mapped)
    if parsed.version == 6:
        return str(ipaddress.ip_network(f"{parsed}/{IPV6_PREFIX}", strict=False))
    return str(parsed)


def client_address(request):
    """The visitor's address: from X-Forwarded-For when the request came through the trusted reverse proxy."""
    address = request.META.get("REMOTE_ADDR", "")
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if address in settings.TRUSTED_PROXIES and forwarded:
        # The proxy appends the address it saw; anything before it was written by the client.
        return forwarded.split(",")[-1].strip()
    return address


def lockout_address(request):
    """AXES_CLIENT_IP_CALLABLE: the address half of the lockout key. Never stored or logged as it is."""
    return keyed("client-address", network_of(client_address(request)))


def reset_mail_allowed(email):
    """Whether a password reset e-mail may go to this address now: at most RESET_MAILS_PER_HOUR an hour, counted for
    every address asked for, with an account or not, under an HMAC of the folded address (never the address).

    Each e-mail takes one of the address's slots for an hour. add() claims a slot only if it is free, in one step in
    every cache (a unique key in the database), so requests at the same moment cannot share one, and an existing
    slot's hour is never renewed.
    """
    limits = caches["limits"]
    key = "password-reset-" + keyed("password-reset", login_name(email))
    return any(limits.add(f"{key}-{slot}", 1, timeout=60 * 60) for slot in range(RESET_MAILS_PER_HOUR))
