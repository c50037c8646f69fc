"""The encryption key ring: every key that may have encrypted a payload, and the one in use now.

Keys come from configuration so they can be rotated: encrypt with the current key id, keep older
keys for as long as any history holds payloads they encrypted, so old histories still decode.

    SRO_CODEC_KEYS     key-id=base64-key pairs, comma separated (32-byte AES-256 keys)
    SRO_CODEC_KEY_ID   the id of the key that encrypts new payloads (default: the last listed)
    SRO_CODEC_KEYS_FILE  instead, a JSON file {"current": id, "keys": {id: base64-key}}

With neither set, `make run` keeps a generated key file in the data folder (local use only).
"""

from __future__ import annotations

import base64
import json
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from config import settings
from security.files import write_private

KEY_BYTES = 32
_KEY_ID = re.compile(r"^[A-Za-z0-9._-]{1,40}$")


class KeyError_(ValueError):
    """Key configuration that cannot be used (named so it does not shadow the builtin)."""


@dataclass(frozen=True)
class KeyRing:
    keys: dict[str, bytes]
    current: str

    def __post_init__(self) -> None:
        if not self.keys:
            raise KeyError_("no encryption keys configured")
        for key_id, key in self.keys.items():
            if not _KEY_ID.match(key_id):
                raise KeyError_(f"key id {key_id!r}: letters, digits, . _ - only (1-40)")
            if len(key) != KEY_BYTES:
                raise KeyError_(f"key {key_id!r} is {len(key)} bytes; AES-256 needs {KEY_BYTES}")
        if self.current not in self.keys:
            raise KeyError_(f"current key id {self.current!r} is not among the keys")

    @property
    def current_key(self) -> bytes:
        return self.keys[self.current]

    @classmethod
    def parse(cls, pairs: str, current: str | None = None) -> KeyRing:
        keys: dict[str, bytes] = {}
        for number, item in enumerate(filter(None, (p.strip() for p in pairs.split(","))), 1):
            key_id, sep, encoded = (part.strip() for part in item.partition("="))
            # Never echo a malformed entry: it may be the key itself (a bare base64 key).
            if not sep or not encoded.strip("=") or not _KEY_ID.match(key_id):
                raise KeyError_(
                    f"SRO_CODEC_KEYS entry {number} is not id=base64key (the id: letters, "
                    "digits, . _ - only, 1-40 characters), e.g. key-2026=<32 bytes in base64>"
                )
            if key_id in keys:
                raise KeyError_(f"key id {key_id!r} is listed twice in SRO_CODEC_KEYS")
            try:
                keys[key_id] = base64.b64decode(encoded, validate=True)
            except ValueError:
                raise KeyError_(f"key {key_id!r} is not valid base64") from None
        last = next(reversed(keys), "") if keys else ""
        return cls(keys=keys, current=current or last)

    @classmethod
    def load_file(cls, path: Path) -> KeyRing:
        try:
            data = json.loads(path.read_text())
            keys = {k: base64.b64decode(v, validate=True) for k, v in data["keys"].items()}
            return cls(keys=keys, current=data["current"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
            raise KeyError_(f"{path}: not a usable key file ({err})") from None

    def to_file(self, path: Path) -> None:
        data = {
            "current": self.current,
            "keys": {k: base64.b64encode(v).decode() for k, v in self.keys.items()},
        }
        temporary = path.with_suffix(".tmp")
        write_private(temporary, json.dumps(data, indent=2))  # 0600 from the start
        temporary.replace(path)

    @classmethod
    def generate(cls, key_id: str = "local-1") -> KeyRing:
        return cls(keys={key_id: secrets.token_bytes(KEY_BYTES)}, current=key_id)


def local_key_file() -> Path:
    return settings().data_dir / "codec-keys.json"


def key_ring_from_env(*, create_local: bool = False) -> KeyRing:
    """The configured key ring. `create_local`: with nothing configured, create (or reuse) a key
    file in the data folder — for `make run` on one machine, never for a shared deployment."""
    configured = settings()
    if configured.codec_keys:
        return KeyRing.parse(configured.codec_keys, configured.codec_key_id)
    if configured.codec_keys_file:
        return KeyRing.load_file(configured.codec_keys_file)
    local = local_key_file()
    if local.exists():
        return KeyRing.load_file(local)
    if create_local:
        ring = KeyRing.generate()
        ring.to_file(local)
        return ring
    raise KeyError_(
        "no encryption key configured: set SRO_CODEC_KEYS (id=base64key,...) or "
        f"SRO_CODEC_KEYS_FILE, or run `make run` once to create {local}"
    )
