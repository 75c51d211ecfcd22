from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime
from typing import Any

import pytest

from nango_scripts.errors import (
    ConfigError,
    ConnectionNotFoundError,
    CredentialsError,
    LimitError,
    StoreError,
)
from nango_scripts.providers import ProviderConfig
from nango_scripts.settings import Settings
from nango_scripts.store import ConnectionStore, validate_credentials

from .conftest import OTHER_KEY_B64, MakeSettings

OAUTH2 = {
    "type": "OAUTH2",
    "access_token": "gho_PLANTED_ACCESS",
    "refresh_token": "ghr_PLANTED_REFRESH",
    "expires_at": "2030-01-01T00:00:00+00:00",
}

VALID: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    (
        "stripe",
        {"type": "API_KEY", "apiKey": "sk_live_1"},
        {"type": "API_KEY", "apiKey": "sk_live_1"},
    ),
    (
        "jira",
        {"type": "BASIC", "username": "bot", "password": "pw"},
        {"type": "BASIC", "username": "bot", "password": "pw"},
    ),
    (
        "jira",
        {"type": "BASIC", "username": "sk_key_as_user", "password": ""},
        {"type": "BASIC", "username": "sk_key_as_user", "password": ""},
    ),
    ("github", {"type": "OAUTH2", "access_token": "t"}, {"type": "OAUTH2", "access_token": "t"}),
    ("github", OAUTH2, OAUTH2),
    (
        "github",
        {"type": "OAUTH2", "access_token": "t", "expires_at": "2030-01-01T00:00:00Z"},
        {"type": "OAUTH2", "access_token": "t", "expires_at": "2030-01-01T00:00:00+00:00"},
    ),
    (
        "github",
        {"type": "OAUTH2", "access_token": "t", "expires_at": "2030-01-01T02:00:00+02:00"},
        {"type": "OAUTH2", "access_token": "t", "expires_at": "2030-01-01T00:00:00+00:00"},
    ),
    (
        "github",
        {"type": "OAUTH2", "access_token": "t", "expires_at": "2030-01-01T00:00:00"},
        {"type": "OAUTH2", "access_token": "t", "expires_at": "2030-01-01T00:00:00+00:00"},
    ),
    (
        "github",
        {"type": "OAUTH2", "access_token": "t", "client_id": "i", "client_secret": "s", "raw": {}},
        {"type": "OAUTH2", "access_token": "t", "client_id": "i", "client_secret": "s", "raw": {}},
    ),
    (
        "billing",
        {"type": "OAUTH2_CC", "client_id": "id", "client_secret": "secret"},
        {"type": "OAUTH2_CC", "client_id": "id", "client_secret": "secret"},
    ),
    ("public", {}, {}),
    ("public", {"type": "NONE"}, {}),
]

MALFORMED: list[tuple[Any, str]] = [
    ([], "must be a JSON object, not an array"),
    ({"apiKey": "k"}, 'need a "type" field'),
    ({"type": "API-KEY", "apiKey": "k"}, 'field "type" is "API-KEY"; it must be one of'),
    ({"type": 3}, 'field "type" is a number'),
    ({"type": "API_KEY"}, 'field "apiKey" is missing for API_KEY'),
    ({"type": "API_KEY", "api_key": "k"}, 'field "api_key" is not part of API_KEY'),
    ({"type": "API_KEY", "apiKey": ""}, 'field "apiKey" is empty'),
    ({"type": "API_KEY", "apiKey": 42}, 'field "apiKey" must be a string, not a number'),
    ({"type": "BASIC", "username": "u"}, 'field "password" is missing for BASIC'),
    ({"type": "BASIC", "username": "u", "password": None}, 'field "password" must be a string'),
    ({"type": "OAUTH2", "refresh_token": "r"}, 'field "access_token" is missing for OAUTH2'),
    ({"type": "OAUTH2", "access_token": "t", "refreshToken": "r"}, 'field "refreshToken" is not'),
    (
        {"type": "OAUTH2", "access_token": "t", "expires_at": "soon"},
        'field "expires_at" is not an ISO',
    ),
    (
        {"type": "OAUTH2", "access_token": "t", "expires_at": 1700000000},
        '"expires_at" must be a string',
    ),
    ({"type": "OAUTH2", "access_token": "t", "raw": "x"}, 'field "raw" must be a JSON object'),
    ({"type": "OAUTH2_CC", "client_id": "i"}, 'field "client_secret" is missing for OAUTH2_CC'),
    (
        {"type": "OAUTH2_CC", "client_id": True, "client_secret": "s"},
        '"client_id" must be a string, not a boolean',
    ),
    ({"type": "NONE", "apiKey": "k"}, 'field "apiKey" is not part of NONE'),
]


