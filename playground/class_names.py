"""The words a class is known by: join codes, teacher secrets and students' display names.

A join code is six characters from an alphabet without look-alikes (no 0/O, 1/I/L), easy to read off
a projector and type on a phone; `check_code` accepts it in any case, with spaces or dashes. A teacher
secret is a long random token that only its hash is stored of. A display name is what a student typed,
cleaned (`check_display_name`): control and formatting characters removed, spaces collapsed, at most
MAX_NAME characters; an empty one becomes a friendly random name ("Curious Otter").
Knows nothing about storage, Streamlit or HTML (pages escape names where they show them).
"""
from __future__ import annotations

import hashlib
import hmac
import random
import re
import secrets
import unicodedata
from typing import Iterable

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
MAX_NAME = 32  # characters of a display name
_CODE = re.compile(f"[{CODE_ALPHABET}]{{{CODE_LENGTH}}}")
ADJECTIVES = ("Curious", "Brave", "Quiet", "Swift", "Clever", "Bright", "Calm", "Eager", "Gentle", "Happy",
              "Jolly", "Keen", "Lucky", "Merry", "Nimble", "Plucky", "Proud", "Witty", "Bold", "Sunny")
ANIMALS = ("Otter", "Falcon", "Panda", "Lynx", "Heron", "Koala", "Badger", "Dolphin", "Fox", "Gecko",
           "Ibis", "Jaguar", "Lemur", "Marten", "Newt", "Owl", "Puffin", "Quokka", "Robin", "Seal")


def new_code() -> str:
    """A fresh random join code."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def check_code(text: object) -> str:
    """The join code `text` stands for (upper case, spaces and dashes dropped), or ValueError saying why."""
    if not isinstance(text, str):
        raise ValueError("the class code must be text")
    code = re.sub(r"[\s-]", "", text).upper()[:64]
    if not _CODE.fullmatch(code):
        raise ValueError(f"a class code is {CODE_LENGTH} letters and digits (like K7QM2X)")
    return code


def new_secret() -> str:
    """A fresh teacher secret (about 128 random bits, URL-safe)."""
    return secrets.token_urlsafe(16)


def secret_hash(secret: str) -> str:
    """What the store keeps of a teacher secret."""
    return hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()


def secret_matches(secret: object, stored_hash: str) -> bool:
    """Whether `secret` is the one `stored_hash` was made from (in constant time)."""
    return isinstance(secret, str) and hmac.compare_digest(secret_hash(secret), stored_hash)


def check_display_name(text: object) -> str:
    """`text` cleaned for showing ("" when nothing is left), or ValueError when it is not text or too long."""
    if text is None:
        return ""
    if not isinstance(text, str):
        raise ValueError("a name must be text")
    kept = "".join(c for c in unicodedata.normalize("NFC", text) if not unicodedata.category(c).startswith("C"))
    name = " ".join(kept.split())
    if len(name) > MAX_NAME:
        raise ValueError(f"a name has at most {MAX_NAME} characters (this one has {len(name)})")
    return name


def friendly_name(taken: Iterable[str], rng: random.Random | None = None) -> str:
    """A random "Adjective Animal" name not in `taken` (case-insensitive); a number is added when needed."""
    rng, used = rng or random.Random(), {name.casefold() for name in taken}
    for attempt in range(100):
        name = f"{rng.choice(ADJECTIVES)} {rng.choice(ANIMALS)}" + (f" {attempt // 20 + 2}" if attempt >= 20 else "")
        if name.casefold() not in used:
            return name
    return f"Student {secrets.token_hex(3)}"
