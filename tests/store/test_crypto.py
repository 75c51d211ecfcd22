from __future__ import annotations

import base64
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from nango_scripts.errors import ConfigError, CredentialsError
from nango_scripts.store import CredentialCipher, credentials_aad, load_key, load_or_create_key

from .conftest import KEY, KEY_B64, MakeSettings

AAD = credentials_aad("dev", "github", "c1")
SECRET = {"type": "OAUTH2", "access_token": "gho_s3cr3t", "refresh_token": "ghr_r3fr3sh"}


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def no_umask() -> Iterator[None]:
    """umask 0: a file created without an explicit mode would be world-readable."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


# -- the cipher ----------------------------------------------------------------------


def test_round_trip() -> None:
    cipher = CredentialCipher(KEY)
    token = cipher.encrypt(SECRET, AAD)
    assert token.startswith(f"v1:{cipher.key_id}:")
    assert "gho_s3cr3t" not in token
    assert cipher.decrypt(token, AAD) == SECRET


def test_each_encryption_uses_a_fresh_nonce() -> None:
    cipher = CredentialCipher(KEY)
    first, second = cipher.encrypt(SECRET, AAD), cipher.encrypt(SECRET, AAD)
    assert first != second
    nonce = base64.urlsafe_b64decode(first.split(":")[2])[:12]
    assert nonce != base64.urlsafe_b64decode(second.split(":")[2])[:12]


@pytest.mark.parametrize("size", [16, 24, 32])
def test_all_aes_key_sizes_work(size: int) -> None:
    cipher = CredentialCipher(bytes(size))
    assert cipher.decrypt(cipher.encrypt({}, AAD), AAD) == {}


def test_wrong_key_says_the_key_does_not_match() -> None:
    token = CredentialCipher(KEY).encrypt(SECRET, AAD)
    with pytest.raises(CredentialsError, match="does not match the one the credentials were"):
        CredentialCipher(bytes(32)).decrypt(token, AAD)


@pytest.mark.parametrize(
    "aad",
    [
        credentials_aad("dev", "github", "c2"),
        credentials_aad("prod", "github", "c1"),
        credentials_aad("dev", "gitlab", "c1"),
    ],
)
def test_token_bound_to_its_connection(aad: bytes) -> None:
    cipher = CredentialCipher(KEY)
    token = cipher.encrypt(SECRET, AAD)
    with pytest.raises(CredentialsError, match="do not belong to this connection"):
        cipher.decrypt(token, aad)


def test_aad_is_unambiguous() -> None:
    assert credentials_aad("dev", "a:b", "c") != credentials_aad("dev", "a", "b:c")
    assert credentials_aad("dev", "a,b", "c") != credentials_aad("dev", "a", "b,c")


def test_tampered_token_fails() -> None:
    cipher = CredentialCipher(KEY)
    version, key_id, payload = cipher.encrypt(SECRET, AAD).split(":")
    sealed = bytearray(base64.urlsafe_b64decode(payload))
    sealed[-1] ^= 1
    forged = f"{version}:{key_id}:{base64.urlsafe_b64encode(bytes(sealed)).decode()}"
    with pytest.raises(CredentialsError, match="altered"):
        cipher.decrypt(forged, AAD)


@pytest.mark.parametrize(
    "token", ["", "garbage", "v2:abcd:xyz", "v1", "v1:{kid}:", "v1:{kid}:AAAA"]
)
def test_malformed_tokens_fail_clearly(token: str) -> None:
    cipher = CredentialCipher(KEY)
    with pytest.raises(CredentialsError, match=r"unknown format|damaged"):
        cipher.decrypt(token.format(kid=cipher.key_id), AAD)


def test_cipher_repr_hides_the_key() -> None:
    cipher = CredentialCipher(KEY)
    assert repr(cipher) == f"CredentialCipher(key_id={cipher.key_id!r})"
    assert KEY.hex() not in repr(cipher)


def test_bad_key_length_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="16, 24 or 32 bytes"):
        CredentialCipher(b"short")


# -- loading the key -----------------------------------------------------------------


@pytest.mark.parametrize("size", [16, 24, 32])
def test_key_from_environment(make_settings: MakeSettings, size: int) -> None:
    raw = os.urandom(size)
    settings = make_settings(encryption_key=base64.b64encode(raw).decode())
    loaded = load_key(settings)
    assert (loaded.key, loaded.source, loaded.warning) == (raw, "NANGO_ENCRYPTION_KEY", None)
    assert not (settings.state_dir / "encryption.key").exists()


def test_urlsafe_base64_and_whitespace_are_accepted(make_settings: MakeSettings) -> None:
    raw = b"\xfb\xff" * 16  # encodes with + and / in standard base64
    value = " " + base64.urlsafe_b64encode(raw).decode() + "\n"
    assert load_or_create_key(make_settings(encryption_key=value)) == raw


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("not base64 at all!", "is not valid base64"),
        (base64.b64encode(b"x" * 31).decode(), "decodes to 31 bytes"),
        (base64.b64encode(b"x" * 64).decode(), "decodes to 64 bytes"),
    ],
)
def test_bad_key_format_explains_how_to_make_one(
    make_settings: MakeSettings, value: str, problem: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_key(make_settings(encryption_key=value))
    text = str(caught.value)
    assert "NANGO_ENCRYPTION_KEY" in text and problem in text
    assert 'python -c "import os,base64;print(base64.b64encode(os.urandom(32)).decode())"' in text
    assert value not in text  # never echo a (wrong) secret


@pytest.mark.usefixtures("no_umask")
def test_key_file_created_owner_only_with_a_warning(
    make_settings: MakeSettings, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(encryption_key=None)
    path = settings.state_dir / "encryption.key"
    with caplog.at_level(logging.WARNING, logger="nango_scripts"):
        loaded = load_key(settings)
    assert loaded.created and loaded.source == str(path)
    assert len(loaded.key) == 32
    assert _mode(path) == 0o600
    assert _mode(settings.state_dir) == 0o700
    assert base64.b64decode(path.read_text()) == loaded.key
    assert loaded.warning is not None
    assert f"created encryption key at {path}" in loaded.warning
    assert "set NANGO_ENCRYPTION_KEY in production" in loaded.warning
    assert [r.getMessage() for r in caplog.records] == [loaded.warning]

    caplog.clear()
    again = load_key(settings)
    assert (again.key, again.created, again.warning) == (loaded.key, False, None)
    assert caplog.records == []


def test_empty_environment_value_falls_back_to_the_key_file(make_settings: MakeSettings) -> None:
    settings = make_settings(encryption_key="  ")
    assert load_key(settings).created


def test_too_open_key_file_warns(
    make_settings: MakeSettings, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(encryption_key=None)
    path = settings.state_dir / "encryption.key"
    path.parent.mkdir()
    path.write_text(KEY_B64 + "\n")
    path.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="nango_scripts"):
        loaded = load_key(settings)
    assert loaded.key == KEY and not loaded.created
    assert loaded.warning == (
        f"The encryption key file {path} can be read by other users (mode 0644);"
        f" restrict it with: chmod 600 {path}"
    )
    assert [r.getMessage() for r in caplog.records] == [loaded.warning]


def test_bad_key_file_names_the_file(make_settings: MakeSettings) -> None:
    settings = make_settings(encryption_key=None)
    path = settings.state_dir / "encryption.key"
    path.parent.mkdir()
    path.write_text("oops")
    path.chmod(0o600)
    with pytest.raises(ConfigError, match=f"encryption key in {path} decodes to 3 bytes"):
        load_key(settings)


def test_environment_key_wins_over_the_key_file(make_settings: MakeSettings) -> None:
    created = load_key(make_settings(encryption_key=None)).key
    assert load_key(make_settings(encryption_key=KEY_B64)).key == KEY != created
