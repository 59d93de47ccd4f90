"""ASGI middlewares refusing what no endpoint can take: bodies over the limit, NUL in a path or query."""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import PayloadTooLarge, field_error, problem


def nul_field(scope: Scope) -> str | None:
    """`path` or `query.<name>` when the request's path or a query parameter holds a NUL, else None."""
    if "\x00" in scope["path"]:
        return "path"
    query = scope.get("query_string", b"").decode("latin-1")
    if "\x00" not in query and "%00" not in query:
        return None
    for name, value in parse_qsl(query, keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            return f"query.{name.replace(chr(0), '')}"
    return None


class RefuseNul:
    """Answer 400 naming the parameter when a path or query string holds a NUL (no column can store it)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass every request on, except those with a NUL in the path or query."""
        field = nul_field(scope) if scope["type"] == "http" else None
        if field is None:
            await self.app(scope, receive, send)
            return
        errors = [field_error(field, "must not contain NUL characters")]
        await problem(400, "Bad request", "The request holds a NUL character.", errors)(scope, receive, send)


class BodySizeLimit:
    """Reject bodies over a limit: at once by Content-Length, or while streaming."""

    def __init__(
        self, app: ASGIApp, default_limit: int, large_prefixes: tuple[str, ...], large_limit: int
    ) -> None:
        self.app = app
        self.default_limit = default_limit
        self.large_prefixes = large_prefixes
        self.large_limit = large_limit

    def limit_for(self, path: str) -> int:
        """The byte limit for a path."""
        return self.large_limit if path.startswith(self.large_prefixes) else self.default_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the declared length, then count the bytes as they arrive."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await problem(413, "Payload too large", f"The body exceeds {limit} bytes.")(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise PayloadTooLarge(f"The body exceeds {limit} bytes.")
            return message

        await self.app(scope, counting_receive, send)
