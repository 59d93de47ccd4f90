"""An ASGI middleware that refuses request bodies over the configured size with a 413."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import PayloadTooLarge, problem


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