def _raw_database_bytes(settings: Settings) -> bytes:
    """The database file and its WAL/SHM companions, as bytes on disk."""
    folder = settings.state_dir
    return b"".join(p.read_bytes() for p in sorted(folder.glob("nango.db*")))


# -- shapes ----------------------------------------------------------------------------


@pytest.mark.parametrize(("integration", "given", "stored"), VALID)
def test_every_credential_shape_round_trips(
    store: ConnectionStore, integration: str, given: dict[str, Any], stored: dict[str, Any]
) -> None:
    created = store.create(integration, "c1", given, {"team": "a"})
    fetched = store.get(integration, "c1")
    assert dict(created.credentials) == dict(fetched.credentials) == stored
    assert fetched.metadata == {"team": "a"}
    assert fetched.auth_type == stored.get("type", "NONE")
    assert (fetched.integration_id, fetched.connection_id, fetched.environment) == (
        integration,
        "c1",
        "dev",
    )


@pytest.mark.parametrize(("credentials", "message"), MALFORMED)
def test_malformed_credentials_name_the_field(credentials: Any, message: str) -> None:
    with pytest.raises(CredentialsError) as caught:
        validate_credentials(credentials)
    assert message in str(caught.value)
    assert "Expected: {" in str(caught.value) or "Accepted shapes: {}" in str(caught.value)


def test_malformed_credentials_never_echo_values() -> None:
    with pytest.raises(CredentialsError) as caught:
        validate_credentials({"type": "API_KEY", "apiKey": "k", "extra": "sk_PLANTED"})
    assert "sk_PLANTED" not in str(caught.value)


@pytest.mark.parametrize(
    ("credentials", "field", "code"),
    [
        ({"type": "API_KEY", "apiKey": "k-PLANTED\nX-Injected: 1"}, "apiKey", "U+000A"),
        ({"type": "API_KEY", "apiKey": "k-PLANTED\r"}, "apiKey", "U+000D"),
        ({"type": "BASIC", "username": "u", "password": "p-PLANTED\x00"}, "password", "U+0000"),
        ({"type": "OAUTH2", "access_token": "t-PLANTED\t"}, "access_token", "U+0009"),
        (
            {"type": "OAUTH2_CC", "client_id": "i", "client_secret": "s\x7fPLANTED"},
            "client_secret",
            "U+007F",
        ),
    ],
)
def test_credentials_that_would_break_a_header_are_refused_unquoted(
    store: ConnectionStore, credentials: dict[str, str], field: str, code: str
) -> None:
    with pytest.raises(CredentialsError) as caught:
        validate_credentials(credentials)
    assert f'Credentials field "{field}" holds a control character ({code})' in str(caught.value)
    assert "PLANTED" not in str(caught.value)
    assert "Injected" not in str(caught.value)
    kind = credentials["type"]
    integration = {"API_KEY": "stripe", "BASIC": "jira", "OAUTH2": "github"}.get(kind)
    if integration is not None:
        with pytest.raises(CredentialsError, match="control character"):
            store.create(integration, "c1", credentials)
        store.create(integration, "c1", {**credentials, field: "fine"})
        with pytest.raises(CredentialsError, match="control character"):
            store.update_credentials(integration, "c1", credentials)


def test_create_rejects_malformed_credentials_and_stores_nothing(store: ConnectionStore) -> None:
    with pytest.raises(CredentialsError, match='"apiKey" is missing'):
        store.create("stripe", "c1", {"type": "API_KEY"})
    assert store.summaries() == []


@pytest.mark.parametrize(
    ("integration", "credentials", "needed"),
    [
        ("github", {"type": "API_KEY", "apiKey": "k"}, "need OAUTH2 credentials"),
        ("stripe", {"type": "OAUTH2", "access_token": "t"}, "need API_KEY credentials"),
        (
            "public",
            {"type": "BASIC", "username": "u", "password": "p"},
            "need NONE credentials ({})",
        ),
        ("jira", {}, "need BASIC credentials"),
    ],
)
def test_credentials_must_match_the_integration_auth(
    store: ConnectionStore, integration: str, credentials: dict[str, Any], needed: str
) -> None:
    with pytest.raises(CredentialsError, match="uses auth = ") as caught:
        store.create(integration, "c1", credentials)
    assert needed in str(caught.value)


