"""A project whose scripts meet every kind of secret, and a local API that checks them.

Integrations (one folder each):

- ``paged``: API key in ``Authorization: Bearer {api_key}``; sync ``items`` reads three
  pages whose ``Link`` headers carry absolute URLs.
- ``querykey``: API key in the ``api_key`` query parameter; action ``whoami`` gets a
  body that echoes the key and a session cookie, sends the cookie back, and posts the key
  in a JSON body.
- ``oauth``: OAuth2 with a stale access token: the API answers 401, the client refreshes
  at ``/oauth/token`` (refresh token and client secret in the form, new tokens in the
  JSON answer) and retries.
- ``basicauth``: basic auth; action ``me`` returns what the API says about the user.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

from click.testing import CliRunner, Result

from nango_scripts.cli.main import cli
from support.fakeapi import FakeApi, Received, Reply

SECRETS = {
    "header_key": "HDRKEY-5f2a9c77e1",
    "query_key": "QRYKEY-81b3d0+/=x",
    "old_access": "OLDACCESS-77aa0e",
    "old_refresh": "OLDREFRESH-4c1e9b",
    "new_access": "NEWACCESS-9d0f31",
    "new_refresh": "NEWREFRESH-3b7c55",
    "client_secret": "CLIENTSECRET-e62b40",
    "username": "USERNAME-ada-1f9d",
    "password": "PASSWORD-8c3e2a",
    "cookie": "COOKIEVAL-a04d17",
}
BASIC = base64.b64encode(f"{SECRETS['username']}:{SECRETS['password']}".encode()).decode()


def secret_forms() -> dict[str, str]:
    """Every secret as it could be written: raw, URL-encoded, and the basic-auth base64."""
    forms = {"basic": BASIC}
    for name, value in SECRETS.items():
        forms[name] = value
        forms[f"{name} (quoted)"] = quote(value, safe="")
        forms[f"{name} (quote_plus)"] = quote_plus(value)
    return forms


NANGO_TOML = """
[integrations.paged]
base_url = "{url}"
auth = "api_key"
api_key_header = "Authorization"
api_key_format = "Bearer {{api_key}}"

[integrations.querykey]
base_url = "{url}"
auth = "api_key"
api_key_query = "api_key"

[integrations.oauth]
base_url = "{url}"
auth = "oauth2"
token_url = "{url}/oauth/token"

[integrations.basicauth]
base_url = "{url}"
auth = "basic"
"""

MODELS = """
from pydantic import BaseModel


class Item(BaseModel):
    id: str
    n: int
"""

ITEMS_SYNC = """
from nango_scripts import Link, NangoSync, sync

from paged.models import Item


@sync(models=[Item], frequency="every hour")
async def items(nango: NangoSync) -> None:
    config = Link(link_rel_in_response_header="next", limit=2, limit_name_in_request="per_page")
    async for page in nango.paginate("/items", params={"sort": "id"}, paginate=config):
        await nango.batch_save(page, Item)
    nango.log("done")
"""

WHOAMI_ACTION = """
from nango_scripts import NangoAction, action


@action()
async def whoami(nango: NangoAction) -> dict:
    first = (await nango.get("/whoami")).json()
    again = (await nango.get("/whoami/again")).json()
    connection = await nango.get_connection()
    posted = (await nango.post("/echo", json={"apiKey": connection.credentials["apiKey"], "n": 1})).json()
    return {"first": first, "again": again, "posted": posted}
"""

CONTACTS_SYNC = """
from pydantic import BaseModel

from nango_scripts import NangoSync, sync


class Contact(BaseModel):
    id: str
    name: str


@sync(models=[Contact], frequency="every hour")
async def contacts(nango: NangoSync) -> None:
    response = await nango.get("/contacts")
    await nango.batch_save(response.json()["contacts"], Contact)
"""

ME_ACTION = """
from nango_scripts import NangoAction, action


@action()
async def me(nango: NangoAction) -> dict:
    return (await nango.get("/me")).json()
