"""The attacker of `scripts/bench-serve --attack` (issue 21), a process of its own.

Against one `s3up serve` on loopback it keeps, until SIGTERM:
- SLOW connections that each send a partial request (a request line and one
  header) and then one more header byte every few seconds, never finishing the
  head (slowloris). Each one `serve` closes is opened again at once, so SLOW
  stay open the whole time;
- FLOOD connections that send sign-part requests with the flooding token back
  to back (HTTP/1.1 keep-alive), as fast as `serve` answers them.

On SIGTERM it prints one JSON line on stdout: the slow connections opened and
closed by serve (and their median lifetime), and the flood's answers by status.

Usage: bench-serve-attack.py HOST PORT PATH TOKEN SLOW FLOOD
"""

import asyncio
import json
import signal
import statistics
import sys
import time

SLOW_BYTE_EVERY = 2.0  # seconds between the header bytes of a slow connection


async def slow_one(host, port, stats, stop):
    """One slow-header connection, opened again each time serve closes it."""
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError:
            stats["connect_errors"] += 1
            await asyncio.sleep(0.5)
            continue
        stats["opened"] += 1
        opened = time.monotonic()
        try:
            writer.write(b"POST /s3/multipart HTTP/1.1\r\nHost: bench\r\nX-Slow: ")
            await writer.drain()
            while not stop.is_set():
                # Serve answers (408/431) or closes; either ends the wait.
                try:
                    data = await asyncio.wait_for(reader.read(4096), SLOW_BYTE_EVERY)
                    if not data:
                        break
                    stats["answered"] += 1
                except asyncio.TimeoutError:
                    writer.write(b"a")
                    await writer.drain()
        except (OSError, ConnectionError):
            pass
        finally:
            if not stop.is_set():
                stats["closed"] += 1
                stats["lifetimes"].append(time.monotonic() - opened)
            writer.close()


async def flood_one(host, port, request, stats, stop):
    """One keep-alive connection sending sign-part requests back to back."""
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError:
            stats["flood_connect_errors"] += 1
            await asyncio.sleep(0.1)
            continue
        try:
            while not stop.is_set():
                writer.write(request)
                await writer.drain()
                line = await reader.readline()
                if not line:
                    break
                status = line.split()[1].decode() if len(line.split()) > 1 else "?"
                length, close = 0, False
                while True:
                    h = await reader.readline()
                    if h in (b"\r\n", b"\n", b""):
                        break
                    name, _, value = h.decode("latin-1").partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value.strip())
                    elif name.strip().lower() == "connection" and "close" in value.lower():
                        close = True
                await reader.readexactly(length)
                stats["flood"][status] = stats["flood"].get(status, 0) + 1
                if close:
                    break
        except (OSError, ConnectionError, asyncio.IncompleteReadError):
            stats["flood_dropped"] += 1
        finally:
            writer.close()


async def main():
    host, port, path, token, slow, flood = sys.argv[1:7]
    stats = {"opened": 0, "closed": 0, "answered": 0, "connect_errors": 0, "lifetimes": [],
             "flood": {}, "flood_dropped": 0, "flood_connect_errors": 0}
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    request = (f"GET {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n\r\n").encode()
    started = time.monotonic()
    tasks = [asyncio.create_task(slow_one(host, int(port), stats, stop)) for _ in range(int(slow))]
    tasks += [asyncio.create_task(flood_one(host, int(port), request, stats, stop)) for _ in range(int(flood))]
    print("ready", flush=True)
    await stop.wait()
    elapsed = time.monotonic() - started
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    lifetimes = stats.pop("lifetimes")
    stats["median_slow_lifetime_s"] = round(statistics.median(lifetimes), 1) if lifetimes else None
    stats["seconds"] = round(elapsed, 1)
    print(json.dumps(stats), flush=True)


if __name__ == "__main__":
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    asyncio.run(main())