def test_unknown_integration_lists_the_configured_ones(store: ConnectionStore) -> None:
    with pytest.raises(ConfigError) as caught:
        store.create("gitlab", "c1", {})
    text = str(caught.value)
    assert "Integration 'gitlab' is not configured in nango.toml" in text
    assert "billing, github, jira, public, stripe" in text
    assert "[integrations.gitlab]" in text


def test_without_any_integration_configured(make_settings: MakeSettings) -> None:
    with (
        ConnectionStore.open(make_settings(integrations={})) as store,
        pytest.raises(ConfigError, match=r"configured: none"),
    ):
        store.create("github", "c1", OAUTH2)


def test_new_settings_bring_new_integrations_and_auth(
    store: ConnectionStore, make_settings: MakeSettings
) -> None:
    """What a reload of nango.toml gives the store: the integrations checked from now on."""
    with pytest.raises(ConfigError, match="'gitlab' is not configured"):
        store.create("gitlab", "c1", {"type": "API_KEY", "apiKey": "glpat-1"})
    stripe_now_basic = ProviderConfig(name="stripe", base_url="https://s.example", auth="basic")
    gitlab = ProviderConfig(name="gitlab", base_url="https://gitlab.example", auth="api_key")
    store.use_settings(make_settings(integrations={"stripe": stripe_now_basic, "gitlab": gitlab}))
    created = store.create("gitlab", "c1", {"type": "API_KEY", "apiKey": "glpat-1"})
    assert store.get("gitlab", "c1").credentials == created.credentials
    with pytest.raises(CredentialsError, match='uses auth = "basic"'):
        store.create("stripe", "c1", {"type": "API_KEY", "apiKey": "sk_1"})
    with pytest.raises(ConfigError, match="'github' is not configured"):
        store.create("github", "c1", OAUTH2)
    with pytest.raises(ValueError, match="environment"):
        store.use_settings(make_settings(environment="prod"))


@pytest.mark.parametrize("connection_id", ["", "  ", "a\nb"])
def test_connection_id_must_be_printable(store: ConnectionStore, connection_id: str) -> None:
    with pytest.raises(ConfigError, match="connection id"):
        store.create("github", connection_id, OAUTH2)


# -- encryption at rest ----------------------------------------------------------------


def test_secrets_are_not_in_the_database_file(store: ConnectionStore, settings: Settings) -> None:
    store.create("github", "c1", OAUTH2, {"org": "acme"})
    store.create("stripe", "c2", {"type": "API_KEY", "apiKey": "sk_live_PLANTED_KEY"})
    store.update_credentials("github", "c1", OAUTH2 | {"access_token": "gho_PLANTED_NEWER"})
    raw = _raw_database_bytes(settings)
    assert b"acme" in raw  # the files were read: metadata is plain JSON
    for secret in (b"gho_PLANTED", b"ghr_PLANTED_REFRESH", b"sk_live_PLANTED_KEY"):
        assert secret not in raw
    with sqlite3.connect(settings.state_dir / "nango.db") as db:
        tokens = [row[0] for row in db.execute("SELECT credentials FROM connections")]
    assert len(tokens) == 2 and all(token.startswith("v1:") for token in tokens)


def test_row_moved_to_another_connection_fails_to_decrypt(
    store: ConnectionStore, settings: Settings
) -> None:
    store.create("github", "victim", OAUTH2)
    store.create("github", "attacker", {"type": "OAUTH2", "access_token": "mine"})
    with sqlite3.connect(settings.state_dir / "nango.db") as db:
        db.execute(
            "UPDATE connections SET credentials ="
            " (SELECT credentials FROM connections WHERE connection_id = 'victim')"
            " WHERE connection_id = 'attacker'"
        )
    with pytest.raises(CredentialsError) as caught:
        store.get("github", "attacker")
    assert "connection 'attacker' of integration 'github'" in str(caught.value)
    assert "do not belong to this connection" in str(caught.value)
    assert store.get("github", "victim").credentials == OAUTH2


def test_wrong_key_fails_clearly_but_listing_and_deleting_still_work(
    make_settings: MakeSettings,
) -> None:
    with ConnectionStore.open(make_settings()) as store:
        store.create("github", "c1", OAUTH2)
    with ConnectionStore.open(make_settings(encryption_key=OTHER_KEY_B64)) as store:
        with pytest.raises(CredentialsError) as caught:
            store.get("github", "c1")
        assert "does not match the one the credentials were encrypted with" in str(caught.value)
        assert "NANGO_ENCRYPTION_KEY" in str(caught.value)
        assert [s.connection_id for s in store.summaries()] == ["c1"]
        store.delete("github", "c1")
        assert store.summaries() == []


