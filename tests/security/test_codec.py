"""The payload codec and the key ring: AES-GCM round trip, key rotation, tampering, payloads
written before encryption, and clear errors for key configuration that cannot be used."""

from __future__ import annotations

import base64
import json
import os
import zlib
from datetime import date
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.common import RawValue

from gateway.connection import data_converter
from security import codec as codec_module
from security.codec import (
    COMPRESS_FROM,
    COMPRESSED,
    DEFLATE,
    ENCODING,
    KEY_ID,
    NONCE_BYTES,
    DecryptionError,
    EncryptionCodec,
)
from security.keys import KeyError_, KeyRing, key_ring_from_env, local_key_file
from security.marks import UNSEALED, Unsealed
from tests.factories import referral

KEY_A = b"A" * 32
KEY_B = b"B" * 32


def ring(current: str = "a", **keys: bytes) -> KeyRing:
    return KeyRing(keys=keys or {"a": KEY_A}, current=current)


def plain(text: str = '{"child": "Zebedee Quill"}') -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=text.encode())


def b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


# --------------------------------------------------------------------------- the codec


async def test_round_trip_hides_data_and_metadata() -> None:
    codec = EncryptionCodec(ring())
    original = plain()
    [sealed] = await codec.encode([original])
    assert sealed.metadata["encoding"] == ENCODING
    assert sealed.metadata[KEY_ID] == b"a"
    # Neither the data nor the original metadata (its encoding) is readable.
    assert b"Zebedee" not in sealed.SerializeToString()
    assert b"json/plain" not in sealed.SerializeToString()
    assert await codec.decode([sealed]) == [original]


async def test_each_encryption_uses_a_fresh_nonce() -> None:
    codec = EncryptionCodec(ring())
    first, second = await codec.encode([plain(), plain()])
    assert first.data[:NONCE_BYTES] != second.data[:NONCE_BYTES]
    assert first.data != second.data


async def test_the_data_converter_encrypts_pydantic_models() -> None:
    converter = data_converter(ring())
    made = referral(date(2026, 11, 20), summary="Marmalade incident")
    [payload] = await converter.encode([made])
    assert b"Marmalade" not in payload.SerializeToString()
    assert b"Rita Referrer" not in payload.SerializeToString()
    [back] = await converter.decode([payload], [type(made)])
    assert back == made


async def test_rotation_old_payloads_decode_new_ones_use_the_new_key() -> None:
    old = await EncryptionCodec(ring("a", a=KEY_A)).encode([plain("written under key a")])
    rotated = EncryptionCodec(ring("b", a=KEY_A, b=KEY_B))
    # A history written with key a still decodes once b is current...
    assert await rotated.decode(old) == [plain("written under key a")]
    # ...and new payloads are encrypted with b.
    [new] = await rotated.encode([plain("written under key b")])
    assert new.metadata[KEY_ID] == b"b"
    # A worker with only b cannot read a's payloads, and says which key is missing.
    with pytest.raises(DecryptionError, match="encrypted with key 'a', which is not configured"):
        await EncryptionCodec(ring("b", b=KEY_B)).decode(old)


async def test_rotation_through_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SRO_CODEC_KEYS", f"2025-01={b64(KEY_A)}")
    monkeypatch.delenv("SRO_CODEC_KEY_ID", raising=False)
    [old] = await data_converter().encode(["a case from 2025"])
    monkeypatch.setenv("SRO_CODEC_KEYS", f"2025-01={b64(KEY_A)},2026-01={b64(KEY_B)}")
    converter = data_converter()
    assert await converter.decode([old]) == ["a case from 2025"]
    [new] = await converter.encode(["a case from 2026"])
    assert new.metadata[KEY_ID] == b"2026-01"  # by default the last listed key is current
    monkeypatch.setenv("SRO_CODEC_KEY_ID", "2025-01")  # or the one named
    [pinned] = await data_converter().encode(["x"])
    assert pinned.metadata[KEY_ID] == b"2025-01"


async def test_tampering_is_detected() -> None:
    codec = EncryptionCodec(ring())
    [sealed] = await codec.encode([plain()])
    flipped = bytearray(sealed.data)
    flipped[-1] ^= 1
    tampered = Payload(metadata=dict(sealed.metadata), data=bytes(flipped))
    with pytest.raises(DecryptionError, match="does not decrypt with key 'a'"):
        await codec.decode([tampered])
    # The key id is bound to the ciphertext: relabelling it for another key fails too.
    relabelled = Payload(metadata={**sealed.metadata, KEY_ID: b"b"}, data=sealed.data)
    with pytest.raises(DecryptionError, match="does not decrypt with key 'b'"):
        await EncryptionCodec(ring("a", a=KEY_A, b=KEY_A)).decode([relabelled])
    truncated = Payload(metadata=dict(sealed.metadata), data=sealed.data[:5])
    with pytest.raises(DecryptionError):
        await codec.decode([truncated])


