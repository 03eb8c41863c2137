"""The encryption of identifiers as migration 0003 runs it: a frozen copy of what it
reaches of `customers.crypto` (the key ring read from the settings or the key file,
AES-256-GCM with the field's name as authenticated data, the HMAC-SHA256 blind
index). Migrations import no app code, so that a later change of the app cannot
change what an old migration does; this copy is never edited. Django's migration
loader skips modules whose names start with "_"."""

from __future__ import annotations

import base64
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

# Contexts: the authenticated data of each encrypted column, and the namespace of
# each blind index.
ID_NUMBER = "customer.id_number"
MOBILE = "customer.mobile"
CONTACT = "contact.value"


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


class PiiCipher:
    def __init__(self, ring: KeyRing):
        self.ring = ring
        self._aead = {key_id: AESGCM(key) for key_id, key in ring.keys.items()}
        self._blind_mac = hmac.new(ring.blind_index_key, digestmod=hashlib.sha256)

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

    def blind_index(self, value: str, *, context: str) -> str:
        """A keyed hash for exact lookups (128 bits, hex)."""
        if value is None or value == "":
            return ""
        mac = self._blind_mac.copy()
        mac.update(f"{context}\x00{value}".encode())
        return mac.hexdigest()[:32]


def cipher() -> PiiCipher:
    """The cipher for the configured keys."""
    return PiiCipher(load_key_ring())
