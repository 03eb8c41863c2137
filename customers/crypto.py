"""Application-level encryption of identifiers (ID numbers, mobiles, contact values).

AES-256-GCM with a key ring: every ciphertext names the key that made it
("<key id>$<base64 nonce+ciphertext+tag>"), new values use the current (first) key,
and `rotate_pii_keys` re-encrypts old ones. The field's name is authenticated data,
so a ciphertext copied into another column does not decrypt. Exact lookups use a
keyed hash (HMAC-SHA256, its own key) — the blind index — and partial lookups the
plain last digits (suffix columns), which reveal no more than the display mask does.

Keys come from the environment (`PII_ENCRYPTION_KEYS`, `PII_BLIND_INDEX_KEY`) or a
key file (`PII_KEY_FILE`), never from SECRET_KEY and never from the database. A
value that does not decrypt raises `DecryptionError`; it is never shown as is.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

NONCE_BYTES = 12
SEPARATOR = "$"


class DecryptionError(Exception):
    """A stored value could not be decrypted with any key of the ring."""


def _decode_key(text: str, what: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{what} is not valid base64") from exc
    if len(key) != 32:
        raise ImproperlyConfigured(f"{what} must be 32 bytes (base64 of 32 random bytes)")
    return key


@dataclass(frozen=True)
class KeyRing:
    keys: dict[str, bytes]  # key id -> AES key, insertion order: current first
    current_id: str
    blind_index_key: bytes

    @classmethod
    def parse(cls, *, encryption_keys: str, blind_index_key: str) -> KeyRing:
        """`encryption_keys`: "id:base64,id:base64" with the current key first."""
        keys: dict[str, bytes] = {}
        for entry in [e for e in encryption_keys.replace("\n", ",").split(",") if e.strip()]:
            key_id, _, material = entry.strip().partition(":")
            if not key_id or not material or not key_id.isalnum():
                raise ImproperlyConfigured("PII encryption keys are 'id:base64' with an alphanumeric id")
            keys[key_id] = _decode_key(material, f"PII encryption key {key_id!r}")
        if not keys:
            raise ImproperlyConfigured("No PII encryption key is configured")
        return cls(keys, next(iter(keys)), _decode_key(blind_index_key, "PII blind-index key"))


def load_key_ring() -> KeyRing:
    key_file = getattr(settings, "PII_KEY_FILE", "")
    if key_file:
        values: dict[str, str] = {}
        for line in Path(key_file).read_text().splitlines():
            name, _, value = line.partition("=")
            if name.strip() and not name.strip().startswith("#"):
                values[name.strip()] = value.strip()
        return KeyRing.parse(
            encryption_keys=values.get("PII_ENCRYPTION_KEYS", ""),
            blind_index_key=values.get("PII_BLIND_INDEX_KEY", ""),
        )
    return KeyRing.parse(
        encryption_keys=getattr(settings, "PII_ENCRYPTION_KEYS", ""),
        blind_index_key=getattr(settings, "PII_BLIND_INDEX_KEY", ""),
    )


def generate_key_file(path: Path, key_id: str = "k1") -> None:
    """Write a new key file (used for the embedded default's first start only)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    content = (
        "# PII encryption keys of this installation. Keep outside the database and backups.\n"
        f"PII_ENCRYPTION_KEYS={key_id}:{base64.b64encode(os.urandom(32)).decode()}\n"
        f"PII_BLIND_INDEX_KEY={base64.b64encode(os.urandom(32)).decode()}\n"
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(content)


class PiiCipher:
    def __init__(self, ring: KeyRing):
        self.ring = ring
        self._aead = {key_id: AESGCM(key) for key_id, key in ring.keys.items()}
        # keyed once; each lookup hashes on a copy (a bulk load computes millions)
        self._blind_mac = hmac.new(ring.blind_index_key, digestmod=hashlib.sha256)

    @property
    def current_key_id(self) -> str:
        return self.ring.current_id

    def encrypt(self, plaintext: str, *, context: str) -> str:
        if plaintext is None or plaintext == "":
            return ""
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead[self.ring.current_id].encrypt(nonce, plaintext.encode(), context.encode())
        return f"{self.ring.current_id}{SEPARATOR}{base64.b64encode(nonce + sealed).decode()}"

    def decrypt(self, token: str, *, context: str) -> str:
        if token is None or token == "":
            return ""
        key_id, sep, body = token.partition(SEPARATOR)
        aead = self._aead.get(key_id)
        if not sep or aead is None:
            raise DecryptionError(f"no key {key_id!r} in the key ring for {context}")
        try:
            raw = base64.b64decode(body, validate=True)
            return aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode()).decode()
        except (InvalidTag, ValueError) as exc:
            raise DecryptionError(f"value of {context} does not decrypt") from exc

    def key_id_of(self, token: str) -> str:
        return token.partition(SEPARATOR)[0] if token else ""

    def blind_index(self, value: str, *, context: str) -> str:
        """A keyed hash for exact lookups (128 bits, hex)."""
        if value is None or value == "":
            return ""
        mac = self._blind_mac.copy()
        mac.update(f"{context}\x00{value}".encode())
        return mac.hexdigest()[:32]


@functools.cache
def _cached_cipher(fingerprint: tuple) -> PiiCipher:
    return PiiCipher(load_key_ring())


def cipher() -> PiiCipher:
    """The cipher for the configured keys (rebuilt when the settings change)."""
    fingerprint = (
        getattr(settings, "PII_KEY_FILE", ""),
        getattr(settings, "PII_ENCRYPTION_KEYS", ""),
        getattr(settings, "PII_BLIND_INDEX_KEY", ""),
    )
    return _cached_cipher(fingerprint)


# Contexts: the authenticated data of each encrypted column, and the namespace of
# each blind index. Changing one makes existing values unreadable.
ID_NUMBER = "customer.id_number"
MOBILE = "customer.mobile"
CONTACT = "contact.value"
