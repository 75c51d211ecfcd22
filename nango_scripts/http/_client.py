"""``ApiClient``: an httpx ``AsyncClient`` bound to one connection.

The client is a thin driver: URL joining, auth, the retry policy and the paginators
are decided elsewhere (pure code); here they meet httpx, the clock and ``sleep``.

Where a request may go and which requests carry the credentials is ``_targets``'s rule:
a URL outside the base URL's host (an absolute URL, a next link, a redirect) is sent
without the connection's credentials and the integration's headers.
"""

from __future__ import annotations

import asyncio
import functools
import random
import ssl
import time
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import replace
from types import TracebackType
from typing import Any, Unpack

import certifi
import httpx
import orjson

from nango_scripts.errors import CredentialsError, HttpError, InvalidRequestError, PaginationError
from nango_scripts.http._auth import AuthParts, build_auth
from nango_scripts.http._options import (
    PAGE_OPTIONS,
    REQUEST_OPTIONS,
    PageOptions,
    RequestOptions,
    check_options,
)
from nango_scripts.http._pagination_config import resolve_pagination
from nango_scripts.http._paginators import PageRequest, Paginator, make_paginator
from nango_scripts.http._retry import RetryPolicy
from nango_scripts.http._targets import (
    GUARD,
    READ_AHEAD,
    BadRedirect,
    CredentialGuard,
    CredentialScope,
    UnsafeTarget,
    api_url,
    check_hop,
    merge_headers,
    parse_target,
)
from nango_scripts.http._urls import scrub_url
from nango_scripts.providers import ProviderConfig

__all__ = ["ApiClient"]

Log = Callable[[str, str, Mapping[str, Any]], None]
_NO_AUTH = AuthParts()
_HINTS = {
    401: "Check the connection's credentials.",
    403: "Check the connection's credentials and the scopes it was granted.",
    429: "The API is rate limiting: run less often, or raise retries.",
}


def _no_log(level: str, message: str, fields: Mapping[str, Any]) -> None:
    pass


def _request_url(exc: httpx.TransportError, fallback: str) -> str:
    try:
        return str(exc.request.url)
    except RuntimeError:  # raised by httpx when the error carries no request
        return fallback


