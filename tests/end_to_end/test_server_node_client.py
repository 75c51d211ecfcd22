"""Nango's own Node client (@nangohq/node 0.71.10, pinned in tests/node) against
``nango-scripts serve``: the compatibility SPEC 6 promises, checked with the real thing.

Needs Node.js; the pinned client is installed with ``npm ci`` in tests/node the first time.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from support.fakeapi import FakeApi
from support.server_harness import (
    API_KEY,
    SECRET,
    _items,
    free_port,
    make_project,
    serve,
    stop,
    wait_healthy,
)

from nango_scripts.settings import load_settings
from nango_scripts.store import ConnectionStore

NODE_DIR = Path(__file__).resolve().parents[1] / "node"
CLIENT = NODE_DIR / "node_modules" / "@nangohq" / "node"

SCRIPT = r"""
const { Nango } = require('@nangohq/node');
const nango = new Nango({ secretKey: process.env.SECRET, host: process.env.HOST });
const out = {};
async function step(name, fn) {
  try {
    const r = await fn();
    out[name] = r && r.headers && r.status !== undefined ? { status: r.status, data: r.data } : r;
  } catch (e) {
    out[name] = { error: e.response ? { status: e.response.status, data: e.response.data } : String(e) };
  }
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
(async () => {
  await step('listIntegrations', () => nango.listIntegrations());
  await step('getConnection', () => nango.getConnection('fake', 'c1'));
  await step('getToken', () => nango.getToken('fake', 'c1'));
  await step('setMetadata', () => nango.setMetadata('fake', 'c1', { a: 1 }));
  await step('updateMetadata', () => nango.updateMetadata('fake', 'c1', { b: 2 }));
  await step('getMetadata', () => nango.getMetadata('fake', 'c1'));
  await step('patchConnection', () => nango.patchConnection({ connectionId: 'c1', provider_config_key: 'fake' },
    { webhook_url_override: 'https://hooks.example.com/c1' }));
  await step('overridden', async () => (await nango.getConnection('fake', 'c1')).webhook_url_override);
  await step('patchBack', () => nango.patchConnection({ connectionId: 'c1', provider_config_key: 'fake' },
    { webhook_url_override: null }));
  await step('cleared', async () => (await nango.getConnection('fake', 'c1')).webhook_url_override);
  await step('badOverride', () => nango.patchConnection({ connectionId: 'c1', provider_config_key: 'fake' },
    { webhook_url_override: 'ftp://files.example.com' }));
  await step('triggerSync', () => nango.triggerSync('fake', ['items'], 'c1', { reset: true }));
  for (let i = 0; i < 100; i++) {
    await step('syncStatus', () => nango.syncStatus('fake', '*', 'c1'));
    const s = out.syncStatus.syncs && out.syncStatus.syncs[0];
    if (s && s.finishedAt && s.status !== 'RUNNING') break;
    await sleep(100);
  }
  await step('listRecords', () => nango.listRecords({ providerConfigKey: 'fake', connectionId: 'c1', model: 'Item', limit: 3 }));
  await step('nextPage', () => nango.listRecords({ providerConfigKey: 'fake', connectionId: 'c1', model: 'Item', cursor: out.listRecords.next_cursor }));
  {
    // every page, with modifiedAfter and filter, as a backend reading changes would
    const after = out.listRecords.records[0]._nango_metadata.last_modified_at;
    const ids = []; let cursor; let pages = 0;
    do {
      const page = await nango.listRecords({ providerConfigKey: 'fake', connectionId: 'c1', model: 'Item',
        limit: 2, modifiedAfter: after, filter: 'added,updated', cursor });
      ids.push(...page.records.map((r) => r.id)); cursor = page.next_cursor; pages += 1;
    } while (cursor && pages < 50);
    out.allPages = { ids, pages };
  }
  await step('pauseSync', () => nango.pauseSync('fake', ['items'], 'c1'));
  await step('statusPaused', () => nango.syncStatus('fake', ['items'], 'c1'));
  await step('startSync', () => nango.startSync('fake', ['items'], 'c1'));
  await step('statusStarted', () => nango.syncStatus('fake', ['items'], 'c1'));
  await step('listConnectionsBefore', () => nango.listConnections());
  await step('frequency', () => nango.updateSyncConnectionFrequency('fake', 'items', 'c1', 'every 2h'));
  await step('triggerAction', () => nango.triggerAction('fake', 'c1', 'greet', { name: 'z' }));
  await step('actionError', () => nango.triggerAction('fake', 'c1', 'greet', { name: 'nobody' }));
  await step('triggerActionAsync', () => nango.triggerActionAsync('fake', 'c1', 'ping'));
  for (let i = 0; i < 100; i++) {
    await step('asyncResult', () => nango.getAsyncActionResult({ statusUrl: out.triggerActionAsync.statusUrl }));
    if (!out.asyncResult.error) break;
    await sleep(50);
  }
  await step('proxy', () => nango.get({ endpoint: '/hello', params: { name: 'p' }, providerConfigKey: 'fake', connectionId: 'c1' }));
  await step('scriptsConfig', () => nango.getScriptsConfig());
  await step('deleteConnection', () => nango.deleteConnection('fake', 'c1'));
  await step('listConnections', () => nango.listConnections());
  process.stdout.write(JSON.stringify(out));
})();
"""


@pytest.fixture(scope="session")
def node_client() -> str:
    """``node``, with the pinned client installed in tests/node (``npm ci`` the first time)."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("needs Node.js (node) to run Nango's Node client")
    if not CLIENT.is_dir():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("needs npm to install Nango's Node client (npm ci in tests/node)")
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=NODE_DIR,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, f"npm ci in tests/node failed:\n{done.stdout}\n{done.stderr}"
    return node


def test_nangos_node_client_works_against_serve(
    tmp_path: Path, fake_api: FakeApi, node_client: str
) -> None:
    node = node_client
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NANGO_", "NODE_"))}
    env.update(make_project(tmp_path, fake_api))
    env["NANGO_SECRET_KEY"] = SECRET
    fake_api.route("/items", _items)
    fake_api.route("/hello", lambda r: (200, {}, {"text": f"hello {r.query['name']}"}))
    with ConnectionStore.open(load_settings(env["NANGO_SCRIPTS_PROJECT"], env)) as connections:
        connections.create("fake", "c1", {"type": "API_KEY", "apiKey": API_KEY})
    port = free_port()
    log = tmp_path / "serve.log"
    process = serve(env, port, log)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", process, log)
        script = tmp_path / "client.cjs"
        script.write_text(SCRIPT)
        done = subprocess.run(
            [node, str(script)],
            env={
                **env,
                "NODE_PATH": str(NODE_DIR / "node_modules"),
                "SECRET": SECRET,
                "HOST": f"http://127.0.0.1:{port}/",
            },
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        stop(process, log)
    assert done.returncode == 0, done.stderr
    out: dict[str, Any] = json.loads(done.stdout)

    assert [c["unique_key"] for c in out["listIntegrations"]["configs"]] == [
        "fake",
        "oauthy",
        "other",
    ]
    assert out["getConnection"]["credentials"] == {"type": "API_KEY", "apiKey": API_KEY}
    assert out["getToken"] == {"type": "API_KEY", "apiKey": API_KEY}
    assert out["setMetadata"]["status"] == 201
    assert out["updateMetadata"]["status"] == 200
    assert out["getMetadata"] == {"a": 1, "b": 2}
    assert out["patchConnection"] == {"success": True}
    assert out["overridden"] == "https://hooks.example.com/c1"
    assert out["patchBack"] == {"success": True}
    assert out["cleared"] is None
    assert out["badOverride"]["error"]["status"] == 400
    assert out["badOverride"]["error"]["data"]["error"]["code"] == "invalid_body"
    assert out["triggerSync"] == {"status": 200, "data": {"success": True}}
    [status] = out["syncStatus"]["syncs"]
    assert status["latestResult"] == {"Item": {"added": 5, "updated": 0, "deleted": 0}}
    assert [r["id"] for r in out["listRecords"]["records"]] == ["0", "1", "2"]
    assert [r["id"] for r in out["nextPage"]["records"]] == ["3", "4"]
    assert out["nextPage"]["next_cursor"] is None
    assert out["allPages"] == {"ids": ["0", "1", "2", "3", "4"], "pages": 3}
    assert out["pauseSync"]["status"] == 200
    assert out["statusPaused"]["syncs"][0]["status"] == "PAUSED"
    assert out["startSync"] == {"status": 200, "data": {"success": True}}
    assert out["statusStarted"]["syncs"][0]["status"] != "PAUSED"
    [listed] = out["listConnectionsBefore"]["connections"]
    assert (listed["connection_id"], listed["provider_config_key"]) == ("c1", "fake")
    assert out["frequency"] == {"frequency": "every 2h"}
    assert out["triggerAction"] == {"text": "hello z"}
    assert out["actionError"]["error"]["status"] == 500
    assert out["actionError"]["error"]["data"]["error"]["payload"] == {
        "message": "nobody to greet",
        "code": "empty",
    }
    assert out["asyncResult"] == ["pong", 1]
    assert out["proxy"]["status"] == 200
    assert out["proxy"]["data"] == {"text": "hello p"}
    assert out["scriptsConfig"][0]["providerConfigKey"] == "fake"
    assert out["deleteConnection"] == {"status": 200, "data": {"success": True}}
    assert out["listConnections"] == {"connections": []}
