"""Checks of a request body before FastAPI reads it: its size (a declared Content-Length over
the limit is refused, a chunked body is counted as it arrives; Starlette has no such setting),
how long the client may pause while sending it, its encoding (JSON is UTF-8; FastAPI answers bad
bytes with a vague message) and keys named twice (JSON parsers keep the last without a word)."""

from __future__ import annotations

import asyncio
import json

from tunelab.data.tables import DuplicateKey, unique_keys

DRAIN = 20  # a body over the limit is read and dropped up to this many times the limit


async def send_error(send, status: int, message: str, close: bool = False) -> None:
    body = json.dumps({"error": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def declared_length(scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class BodyLimit:
    """ASGI middleware: a JSON error for a request body over `max_bytes` (413), one whose parts
    stop coming for `timeout_s` (408: a Content-Length longer than the body sent), one not UTF-8
    (400) or naming a JSON key twice (400)."""

    def __init__(self, app, max_bytes: int, timeout_s: float = 10.0) -> None:
        self.app, self.max_bytes, self.timeout_s = app, max_bytes, timeout_s

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        too_large = f"request body over {self.max_bytes} bytes (serve setting max_body_bytes)"
        declared = declared_length(scope)
        chunks, size, more = [], 0, True
        while more:
            try:
                message = await asyncio.wait_for(receive(), self.timeout_s)
            except TimeoutError:
                if (declared or 0) > self.max_bytes or size > self.max_bytes:
                    return await send_error(send, 413, too_large, close=True)
                return await send_error(
                    send,
                    408,
                    f"the body stopped after {size} of {declared or '?'} bytes for "
                    f"{self.timeout_s:g} s (serve setting limits.body_timeout_s)",
                    close=True,
                )
            if message["type"] == "http.disconnect":
                return None
            size += len(message.get("body", b""))
            if size <= self.max_bytes:
                chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
            if size > DRAIN * self.max_bytes:
                break  # a client still sending this much is cut off
        if size > self.max_bytes:
            # the body is read (and dropped) first: most clients read no answer while sending
            return await send_error(send, 413, too_large)
        body = b"".join(chunks)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as err:
            return await send_error(
                send, 400, f"the body is not valid UTF-8 (byte {err.start + 1}); JSON is UTF-8"
            )
        try:
            json.loads(text, object_pairs_hook=unique_keys)
        except DuplicateKey as err:
            return await send_error(send, 400, f"the body names key {err.args[0]!r} twice")
        except RecursionError:
            return await send_error(send, 400, "the body's JSON is nested too deeply")
        except ValueError:
            pass  # FastAPI names what is wrong with the JSON itself
        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        return await self.app(scope, replay, send)


def with_header_timeout(protocol: type, seconds: float) -> type:
    """uvicorn's HTTP protocol class with a deadline for a request's headers: uvicorn limits the
    wait between requests (keep-alive) but not a client that sends its headers a byte at a time,
    which holds a connection open for ever. Past `seconds`, a 408 and the connection closed."""

    class HeaderTimeout(protocol):
        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            self._header_timer = None
            self._arm()

        def data_received(self, data: bytes) -> None:
            between = self.cycle is None or self.cycle.response_complete
            if self._header_timer is None and between:
                self._arm()
            super().data_received(data)
            if self._header_timer is not None and self.cycle is not self._cycle_before:
                self._header_timer.cancel()  # the headers are in: a request has begun
                self._header_timer = None

        def connection_lost(self, exc) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
            super().connection_lost(exc)

        def _arm(self) -> None:
            self._cycle_before = self.cycle
            self._header_timer = self.loop.call_later(seconds, self._late)

        def _late(self) -> None:
            self._header_timer = None
            if self.cycle is self._cycle_before and not self.transport.is_closing():
                body = json.dumps(
                    {"error": f"no complete request headers in {seconds:g} s (header_timeout_s)"}
                ).encode()
                head = (
                    "HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
                    f"connection: close\r\ncontent-length: {len(body)}\r\n\r\n"
                ).encode()
                self.transport.write(head + body)
                self.transport.close()

    return HeaderTimeout
