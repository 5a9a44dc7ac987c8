"""A TCP proxy that cuts every live link at random intervals, for scripts/soak_cuts.sh.

Usage: cut_proxy.py LISTEN_PORT TARGET_PORT SEED MIN_MS MAX_MS

Every MIN_MS..MAX_MS (seeded) it aborts both sides of every link it carries (a reset, as
a dropped network path or a crashed NAT looks to each end) and prints "cuts=N", the number
of links cut so far. With REC=DIR set, each link's bytes are also written to DIR/NNNNN.up
(client to server) and DIR/NNNNN.down, to read what each side sent before a cut.
"""
import asyncio
import os
import random
import sys

record_dir = os.environ.get("REC")
listen_port, target_port, seed, min_ms, max_ms = map(int, sys.argv[1:6])
rng = random.Random(seed)
live_links = set()
links_made = 0
links_cut = 0


async def pipe(reader, writer, record=None):
    try:
        while data := await reader.read(65536):
            if record:
                record.write(data)
                record.flush()
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def carry(client_reader, client_writer):
    global links_made
    try:
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", target_port)
    except OSError:
        client_writer.close()
        return
    links_made += 1
    up = open(f"{record_dir}/{links_made:05d}.up", "wb") if record_dir else None
    down = open(f"{record_dir}/{links_made:05d}.down", "wb") if record_dir else None
    link = (client_writer, server_writer)
    live_links.add(link)
    await asyncio.gather(pipe(client_reader, server_writer, up), pipe(server_reader, client_writer, down))
    live_links.discard(link)


async def cut_now_and_then():
    global links_cut
    while True:
        await asyncio.sleep(rng.uniform(min_ms, max_ms) / 1000)
        for link in list(live_links):
            links_cut += 1
            for writer in link:
                writer.transport.abort()
        live_links.clear()
        print(f"cuts={links_cut}", flush=True)


async def main():
    server = await asyncio.start_server(carry, "127.0.0.1", listen_port)
    asyncio.create_task(cut_now_and_then())
    async with server:
        await server.serve_forever()


asyncio.run(main())