class ApiClient:
    """Requests to one integration's API with one connection's credentials.

    ``request`` returns the response or raises :class:`HttpError`; ``paginate`` yields
    pages (lists of items) one at a time. Both retry 429, 5xx and network errors per
    ``retry_policy`` and renew OAuth2 tokens. ``log(level, message, fields)`` receives a
    debug line per request and a warning per retry.
    """

    def __init__(
        self,
        provider: ProviderConfig,
        credentials: Mapping[str, Any],
        *,
        on_credentials_refreshed: Callable[[dict[str, Any]], Awaitable[None]] | None = None,
        retries: int = 3,
        log: Log | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        timeout: float = 60.0,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        self.provider = provider
        self._retries = retries
        self._log_fn = log
        self._log: Log = log or _no_log
        self._sleep = sleep
        policy = retry_policy or RetryPolicy()
        if policy.rate_limit_reset_header is None and provider.rate_limit_reset_header:
            policy = replace(
                policy,
                rate_limit_reset_header=provider.rate_limit_reset_header,
                rate_limit_reset_format=provider.rate_limit_reset_format,
            )
        self._policy = policy
        self._secret_params = (provider.api_key_query,) if provider.api_key_query else ()
        self._withheld_from: set[str] = set()
        # Before the httpx client exists: bad credentials must not leak an open client.
        self._auth = build_auth(
            provider, credentials, self._post_token, on_credentials_refreshed, self._log
        )
        self._timeout = timeout
        self._pages_via: Any = None
        """The transport that fetches ``paginate``'s pages itself (``page_get``), or None."""
        if transport is None:
            # aiohttp's C parser under httpx: a third less CPU per request than httpcore
            # (benchmarks/bench_transports.py). Imported here: it costs ~0.15 s to import,
            # which commands that make no request should not pay.
            from nango_scripts.http._transport import AiohttpTransport, fast_transport

            transport = fast_transport(_ssl_context())
            if isinstance(transport, AiohttpTransport) and not urllib.request.getproxies():
                self._pages_via = transport
        self._http = httpx.AsyncClient(
            transport=transport,
            timeout=httpx.Timeout(timeout),
            follow_redirects=True,
            verify=_ssl_context(),
            event_hooks={"request": [check_hop]},
        )
        # httpx parses every response for cookies through urllib's machinery, about a
        # tenth of a request's CPU; ours looks only where a cookie is set.
        self._http._cookies = _SetCookiesOnly()

    async def __aenter__(self) -> ApiClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    def scrub(self, url: str) -> str:
        """``url`` safe to show: no userinfo, secret query values masked."""
        return scrub_url(url, self._secret_params)

    async def request(
        self, method: str, endpoint: str, **options: Unpack[RequestOptions]
    ) -> httpx.Response:
        """One request (retried as needed); any final status >= 400 raises :class:`HttpError`.

        A relative ``endpoint`` stays under the base URL (``base_url_override`` when given);
        :class:`InvalidRequestError` if it would leave it, or if the URL cannot be sent.
        """
        check_options(options, REQUEST_OPTIONS)
        base_url_override = options.get("base_url_override")
        method = method.upper()
        base = base_url_override or self.provider.base_url
        scope = self._scope(method, base, "base_url_override" if base_url_override else "")
        url = self._url(method, base, endpoint)
        response, attempts = await self._send(
            method,
            url,
            params=options.get("params"),
            json=options.get("json"),
            data=options.get("data"),
            headers=options.get("headers"),
            retries=options.get("retries"),
            scope=scope,
        )
        return self._checked(response, attempts)

    def paginate(self, endpoint: str, **options: Unpack[PageOptions]) -> AsyncIterator[list[Any]]:
        """Pages of items, fetched one at a time as the caller iterates.

        The config is resolved now, so a bad one raises here rather than mid-iteration.
        """
        check_options(options, PAGE_OPTIONS)
        paginate = options.get("paginate")
        config = resolve_pagination(self.provider.pagination, paginate, provider=self.provider.name)
        paginator = make_paginator(config)
        first = paginator.first_request(options.get("params"), options.get("json"))
        method = options.get("method", "GET").upper()
        base = self.provider.base_url
        scope = self._scope(method, base, "")
        url = self._url(method, base, endpoint)
        headers, retries = options.get("headers"), options.get("retries")
        return self._pages(paginator, first, method, url, headers, retries, scope)

    async def _pages(
        self,
        paginator: Paginator,
        page: PageRequest | None,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        retries: int | None,
        scope: CredentialScope,
    ) -> AsyncIterator[list[Any]]:
        # GET pages are read ahead: the next page's request is sent before this page is
        # handed over, so the API works on it while the script saves this one. A read
        # ahead is one attempt: if it fails in any way (a 429, a 5xx, the network, a
        # cassette without it), the page is asked for again, with retries, when wanted.
        ahead: asyncio.Task[tuple[httpx.Response, int]] | None = None
        try:
            while page is not None:
                response: httpx.Response | None = None
                if ahead is not None:
                    try:
                        response, attempts = await ahead
                    except Exception:
                        response = None
                    ahead = None
                    if response is not None and not response.is_success:
                        await response.aclose()
                        response = None
                if response is None:
                    response, attempts = await self._send(
                        method,
                        page.url or url,
                        params=page.params,
                        json=page.json,
                        headers=headers,
                        retries=retries,
                        scope=scope,
                        page=True,
                    )
                self._checked(response, attempts)
                body = _json_body(response)
                if body is _NOT_JSON:
                    raise PaginationError(
                        f"{method} {self.scrub(str(response.url))} did not answer JSON, so it"
                        f" cannot be paginated: {response.text[:200]!r}"
                    )
                items = paginator.extract_items(body)
                if not items:
                    return
                failure: Exception | None = None
                try:
                    page = paginator.next_request(body, response.headers, items, str(response.url))
                except Exception as exc:  # raised after the script has had these items
                    page, failure = None, exc
                if page is None and paginator.warning:
                    self._log("warning", paginator.warning, {"url": self.scrub(str(response.url))})
                if page is not None and method == "GET":
                    ahead = asyncio.ensure_future(
                        self._send(
                            method,
                            page.url or url,
                            params=page.params,
                            json=page.json,
                            headers=headers,
                            retries=0,
                            scope=scope,
                            read_ahead=True,
                            page=True,
                        )
                    )
                yield items
                if failure is not None:
                    raise failure
        finally:
            if ahead is not None:
                ahead.cancel()
                ahead.add_done_callback(_forget)

    async def _post_token(
        self, url: str, form: dict[str, str], headers: dict[str, str]
    ) -> httpx.Response:
        """A token-endpoint request: retried like any other, but without the API's auth/headers."""
        response, _ = await self._send("POST", url, data=form, headers=headers, scope=None)
        return response

    def _shown(self, url: str) -> str:
        shown = self.scrub(url)
        return shown if len(shown) <= 200 else f"{shown[:200]}... ({len(shown):,} characters)"

    def _refused(self, method: str, url: str, reason: UnsafeTarget | str) -> InvalidRequestError:
        shown = self._shown(url)
        return InvalidRequestError(
            f"{method} {shown} was not sent: {reason}.", method=method, url=shown
        )

    def _scope(self, method: str, base: str, what: str) -> CredentialScope:
        try:
            return CredentialScope.of(base)
        except UnsafeTarget as exc:
            shown = self._shown(base)
            name = what or f"The base_url of {self.provider.name!r}"
            raise InvalidRequestError(
                f"{name} {shown!r} is not a usable base URL: {exc}. Nothing was sent.",
                method=method,
                url=shown,
            ) from None

    def _url(self, method: str, base: str, endpoint: str) -> str:
        try:
            return api_url(base, endpoint)
        except UnsafeTarget as exc:
            raise self._refused(
                method, base.rstrip("/") + "/" + endpoint.lstrip("/"), exc
            ) from None

    def _withheld(self, method: str, url: httpx.URL, scope: CredentialScope) -> None:
        host = url.host
        if self.provider.auth == "none" or host in self._withheld_from:
            return
        self._withheld_from.add(host)
        shown = self.scrub(str(url))
        self._log(
            "info",
            f"{method} {shown}: sent without the connection's credentials, which only go to "
            f"{scope.describe()} over {'https' if scope.https else 'http(s)'}",
            {"method": method, "url": shown, "host": host},
        )

    async def _send(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        retries: int | None = None,
        scope: CredentialScope | None,
        read_ahead: bool = False,
        page: bool = False,
    ) -> tuple[httpx.Response, int]:
        """The final response and how many retries it took; HttpError if the network never answered.

        ``page``: a page of ``paginate`` (its body is read whole, as JSON; see
        ``_page_get``). ``read_ahead``: a page asked for before the script wants it; its
        request carries the ``READ_AHEAD`` extension, so a cassette can tell it apart.

        The connection's auth and the provider's headers go only to URLs ``scope`` allows;
        ``scope=None`` (token requests) sends neither.
        """
        try:
            target = parse_target(url)
        except UnsafeTarget as exc:
            raise self._refused(method, url, exc) from None
        trusted = scope is not None and scope.allows(target)
        if scope is not None and not trusted:
            self._withheld(method, target, scope)
        limit = self._retries if retries is None else retries
        attempt = 0
        previous = 0.0
        renewed = False
        while True:
            parts = await self._auth.prepare() if trusted else _NO_AUTH
            names = (*self.provider.headers, *parts.headers) if trusted else ()
            guard = CredentialGuard(scope, names, attached=trusted)
            try:
                response = await self._attempt(
                    method, target, params, json, data, headers, parts, guard, read_ahead, page
                )
            except BadRedirect as exc:
                raise HttpError(
                    f"{method} {self.scrub(url)} failed: the API redirected to {exc}",
                    method=method,
                    url=self.scrub(url),
                    hint="The API answered with a redirect that cannot be followed.",
                ) from None
            except httpx.InvalidURL as exc:  # the query made it too long, say
                raise self._refused(method, url, f"the URL is not valid: {exc}") from None
            except httpx.LocalProtocolError as exc:
                # Our request is not valid HTTP: retrying cannot help, and the error's text
                # quotes the offending header value, which may be a credential.
                raise self._refused(
                    method, url, f"it is not a valid HTTP request ({type(exc).__name__})"
                ) from None
            except httpx.TransportError as exc:
                wait = self._policy.delay(
                    attempt=attempt,
                    retries=limit,
                    status=None,
                    rand=random.random(),
                    previous=previous,
                )
                shown = self.scrub(_request_url(exc, url))
                if wait is None:
                    after = f" (gave up after {attempt} retries)" if attempt else ""
                    raise HttpError(
                        f"{method} {shown} failed: {type(exc).__name__}: {exc}{after}",
                        method=method,
                        url=shown,
                        hint="The API could not be reached; check base_url and the network.",
                    ) from exc
                self._retry_log(method, shown, type(exc).__name__, wait, attempt, limit)
            else:
                status = response.status_code
                if status == 401 and trusted and self._auth.can_refresh and not renewed:
                    renewed = True  # once per call: a second 401 is an answer, not a stale token
                    if await self._auth.unauthorized(parts):
                        continue
                wait = self._policy.delay(
                    attempt=attempt,
                    retries=limit,
                    status=status,
                    headers=response.headers,
                    now=time.time(),
                    rand=random.random(),
                    previous=previous,
                )
                if wait is None:
                    return response, attempt
                self._retry_log(method, self.scrub(str(response.url)), status, wait, attempt, limit)
            await self._sleep(wait)
            previous = wait
            attempt += 1

    async def _attempt(
        self,
        method: str,
        url: httpx.URL,
        params: Mapping[str, Any] | None,
        json: Any,
        data: Any,
        headers: Mapping[str, str] | None,
        parts: AuthParts,
        guard: CredentialGuard,
        read_ahead: bool = False,
        page: bool = False,
    ) -> httpx.Response:
        """One HTTP exchange, logged at debug level."""
        send_params = {**parts.params, **(params or {})} if parts.params else params
        target = url
        if send_params and url.query:
            # httpx would replace the URL's own query with ``params``: merge instead.
            target, send_params = url.copy_merge_params(send_params), None
        raw = data if isinstance(data, str | bytes) else None
        provider_headers = self.provider.headers if guard.attached else None
        try:
            merge_headers(parts.headers)
        except UnsafeTarget as exc:
            raise CredentialsError(
                f"The connection's credentials cannot be sent: {exc}.",
                hint="Import them again (a line break pasted with a key?).",
            ) from None
        try:
            # The script's headers win over the auth's, which win over the provider's.
            sent_headers = merge_headers(provider_headers, parts.headers, headers)
        except UnsafeTarget as exc:
            raise self._refused(method, str(url), exc) from None
        started = time.perf_counter()
        response = None
        if page and method == "GET" and json is None and data is None:
            response = await self._page_get(target, send_params, sent_headers)
        if response is None:
            response = await self._http.request(
                method,
                target,
                params=send_params or None,
                json=json,
                data=None if raw is not None else data,
                content=raw,
                headers=sent_headers,
                extensions={GUARD: guard, READ_AHEAD: True} if read_ahead else {GUARD: guard},
            )
        if self._log_fn is not None:
            shown = self.scrub(str(response.url))
            duration_ms = round((time.perf_counter() - started) * 1000, 1)
            self._log_fn(
                "debug",
                f"{method} {shown} {response.status_code} ({duration_ms} ms)",
                {
                    "method": method,
                    "url": shown,
                    "status": response.status_code,
                    "duration_ms": duration_ms,
                },
            )
        return response

    async def _page_get(
        self,
        target: httpx.URL,
        params: Mapping[str, Any] | None,
        headers: list[tuple[bytes, bytes]],
    ) -> httpx.Response | None:
        """A page's GET straight on the aiohttp transport, without httpx's client between:
        a third of a page's CPU (benchmarks/bench_run.py). None when httpx must send it:
        another transport (a cassette's, a test's), a proxy, cookies to send, an
        Accept-Encoding of the script's own, a redirect.

        What httpx's client would add is added here: its default headers, the params
        merged into the URL (httpx's own encoding), the cookies a response sets. The
        credential guard (``check_hop``) has nothing to do: there is one hop, to the
        target ``_send`` checked."""
        via = self._pages_via
        if via is None or self._http.cookies:
            return None
        sent = {name.lower(): (name, value) for name, value in headers}
        if b"accept-encoding" in sent:
            return None
        merged = {name.lower(): (name, value) for name, value in self._http.headers.raw}
        merged[b"accept-encoding"] = (b"Accept-Encoding", b"gzip, deflate")  # aiohttp decodes
        merged.update(sent)
        url = target.copy_merge_params(params) if params else target
        response: httpx.Response | None = await via.page_get(
            url,
            [(name.decode("latin-1"), value.decode("latin-1")) for name, value in merged.values()],
            self._timeout,
        )
        if response is not None and "set-cookie" in response.headers:
            self._http.cookies.extract_cookies(response)
        return response

    def _retry_log(
        self, method: str, url: str, cause: int | str, wait: float, attempt: int, limit: int
    ) -> None:
        self._log(
            "warning",
            f"retrying {method} {url} after {cause} in {wait:.2f}s (retry {attempt + 1} of {limit})",
            {
                "method": method,
                "url": url,
                "status": cause,
                "wait_s": round(wait, 3),
                "attempt": attempt + 1,
            },
        )

    def _checked(self, response: httpx.Response, retried: int) -> httpx.Response:
        status = response.status_code
        if status < 400:
            return response
        method = response.request.method
        url = self.scrub(str(response.request.url))
        body = response.text[:500]
        message = f"{method} {url} failed with {status} {response.reason_phrase}"
        hint = _HINTS.get(status)
        guard = response.request.extensions.get(GUARD)
        if (
            status in (401, 403)
            and self.provider.auth != "none"
            and isinstance(guard, CredentialGuard)
        ):
            scope = guard.scope
            if scope is not None and not (guard.attached and scope.allows(response.request.url)):
                hint = f"This URL got no credentials: they only go to {scope.describe()}."
        if retried:
            hint = f"Gave up after {retried} retries. {hint or ''}".strip()
        raise HttpError(
            f"{message}: {body}" if body else message,
            method=method,
            url=url,
            status=status,
            body=body,
            hint=hint,
        )


class _SetCookiesOnly(httpx.Cookies):
    """The client's cookie jar: it reads the cookies of responses that set some."""

    def extract_cookies(self, response: httpx.Response) -> None:
        if "set-cookie" in response.headers:
            super().extract_cookies(response)


_NOT_JSON: Any = object()


def _forget(task: asyncio.Task[Any]) -> None:
    """A read ahead nobody wanted: its failure (if any) is nobody's concern."""
    if not task.cancelled():
        task.exception()


def _json_body(response: httpx.Response) -> Any:
    """The body as JSON, decoded by orjson (several times faster than ``json``); what it
    refuses (another encoding than UTF-8, integers beyond 64 bits) goes to httpx's decoder."""
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        pass
    try:
        return response.json()
    except ValueError:
        return _NOT_JSON


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """One TLS context per process: loading the CA bundle costs ~25 ms, once per client otherwise."""
    return ssl.create_default_context(cafile=certifi.where())
