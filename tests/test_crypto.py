import pytest

from reporting.storage.crypto import InvalidKeyError, Sealer, SealedValueError, decode_key, generate_key


def test_round_trip_keeps_unicode():
    sealer = Sealer(generate_key())
    value = {"description": "Он угрожал мне — تهديد", "users": ["Émile"]}
    assert sealer.open(sealer.seal(value, "IR-1"), "IR-1") == value


def test_ciphertext_is_bound_to_its_reference():
    sealer = Sealer(generate_key())
    sealed = sealer.seal({"x": 1}, "IR-1")
    with pytest.raises(SealedValueError):
        sealer.open(sealed, "IR-2")


def test_tampering_is_detected():
    sealer = Sealer(generate_key())
    sealed = bytearray(sealer.seal({"x": 1}, "IR-1"))
    sealed[-1] ^= 1
    with pytest.raises(SealedValueError):
        sealer.open(bytes(sealed), "IR-1")


def test_rotation_opens_values_sealed_with_old_keys():
    old, new = generate_key(), generate_key()
    sealed = Sealer(old).seal("secret", "IR-1")
    rotated = Sealer(new, [old])
    assert rotated.open(sealed, "IR-1") == "secret"
    assert Sealer(old).index_hash("Alice") in rotated.index_hashes("Alice")
    with pytest.raises(SealedValueError):
        Sealer(new).open(sealed, "IR-1")


def test_sealing_twice_gives_different_ciphertexts():
    sealer = Sealer(generate_key())
    assert sealer.seal("same", "IR-1") != sealer.seal("same", "IR-1")


@pytest.mark.parametrize("key", ["", "short", "!!!!", "QUJD" * 20])
def test_malformed_keys_are_refused(key):
    with pytest.raises(InvalidKeyError):
        decode_key(key)