"""

ITEMS = [{"id": str(i), "n": i} for i in range(5)]


def _bearer(request: Received) -> str:
    return request.headers.get("authorization", "")


def serve(api: FakeApi) -> None:
    """Routes of the local API; each checks the credentials it expects."""

    def items(request: Received) -> Reply:
        if _bearer(request) != f"Bearer {SECRETS['header_key']}":
            return 401, {}, {"message": "bad key"}
        page = int(request.query.get("page", "1"))
        size = int(request.query["per_page"])
        chunk = ITEMS[(page - 1) * size : page * size]
        headers = {}
        if page * size < len(ITEMS):
            headers["Link"] = f'<{api.url}/items?page={page + 1}&per_page={size}>; rel="next"'
        return 200, headers, chunk

    def whoami(request: Received) -> Reply:
        if request.query.get("api_key") != SECRETS["query_key"]:
            return 401, {}, {"message": "bad key"}
        key = SECRETS["query_key"]
        headers = {
            "Set-Cookie": f"session={SECRETS['cookie']}; Path=/",
            # the key inside longer text: a header and a body field
            "Link": f'<{api.url}/whoami?page=2&api_key={quote(key, safe="")}>; rel="alternate"',
        }
        return 200, headers, {"name": "acme", "echo": key, "note": f"key {key} is valid"}

    def whoami_again(request: Received) -> Reply:
        if request.query.get("api_key") != SECRETS["query_key"]:
            return 401, {}, {"message": "bad key"}
        return 200, {}, {"cookie_came_back": SECRETS["cookie"] in request.headers.get("cookie", "")}

    def echo(request: Received) -> Reply:
        return 200, {}, {"received": request.json()}

    def token(request: Received) -> Reply:
        form = request.form()
        if (
            form.get("grant_type") != "refresh_token"
            or form.get("refresh_token") != SECRETS["old_refresh"]
            or form.get("client_secret") != SECRETS["client_secret"]
        ):
            return 400, {}, {"error": "invalid_grant"}
        return (
            200,
            {},
            {
                "access_token": SECRETS["new_access"],
                "refresh_token": SECRETS["new_refresh"],
                "expires_in": 3600,
                "token_type": "bearer",
            },
        )

    def contacts(request: Received) -> Reply:
        if _bearer(request) != f"Bearer {SECRETS['new_access']}":
            return 401, {}, {"message": "token expired"}
        return 200, {}, {"contacts": [{"id": "c1", "name": "Ada"}, {"id": "c2", "name": "Bob"}]}

    def me(request: Received) -> Reply:
        if _bearer(request) != f"Basic {BASIC}":
            return 401, {}, {"message": "who are you"}
        return 200, {}, {"user": SECRETS["username"], "plan": "pro"}

    api.route("/items", items)
    api.route("/whoami", whoami)
    api.route("/whoami/again", whoami_again)
    api.route("/echo", echo)
    api.route("/oauth/token", token)
    api.route("/contacts", contacts)
    api.route("/me", me)


CONNECTIONS: dict[str, dict[str, Any]] = {
    "paged": {"type": "API_KEY", "apiKey": SECRETS["header_key"]},
    "querykey": {"type": "API_KEY", "apiKey": SECRETS["query_key"]},
    "oauth": {
        "type": "OAUTH2",
        "access_token": SECRETS["old_access"],
        "refresh_token": SECRETS["old_refresh"],
        "client_id": "client-123",
        "client_secret": SECRETS["client_secret"],
        "expires_at": "2999-01-01T00:00:00Z",
    },
    "basicauth": {
        "type": "BASIC",
        "username": SECRETS["username"],
        "password": SECRETS["password"],
    },
}


def make_project(tmp_path: Path, api: FakeApi) -> tuple[Path, dict[str, str]]:
    """The project folder, and the env of a CLI that has a database with its connections."""
    root = tmp_path / "proj"
    files = {
        "nango.toml": NANGO_TOML.format(url=api.url),
        "paged/models.py": MODELS,
        "paged/syncs/items.py": ITEMS_SYNC,
        "querykey/actions/whoami.py": WHOAMI_ACTION,
        "oauth/syncs/contacts.py": CONTACTS_SYNC,
        "basicauth/actions/me.py": ME_ACTION,
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    serve(api)
    env = {
        "NANGO_SCRIPTS_PROJECT": str(root),
        "NANGO_SCRIPTS_DATABASE_URL": f"sqlite:///{tmp_path}/state/nango.db",
        "NANGO_ENCRYPTION_KEY": base64.b64encode(bytes(32)).decode(),
    }
    for integration, credentials in CONNECTIONS.items():
        created = invoke(
            env,
            "connections",
            "create",
            integration,
            "c1",
            "--credentials",
            json.dumps(credentials),
        )
        assert created.exit_code == 0, created.output
    return root, env


def offline_env(root: Path, tmp_path: Path) -> dict[str, str]:
    """A CLI env with no database and no encryption key: nothing to read credentials from."""
    return {
        "NANGO_SCRIPTS_PROJECT": str(root),
        "NANGO_SCRIPTS_DATABASE_URL": f"sqlite:///{tmp_path}/nowhere/never.db",
        "NANGO_ENCRYPTION_KEY": "",
    }


def invoke(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def written_files(root: Path) -> dict[Path, bytes]:
    """Every file under the project's ``*/tests`` folders, raw."""
    return {path: path.read_bytes() for path in sorted(root.glob("*/tests/**/*")) if path.is_file()}
