"""Errors with Nango's code, network failures, retries, and the client's configuration."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from support.server_harness import SECRET, Harness, free_port

from nango_scripts.client import (
    CLOUD_HOST,
    DEFAULT_HOST,
    ActionFailedError,
    AsyncNango,
    Nango,
    NangoAPIError,
    NangoAuthError,
    NangoBadRequestError,
    NangoClientError,
    NangoConnectionError,
    NangoNotFoundError,
    NangoTimeoutError,
)
from nango_scripts.client._errors import error_from_response
from nango_scripts.client._flow import RetryPolicy


def answer(status: int, body: Any = None, **kwargs: Any) -> httpx.Response:
    if body is None:
        return httpx.Response(status, **kwargs)
    if isinstance(body, str):
        return httpx.Response(status, text=body, **kwargs)
    return httpx.Response(status, json=body, **kwargs)


@pytest.mark.parametrize(
    ("response", "kind", "code", "message", "payload"),
    [
        (
            answer(400, {"error": {"code": "invalid_body", "message": "syncs: bad"}}),
            NangoBadRequestError,
            "invalid_body",
            "syncs: bad",
            None,
        ),
        (
            answer(401, {"error": {"code": "unauthorized"}}),
            NangoAuthError,
            "unauthorized",
            None,
            None,
        ),
        (
            answer(404, {"error": {"code": "not_found", "message": "m"}}),
            NangoNotFoundError,
            "not_found",
            "m",
            None,
        ),
        (
            answer(
                500,
                {"error": {"code": "action_script_failure", "message": "m", "payload": {"a": 1}}},
            ),
            ActionFailedError,
            "action_script_failure",
            "m",
            {"a": 1},
        ),
        (answer(409, {"error": {"code": "conflict"}}), NangoAPIError, "conflict", None, None),
        (
            answer(502, "<html>bad gateway</html>"),
            NangoAPIError,
            "http_502",
            "<html>bad gateway</html>",
            None,
        ),
        (
            answer(400, {"error": "Missing id", "type": "missing_id"}),
            NangoBadRequestError,
            "missing_id",
            "Missing id",
            None,
        ),
        (
            answer(404, {"message": "nope"}),
            NangoNotFoundError,
            "http_404",
            '{"message":"nope"}',
            None,
        ),
        (answer(503), NangoAPIError, "http_503", None, None),
    ],
)
def test_error_from_response(
    response: httpx.Response,
    kind: type[NangoAPIError],
    code: str,
    message: str | None,
    payload: Any,
) -> None:
    error = error_from_response(response)
    assert type(error) is kind
    assert (error.status, error.code, error.message, error.payload) == (
        response.status_code,
        code,
        message,
        payload,
    )
    assert error.response is response
    assert code in str(error)
    assert code in repr(error)


@pytest.mark.anyio
async def test_a_wrong_key_is_nangos_401(harness: Harness) -> None:
    async with AsyncNango(secret_key="wrong", host="http://h", transport=harness.transport) as n:
        with pytest.raises(NangoAuthError) as caught:
            await n.list_connections()
    assert (caught.value.status, caught.value.code) == (401, "unauthorized")


def test_nobody_listening_is_a_connection_error() -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    with (
        Nango(secret_key=SECRET, host=nowhere) as nango,
        pytest.raises(NangoConnectionError, match="Could not reach Nango: GET") as caught,
    ):
        nango.list_integrations()
    assert isinstance(caught.value.__cause__, httpx.ConnectError)


class Script:
    """Answers in turn (an exception is raised); counts the calls."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.calls = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        step = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(step, Exception):
            raise step
        return step


def client(script: Script, retries: int = 0) -> Nango:
    return Nango(
        secret_key=SECRET,
        transport=httpx.MockTransport(script),
        retries=retries,
        retry_backoff=0.001,
    )


def test_timeout() -> None:
    script = Script(httpx.ReadTimeout("slow"))
    with client(script) as nango, pytest.raises(NangoTimeoutError, match="in time"):
        nango.list_integrations()


