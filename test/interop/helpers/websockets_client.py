"""Opens a WebSocket with Python's websockets (Debian's python3-websockets), sends one message and
reads two (the server's welcome and its echo).

Usage: websockets_client.py URL [MESSAGE]
Credentials go in the URL's userinfo (ws://user:password@host/path): websockets sends them as Basic
with the handshake, unasked; it answers no challenge. Prints one JSON line:
{"messages": ["...", "..."], "response_headers": {...}} or {"status": 401, "headers": {...}} or
{"error": "..."}. Header names are lower-cased; a repeated field is a list.
"""
import asyncio
import json
import sys

import websockets
from websockets.exceptions import InvalidStatusCode


def headers_of(headers) -> dict:
    out: dict = {}
    for name, value in headers.raw_items():
        out.setdefault(name.lower(), []).append(value)
    return {name: values[0] if len(values) == 1 else values for name, values in out.items()}


async def main() -> None:
    url = sys.argv[1]
    message = sys.argv[2] if len(sys.argv) > 2 else "hello"
    try:
        async with websockets.connect(url, open_timeout=10, close_timeout=2) as ws:
            messages = [await asyncio.wait_for(ws.recv(), 10)]
            await ws.send(message)
            messages.append(await asyncio.wait_for(ws.recv(), 10))
            print(json.dumps({"messages": messages, "response_headers": headers_of(ws.response_headers)}))
    except InvalidStatusCode as error:
        print(json.dumps({"status": error.status_code, "headers": headers_of(error.headers)}))
    except Exception as error:  # the point is to record how the client fails
        print(json.dumps({"error": f"{type(error).__name__}: {error}"}))


if __name__ == "__main__":
    asyncio.run(main())
