#!/usr/bin/env python3
"""A slow JSON backend for bench/aggregate.sh: every request is answered after DELAY_MS, over HTTP/1.1.
  bench/delay-upstream.py PORT DELAY_MS [BODY]     # BODY: the JSON answered (default {"ok":true})
One asyncio task per connection, so any number of connections wait out their delays at once;
connections are kept alive (Content-Length on every answer) until the client closes them or sends
Connection: close (HTTP/1.0 without keep-alive closes too). Request bodies with Content-Length are
read and dropped; chunked ones get 501 and a close. Listens on 127.0.0.1 only.
"""
import asyncio
import sys
import time
from email.utils import formatdate

port, delay = int(sys.argv[1]), int(sys.argv[2]) / 1000
body = (sys.argv[3] if len(sys.argv) > 3 else '{"ok":true}').encode()
_date = [0, b""]


def date() -> bytes:
    now = int(time.time())
    if now != _date[0]:
        _date[0], _date[1] = now, formatdate(now, usegmt=True).encode()
    return _date[1]


def answer(status: bytes, payload: bytes, close: bool, head_only: bool) -> bytes:
    fields = [
        b"HTTP/1.1 " + status,
        b"Date: " + date(),
        b"Content-Type: application/json",
        b"Content-Length: " + str(len(payload)).encode(),
    ]
    if close:
        fields.append(b"Connection: close")
    return b"\r\n".join(fields) + b"\r\n\r\n" + (b"" if head_only else payload)


async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                return  # the client closed between requests
            lines = head[:-4].split(b"\r\n")
            parts = lines[0].split(b" ")
            if len(parts) != 3 or not parts[2].startswith(b"HTTP/1."):
                writer.write(answer(b"400 Bad Request", b'{"error":"bad request line"}', True, False))
                await writer.drain()
                return
            method, version = parts[0], parts[2]
            length, connection, chunked = 0, b"", False
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                name, value = name.strip().lower(), value.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"connection":
                    connection = value
                elif name == b"transfer-encoding":
                    chunked = b"chunked" in value
            if chunked:
                writer.write(answer(b"501 Not Implemented", b'{"error":"chunked bodies are not read"}', True, False))
                await writer.drain()
                return
            if length:
                await reader.readexactly(length)
            close = b"close" in connection or (version == b"HTTP/1.0" and b"keep-alive" not in connection)
            await asyncio.sleep(delay)
            writer.write(answer(b"200 OK", body, close, method == b"HEAD"))
            await writer.drain()
            if close:
                return
    except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
        pass
    finally:
        writer.close()


async def main() -> None:
    server = await asyncio.start_server(serve, "127.0.0.1", port, backlog=4096, reuse_address=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
