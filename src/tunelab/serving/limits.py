"""Checks of a request body before FastAPI reads it: its size (a declared Content-Length over
the limit is refused at once, a chunked body is counted as it arrives; Starlette has no such
setting) and its encoding (JSON is UTF-8; FastAPI answers bad bytes with a vague message)."""

from __future__ import annotations

import json

DRAIN = 20  # a body over the limit is read and dropped up to this many times the limit


async def send_error(send, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """ASGI middleware: a JSON error for a request body over `max_bytes` (413) or not UTF-8
    (400)."""

    def __init__(self, app, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        too_large = f"request body over {self.max_bytes} bytes (serve setting max_body_bytes)"
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
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
            body.decode("utf-8")
        except UnicodeDecodeError as err:
            return await send_error(
                send, 400, f"the body is not valid UTF-8 (byte {err.start + 1}); JSON is UTF-8"
            )
        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        return await self.app(scope, replay, send)
