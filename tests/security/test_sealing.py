"""Sealing a text with the key ring (security/sealing.py): it opens only with its context and a
key of the ring, under any key of it (rotation), and a text never sealed reads as it is."""

from __future__ import annotations

import pytest

from security.keys import KeyRing
from security.sealing import PREFIX, Sealer, SealError, is_sealed

OLD, NEW = KeyRing.generate("old-1"), KeyRing.generate("new-2")
ROW = b"history.why\x00LSCP-2026-00000A\x003"
OTHER_ROW = b"history.why\x00LSCP-2026-00000B\x003"


def test_a_sealed_text_opens_with_its_context_only() -> None:
    sealer = Sealer(OLD)
    sealed = sealer.seal("Amelia's mother said so", ROW)
    assert sealed.startswith(f"{PREFIX}old-1:") and is_sealed(sealed)
    assert "Amelia" not in sealed
    assert sealer.open(sealed, ROW) == "Amelia's mother said so"
    assert sealer.seal("Amelia's mother said so", ROW) != sealed  # a fresh nonce each time
    with pytest.raises(SealError, match="moved from another row"):
        sealer.open(sealed, OTHER_ROW)


def test_an_altered_token_does_not_open() -> None:
    sealer = Sealer(OLD)
    sealed = sealer.seal("a note", ROW)
    at = len(f"{PREFIX}old-1:") + 20  # inside the ciphertext
    flipped = sealed[:at] + ("A" if sealed[at] != "A" else "B") + sealed[at + 1 :]
    with pytest.raises(SealError):
        sealer.open(flipped, ROW)


def test_a_text_sealed_with_an_old_key_opens_once_a_new_key_is_current() -> None:
    sealed = Sealer(OLD).seal("before the rotation", ROW)
    rotated = Sealer(KeyRing(keys={**OLD.keys, **NEW.keys}, current="new-2"))
    assert rotated.open(sealed, ROW) == "before the rotation"
    assert rotated.sealed_with(rotated.seal("after", ROW)) == "new-2"
    with pytest.raises(SealError, match="not in the key ring"):
        Sealer(NEW).open(sealed, ROW)  # the old key retired too early


def test_a_text_never_sealed_reads_as_it_is() -> None:
    assert Sealer(OLD).open("disposed: personal data", ROW) == "disposed: personal data"
    assert Sealer(OLD).sealed_with("plain") is None


def test_a_lookup_is_stable_per_key_and_found_under_every_key() -> None:
    sealer = Sealer(KeyRing(keys={**OLD.keys, **NEW.keys}, current="new-2"))
    title = b"learning_outputs.title"
    assert sealer.lookup("Safe sleep", title) == sealer.lookup("Safe sleep", title)
    assert sealer.lookup("Safe sleep", title).startswith("new-2:")
    assert sealer.lookup("Safe sleep", title) != sealer.lookup("Safe Sleep", title)
    assert Sealer(OLD).lookup("Safe sleep", title) in sealer.lookups("Safe sleep", title)
    assert "Safe" not in sealer.lookup("Safe sleep", title)


def test_the_register_and_the_codec_never_share_a_key() -> None:
    """A sealed value is made with a key derived from the ring's, not the ring's key itself."""
    import base64

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    sealed = Sealer(OLD).seal("text", ROW)
    data = base64.urlsafe_b64decode(sealed.rpartition(":")[2])
    associated = PREFIX.encode() + b"old-1\x00" + ROW
    with pytest.raises(Exception):  # noqa: B017 (InvalidTag)
        AESGCM(OLD.current_key).decrypt(data[:12], data[12:], associated)