def test_key_is_loaded_only_when_needed(make_settings: MakeSettings) -> None:
    settings = make_settings(encryption_key=None)
    key_file = settings.state_dir / "encryption.key"
    with ConnectionStore.open(settings) as store:
        assert store.summaries() == [] and not key_file.exists()
        store.create("github", "c1", OAUTH2)
        assert key_file.exists()
        assert store.key_warning is not None and str(key_file) in store.key_warning
    with ConnectionStore.open(settings) as store:
        assert store.get("github", "c1").credentials == OAUTH2
        assert store.key_warning is None


def test_repr_of_a_connection_hides_credentials(store: ConnectionStore) -> None:
    connection = store.create("github", "c1", OAUTH2)
    assert "gho_PLANTED" not in repr(connection)
    assert "connection_id='c1'" in repr(connection)


# -- create / get / find / list / delete ----------------------------------------------


def test_duplicate_says_it_exists_and_how_to_delete(store: ConnectionStore) -> None:
    store.create("github", "c1", OAUTH2)
    with pytest.raises(StoreError) as caught:
        store.create("github", "c1", OAUTH2)
    assert "Connection 'c1' of integration 'github' already exists" in str(caught.value)
    assert "nango-scripts connections delete github c1" in str(caught.value)


def test_same_connection_id_in_two_integrations_is_fine(store: ConnectionStore) -> None:
    store.create("github", "acme", OAUTH2)
    store.create("stripe", "acme", {"type": "API_KEY", "apiKey": "k"})
    assert store.get("stripe", "acme").auth_type == "API_KEY"


def test_not_found_lists_what_exists_for_the_integration(store: ConnectionStore) -> None:
    store.create("github", "c1", OAUTH2)
    store.create("github", "c2", OAUTH2)
    store.create("stripe", "c3", {"type": "API_KEY", "apiKey": "k"})
    with pytest.raises(ConnectionNotFoundError) as caught:
        store.get("github", "c9")
    assert "No connection 'c9' for integration 'github'" in str(caught.value)
    assert "Connections of github: c1, c2." in str(caught.value)
    assert "c3" not in str(caught.value)
    assert caught.value.exit_code == 2
    with pytest.raises(ConnectionNotFoundError, match="There are none yet"):
        store.get("jira", "c1")


def test_find_by_connection_id(store: ConnectionStore) -> None:
    store.create("github", "only", OAUTH2)
    store.create("github", "both", OAUTH2)
    store.create("stripe", "both", {"type": "API_KEY", "apiKey": "k"})
    assert store.find("only").integration_id == "github"
    assert store.find("both", "stripe").auth_type == "API_KEY"
    with pytest.raises(ConnectionNotFoundError) as caught:
        store.find("both")
    assert "exists for several integrations (github, stripe)" in str(caught.value)
    assert "--integration" in str(caught.value)
    with pytest.raises(ConnectionNotFoundError, match="No connection 'none' in any integration"):
        store.find("none")
    with pytest.raises(ConnectionNotFoundError, match="No connection 'only' for integration"):
        store.find("only", "stripe")


def test_list_and_summaries(store: ConnectionStore) -> None:
    store.create("stripe", "s1", {"type": "API_KEY", "apiKey": "k"})
    store.create("github", "g2", OAUTH2, {"org": "acme", "repo": "app"})
    store.create("github", "g1", {"type": "OAUTH2", "access_token": "t"})
    assert [(c.integration_id, c.connection_id) for c in store.list()] == [
        ("github", "g1"),
        ("github", "g2"),
        ("stripe", "s1"),
    ]
    assert [c.connection_id for c in store.list("github")] == ["g1", "g2"]
    assert store.list("jira") == []
    summaries = {s.connection_id: s for s in store.summaries()}
    assert summaries["g2"].auth_type == "OAUTH2"
    assert summaries["g2"].expires_at == "2030-01-01T00:00:00+00:00"
    assert summaries["g2"].metadata == {"org": "acme", "repo": "app"}
    assert summaries["g1"].expires_at is None
    assert summaries["s1"].auth_type == "API_KEY"
    assert not hasattr(summaries["s1"], "credentials")
    assert store.get_summary("github", "g2") == summaries["g2"]


def test_delete(store: ConnectionStore) -> None:
    store.create("github", "c1", OAUTH2)
    store.create("github", "c2", OAUTH2)
    store.delete("github", "c1")
    assert [c.connection_id for c in store.list()] == ["c2"]
    with pytest.raises(ConnectionNotFoundError, match="Connections of github: c2"):
        store.delete("github", "c1")
    store.create("github", "c1", OAUTH2)  # the id can be reused
    assert store.get("github", "c1").credentials == OAUTH2