def test_retries_of_reads_on_503_and_network_errors() -> None:
    ok = answer(200, {"data": []})
    script = Script(answer(503, "busy", headers={"Retry-After": "0"}), httpx.ConnectError("x"), ok)
    with client(script, retries=2) as nango:
        assert nango.list_integrations() == []
    assert script.calls == 3
    script = Script(answer(503, "busy"))
    with client(script, retries=2) as nango, pytest.raises(NangoAPIError) as caught:
        nango.list_integrations()
    assert (caught.value.code, script.calls) == ("http_503", 3)


def test_no_retries_by_default_nor_for_writes_nor_on_500() -> None:
    script = Script(answer(503, "busy"), answer(200, {"data": []}))
    with client(script) as nango, pytest.raises(NangoAPIError):
        nango.list_integrations()
    assert script.calls == 1
    script = Script(httpx.ConnectError("x"), answer(200, "ok"))
    with client(script, retries=3) as nango, pytest.raises(NangoConnectionError):
        nango.trigger_action("p", "c", "a")
    assert script.calls == 1
    script = Script(answer(500, {"error": {"code": "action_script_failure"}}), answer(200, []))
    with client(script, retries=3) as nango, pytest.raises(ActionFailedError):
        nango.get_async_action_result("/action/1")
    assert script.calls == 1


def test_retry_delays() -> None:
    policy = RetryPolicy(retries=5, backoff=0.5, max_delay=3.0)
    assert [policy.delay(n) for n in range(4)] == [0.5, 1.0, 2.0, 3.0]
    assert policy.delay(0, "2") == 2.0
    assert policy.delay(0, "120") == 3.0
    assert policy.delay(0, "Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    assert policy.delay(1, "soon") == 1.0


def test_an_answer_of_the_wrong_shape() -> None:
    nango = client(Script(answer(200, {"data": "nope"})))
    with nango, pytest.raises(NangoClientError, match="expected a list"):
        nango.list_integrations()
    nango = client(Script(answer(200, {"records": "nope"})))
    with nango, pytest.raises(NangoClientError, match="RecordsPage"):
        nango.list_records("p", "c", "M")


@pytest.fixture
def no_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    monkeypatch.delenv("NANGO_SECRET_KEY", raising=False)
    monkeypatch.delenv("NANGO_HOST", raising=False)
    yield monkeypatch


def test_configuration(no_env: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="NANGO_SECRET_KEY"):
        Nango()
    with Nango(secret_key="k") as nango:
        assert nango.host == DEFAULT_HOST == "http://127.0.0.1:3003"
        assert "k" not in repr(nango).replace("host", "")
    with Nango(secret_key="k", host=CLOUD_HOST + "/") as nango:
        assert nango.host == "https://api.nango.dev"
    no_env.setenv("NANGO_SECRET_KEY", "from-env")
    no_env.setenv("NANGO_HOST", "http://nango.internal:8080")
    with Nango() as nango:
        assert nango.host == "http://nango.internal:8080"
    for bad in ("nango.dev", "ftp://x", "http://"):
        with pytest.raises(ValueError, match="host must be"):
            Nango(secret_key="k", host=bad)
    with pytest.raises(ValueError, match="retries"):
        Nango(secret_key="k", retries=-1)
    with httpx.Client() as http, pytest.raises(ValueError, match="not both"):
        Nango(secret_key="k", transport=httpx.MockTransport(Script()), http_client=http)


def test_close_leaves_a_client_passed_in_open() -> None:
    http = httpx.Client()
    with Nango(secret_key="k", http_client=http):
        pass
    assert not http.is_closed
    http.close()
    nango = Nango(secret_key="k")
    nango.close()
    assert nango._http.is_closed


@pytest.mark.anyio
async def test_aclose() -> None:
    http = httpx.AsyncClient()
    async with AsyncNango(secret_key="k", http_client=http):
        pass
    assert not http.is_closed
    await http.aclose()
    async with AsyncNango(secret_key="k") as nango:
        pass
    assert nango._http.is_closed
