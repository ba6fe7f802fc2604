"""Folding text for search, so that what a doctor types on any keyboard finds Norwegian names."""

import re
import unicodedata

# Letters that Unicode does not decompose into a base letter and a mark.
_LETTERS = str.maketrans({"æ": "ae", "ø": "o", "đ": "d", "ŋ": "n", "ŧ": "t"})
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


def fold(*parts):
    """Lower-case ASCII words separated by single spaces: "Øre-nese-hals" -> "ore nese hals".

    "aa" folds to "a" as well, so the old spelling "Aalesund" finds Ålesund.
    """
    text = " ".join(part for part in parts if part).casefold().translate(_LETTERS)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(char for char in text if not unicodedata.combining(char))
    text = text.replace("aa", "a")
    return _NOT_ALNUM.sub(" ", text).strip()


# Æ, Ø and Å come after Z in Norwegian; every other letter sorts by its base letter.
_SORT_LETTERS = str.maketrans({"æ": "{", "ä": "{", "ø": "|", "ö": "|", "å": "}"})


def norwegian_sort_key(name):
    """Sort key putting names in Norwegian alphabetical order, whatever the database's collation."""
    text = unicodedata.normalize("NFC", name.casefold()).translate(_SORT_LETTERS)
    text = unicodedata.normalize("NFKD", text)
    return "".join(char for char in text if not unicodedata.combining(char))