def settings_like(repeats: int = 40) -> Payload:
    """JSON as a case's larger payloads are (a partnership's settings, a reply's deadlines)."""
    rows = [{"deadline_id": f"d{n}", "kind": "action", "state": "on_track"} for n in range(repeats)]
    return plain(json.dumps({"deadlines": rows, "child": "Zebedee Quill"}))


async def test_a_large_payload_is_compressed_before_it_is_sealed() -> None:
    codec = EncryptionCodec(ring())
    original = settings_like()
    [sealed] = await codec.encode([original])
    assert sealed.metadata[COMPRESSED] == DEFLATE
    assert sealed.metadata[KEY_ID] == b"a"
    assert len(sealed.data) < len(original.SerializeToString()) // 2
    assert b"Zebedee" not in sealed.SerializeToString()
    assert await codec.decode([sealed]) == [original]


async def test_small_or_incompressible_payloads_are_sealed_as_before() -> None:
    codec = EncryptionCodec(ring())
    small = plain("x" * (COMPRESS_FROM - 40))  # repetitive, but under the threshold
    noise = Payload(metadata={"encoding": b"binary/plain"}, data=os.urandom(2000))  # gains nothing
    for original in (small, noise):
        [sealed] = await codec.encode([original])
        assert COMPRESSED not in sealed.metadata
        assert set(sealed.metadata) == {"encoding", KEY_ID}
        assert await codec.decode([sealed]) == [original]


async def test_the_compression_is_bound_to_the_ciphertext() -> None:
    codec = EncryptionCodec(ring())
    [compressed] = await codec.encode([settings_like()])
    [uncompressed] = await codec.encode([plain()])
    dropped = Payload(
        metadata={k: v for k, v in compressed.metadata.items() if k != COMPRESSED},
        data=compressed.data,
    )
    added = Payload(metadata={**uncompressed.metadata, COMPRESSED: DEFLATE}, data=uncompressed.data)
    for forged in (dropped, added):
        with pytest.raises(DecryptionError, match="does not decrypt with key 'a'"):
            await codec.decode([forged])
    unknown = Payload(metadata={**compressed.metadata, COMPRESSED: b"lzma"}, data=compressed.data)
    with pytest.raises(DecryptionError, match="unknown method"):
        await codec.decode([unknown])


async def test_a_payload_that_opens_too_large_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only a key holder can seal one, but no payload may take a process's memory."""
    codec = EncryptionCodec(ring())
    [sealed] = await codec.encode([plain("0" * 5000)])
    assert sealed.metadata[COMPRESSED] == DEFLATE
    monkeypatch.setattr(codec_module, "MAX_OPENED_BYTES", 1000)
    with pytest.raises(DecryptionError, match="more than 1000 bytes"):
        await codec.decode([sealed])
    # Sealed by the key but not deflate inside: refused, not a crash.
    nonce = b"n" * NONCE_BYTES
    garbage = AESGCM(KEY_A).encrypt(nonce, b"not deflate", b"a\0deflate")
    corrupt = Payload(metadata=dict(sealed.metadata), data=nonce + garbage)
    with pytest.raises(DecryptionError, match="corrupt"):
        await codec.decode([corrupt])


async def test_the_sealed_form_is_documented_aes_gcm_over_raw_deflate() -> None:
    """What another language's codec needs: nonce, then AES-GCM with the key id, NUL and the
    method as associated data, over the raw deflate (no zlib header) of the payload."""
    original = settings_like()
    [sealed] = await EncryptionCodec(ring()).encode([original])
    nonce, ciphertext = sealed.data[:NONCE_BYTES], sealed.data[NONCE_BYTES:]
    packed = AESGCM(KEY_A).decrypt(nonce, ciphertext, b"a\0deflate")
    assert zlib.decompress(packed, -zlib.MAX_WBITS) == original.SerializeToString()


async def test_a_wrong_key_with_the_same_id_is_detected() -> None:
    [sealed] = await EncryptionCodec(ring("a", a=KEY_A)).encode([plain()])
    with pytest.raises(DecryptionError, match="does not decrypt with key 'a'"):
        await EncryptionCodec(ring("a", a=KEY_B)).decode([sealed])


async def test_payloads_not_sealed_by_the_ring_stay_readable_but_are_marked() -> None:
    """Written before encryption, or sent by a client without the key: readable (old
    histories still replay), but marked, so that workflows refuse it as a decision, a signal
    or a new case (issue #11). A payload with no metadata at all is left as it is. The codec
    server's codec (for people, through the Web UI) shows what is there, unmarked."""
    assert await EncryptionCodec(ring()).decode([plain()]) == [plain()]
    codec = EncryptionCodec(ring(), mark_unsealed=True)
    legacy = [plain("from before encryption"), Payload(metadata={"encoding": b"binary/null"})]
    decoded = await codec.decode([*legacy, Payload()])
    for before, after in zip(legacy, decoded, strict=False):
        assert after.data == before.data
        assert after.metadata["encoding"] == before.metadata["encoding"]
        assert after.metadata[UNSEALED] == b"1"
    assert decoded[2] == Payload()