def test_environments_are_separate(make_settings: MakeSettings) -> None:
    with ConnectionStore.open(make_settings(environment="prod")) as prod:
        prod.create("github", "c1", OAUTH2)
    with ConnectionStore.open(make_settings()) as dev:
        assert dev.list() == []
        dev.create("github", "c1", {"type": "OAUTH2", "access_token": "dev"})
        assert dev.get("github", "c1").credentials["access_token"] == "dev"
    with ConnectionStore.open(make_settings(environment="prod")) as prod:
        assert prod.get("github", "c1").credentials == OAUTH2


def test_persists_with_utc_timestamps(make_settings: MakeSettings) -> None:
    before = datetime.now(UTC)
    with ConnectionStore.open(make_settings()) as store:
        store.create("github", "c1", OAUTH2, {"a": 1})
    with ConnectionStore.open(make_settings()) as store:
        connection = store.get("github", "c1")
    assert connection.created_at.tzinfo is not None
    assert connection.created_at.utcoffset() is not None
    assert before <= connection.created_at == connection.updated_at <= datetime.now(UTC)
    assert connection.metadata == {"a": 1}


# -- updates ---------------------------------------------------------------------------


def test_update_credentials_after_a_refresh(store: ConnectionStore) -> None:
    created = store.create("github", "c1", OAUTH2, {"keep": True})
    refreshed = OAUTH2 | {"access_token": "new", "expires_at": "2031-06-01T00:00:00Z"}
    updated = store.update_credentials("github", "c1", refreshed)
    assert updated.credentials == refreshed | {"expires_at": "2031-06-01T00:00:00+00:00"}
    assert store.get("github", "c1").credentials == updated.credentials
    assert updated.metadata == {"keep": True}
    assert updated.created_at == created.created_at < updated.updated_at
    assert store.get_summary("github", "c1").expires_at == "2031-06-01T00:00:00+00:00"


def test_update_credentials_is_validated(store: ConnectionStore) -> None:
    store.create("github", "c1", OAUTH2)
    with pytest.raises(CredentialsError, match='"access_token" is missing'):
        store.update_credentials("github", "c1", {"type": "OAUTH2"})
    with pytest.raises(CredentialsError, match="need OAUTH2 credentials"):
        store.update_credentials("github", "c1", {"type": "API_KEY", "apiKey": "k"})
    with pytest.raises(ConnectionNotFoundError):
        store.update_credentials("github", "c9", OAUTH2)
    assert store.get("github", "c1").credentials == OAUTH2


def test_set_and_update_metadata(store: ConnectionStore) -> None:
    store.create("github", "c1", OAUTH2, {"org": "acme", "nested": {"a": 1, "b": 2}})
    merged = store.update_metadata("github", "c1", {"nested": {"c": 3}, "team": "core"})
    # shallow, like Nango's updateMetadata: a nested object is replaced, not merged
    assert merged.metadata == {"org": "acme", "nested": {"c": 3}, "team": "core"}
    replaced = store.set_metadata("github", "c1", {"only": "this"})
    assert replaced.metadata == store.get("github", "c1").metadata == {"only": "this"}
    assert replaced.credentials == OAUTH2
    with pytest.raises(ConnectionNotFoundError):
        store.update_metadata("github", "c9", {})
    with pytest.raises(ConnectionNotFoundError):
        store.set_metadata("github", "c9", {})


def test_metadata_must_be_json(store: ConnectionStore) -> None:
    with pytest.raises(LimitError, match="JSON-serializable"):
        store.create("github", "c1", OAUTH2, {"when": datetime.now(UTC)})
    store.create("github", "c1", OAUTH2)
    with pytest.raises(LimitError, match="JSON-serializable"):
        store.update_metadata("github", "c1", {"bad": float("nan")})
    with pytest.raises(LimitError, match="must be a JSON object"):
        store.set_metadata("github", "c1", ["x"])  # type: ignore[arg-type]
    assert store.get("github", "c1").metadata == {}


def test_concurrent_metadata_updates_lose_nothing(settings: Settings) -> None:
    with ConnectionStore.open(settings) as store:
        store.create("github", "c1", OAUTH2)
    stores = [ConnectionStore.open(settings) for _ in range(4)]
    errors: list[BaseException] = []

    def work(index: int, store: ConnectionStore) -> None:
        try:
            for step in range(10):
                store.update_metadata("github", "c1", {f"k{index}-{step}": step})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i, s)) for i, s in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for store in stores:
        store.close()
    assert errors == []
    with ConnectionStore.open(settings) as store:
        assert len(store.get("github", "c1").metadata) == 40