async def test_the_converter_will_not_read_an_unsealed_payload_as_a_typed_value() -> None:
    converter = data_converter(ring())
    [marked] = await converter.payload_codec.decode([plain('"a forged referral"')])  # type: ignore[union-attr]
    with pytest.raises(Unsealed, match="not encrypted with a key from the ring"):
        converter.payload_converter.from_payloads([marked], [str])
    # A RawValue (how workflows take decisions) is handed over, mark and all.
    [raw] = converter.payload_converter.from_payloads([marked], [RawValue])
    assert raw.payload.metadata[UNSEALED] == b"1"
    # An untyped read (a workflow reading the decision it took raw, after checking the mark
    # itself; or replaying a run from before payloads were refused) reads it.
    assert converter.payload_converter.from_payloads([marked]) == ["a forged referral"]
    # Sealed payloads read as before.
    [sealed] = await converter.encode(["a real referral"])
    assert await converter.decode([sealed], [str]) == ["a real referral"]


async def test_a_workers_codec_marks_what_it_cannot_decrypt_instead_of_failing() -> None:
    """A forged ciphertext in a signal would fail every workflow task of its case for good;
    a worker's codec marks it unsealed (nothing readable left), clients still raise."""
    [sealed] = await EncryptionCodec(ring("a", a=KEY_A)).encode([plain()])
    forged = Payload(metadata={**sealed.metadata, KEY_ID: b"nobody"}, data=b"x" * 40)
    wrong = await EncryptionCodec(ring("a", a=KEY_B), mark_unreadable=True).decode([sealed, forged])
    for payload in wrong:
        assert payload.metadata[UNSEALED] == b"1"
        assert b"Zebedee" not in payload.SerializeToString()
    with pytest.raises(DecryptionError):
        await EncryptionCodec(ring("a", a=KEY_B)).decode([forged])


# --------------------------------------------------------------------------- the key ring


@pytest.mark.parametrize(
    ("pairs", "current", "message"),
    [
        ("k1=not base64!", None, "key 'k1' is not valid base64"),
        (f"k1={b64(b'short')}", None, "key 'k1' is 5 bytes; AES-256 needs 32"),
        (f"k1={b64(KEY_A)}", "k9", "current key id 'k9' is not among the keys"),
        (b64(KEY_A), None, "entry 1 is not id=base64key"),
        (f"k1={b64(KEY_A)},k2=", None, "entry 2 is not id=base64key"),
        ("", None, "no encryption keys configured"),
        (f"bad id={b64(KEY_A)}", None, "entry 1 is not id=base64key"),
        (f"k1={b64(KEY_A)},k1={b64(KEY_B)}", None, "key id 'k1' is listed twice"),
    ],
)
def test_key_configuration_errors_are_clear(pairs: str, current: str | None, message: str) -> None:
    with pytest.raises(KeyError_, match=message) as refused:
        KeyRing.parse(pairs, current)
    # An error message never repeats key material (a bare key is mistaken for an entry).
    assert b64(KEY_A).rstrip("=") not in str(refused.value)


def test_key_ring_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SRO_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SRO_CODEC_KEYS", f"a={b64(KEY_A)}, b={b64(KEY_B)}")
    monkeypatch.setenv("SRO_CODEC_KEY_ID", "a")
    loaded = key_ring_from_env()
    assert loaded.current == "a" and loaded.keys == {"a": KEY_A, "b": KEY_B}
    monkeypatch.setenv("SRO_CODEC_KEY_ID", "c")
    with pytest.raises(KeyError_, match="current key id 'c'"):
        key_ring_from_env()


def test_key_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SRO_CODEC_KEYS", raising=False)
    monkeypatch.setenv("SRO_DATA_DIR", str(tmp_path))
    file = tmp_path / "keys.json"
    file.write_text(json.dumps({"current": "b", "keys": {"a": b64(KEY_A), "b": b64(KEY_B)}}))
    monkeypatch.setenv("SRO_CODEC_KEYS_FILE", str(file))
    assert key_ring_from_env() == KeyRing(keys={"a": KEY_A, "b": KEY_B}, current="b")
    file.write_text(json.dumps({"keys": {"a": b64(KEY_A)}}))
    with pytest.raises(KeyError_, match="not a usable key file"):
        key_ring_from_env()
    monkeypatch.setenv("SRO_CODEC_KEYS_FILE", str(tmp_path / "missing.json"))
    with pytest.raises(KeyError_, match=r"missing\.json: not a usable key file"):
        key_ring_from_env()


def test_nothing_configured(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("SRO_CODEC_KEYS", "SRO_CODEC_KEYS_FILE", "SRO_CODEC_KEY_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SRO_DATA_DIR", str(tmp_path))
    with pytest.raises(KeyError_, match="no encryption key configured: set SRO_CODEC_KEYS"):
        key_ring_from_env()
    assert not local_key_file().exists()
    # `make run` creates a local key file once (owner-only) and then reuses it.
    created = key_ring_from_env(create_local=True)
    assert local_key_file() == tmp_path / "codec-keys.json"
    assert local_key_file().stat().st_mode & 0o777 == 0o600
    assert key_ring_from_env() == created
    assert key_ring_from_env(create_local=True) == created
