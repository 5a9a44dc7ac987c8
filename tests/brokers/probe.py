#!/usr/bin/env python3
"""What a broker answers, packet by packet, with no client library in between.

Used to measure the matrix in docs/BROKERS.md: a raw MQTT 3.1.1 socket sends exactly
the packets named below and prints every packet the broker sends back, decoded, or how
the connection ended. Not a test: it asserts nothing; it shows.

    python3 tests/brokers/probe.py PORT [scenario...]

Scenarios: qos2_publish suback deliver_qos2 retained will persistent (default: all).
"""

import socket
import struct
import sys
import time

NAMES = {1: "CONNECT", 2: "CONNACK", 3: "PUBLISH", 4: "PUBACK", 5: "PUBREC", 6: "PUBREL",
         7: "PUBCOMP", 8: "SUBSCRIBE", 9: "SUBACK", 10: "UNSUBSCRIBE", 11: "UNSUBACK",
         12: "PINGREQ", 13: "PINGRESP", 14: "DISCONNECT"}


def utf8(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack("!H", len(b)) + b


def packet(kind, flags, body):
    n, rl = len(body), b""
    while True:
        d, n = n % 128, n // 128
        rl += bytes([d | (0x80 if n else 0)])
        if not n:
            return bytes([kind << 4 | flags]) + rl + body


def connect(port, cid, clean=True, will=None):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    flags = 0x02 if clean else 0
    payload = utf8(cid)
    if will:
        topic, msg, qos, retain = will
        flags |= 0x04 | qos << 3 | (0x20 if retain else 0)
        payload += utf8(topic) + utf8(msg)
    s.sendall(packet(1, 0, utf8("MQTT") + bytes([4, flags]) + struct.pack("!H", 30) + payload))
    got = read(s, 5)
    return s, got


def read(s, timeout):
    """One packet, (name, flags, body), or ('closed'|'silent', ...)."""
    s.settimeout(timeout)
    try:
        h = s.recv(1)
        if not h:
            return ("closed", 0, b"")
        n, mult = 0, 1
        while True:
            d = s.recv(1)[0]
            n += (d & 0x7F) * mult
            mult *= 128
            if not d & 0x80:
                break
        body = b""
        while len(body) < n:
            chunk = s.recv(n - len(body))
            if not chunk:
                return ("closed", 0, b"")
            body += chunk
        return (NAMES.get(h[0] >> 4, "?"), h[0] & 0x0F, body)
    except socket.timeout:
        return ("silent", 0, b"")
    except (ConnectionResetError, BrokenPipeError):
        return ("closed (reset)", 0, b"")


def show(who, p):
    name, flags, body = p
    detail = ""
    if name == "CONNACK":
        detail = f"session_present={body[0] & 1} rc={body[1]}"
    elif name == "SUBACK":
        detail = f"id={struct.unpack('!H', body[:2])[0]} granted={list(body[2:])}"
    elif name in ("PUBACK", "PUBREC", "PUBREL", "PUBCOMP"):
        detail = f"id={struct.unpack('!H', body[:2])[0]}"
    elif name == "PUBLISH":
        q = flags >> 1 & 3
        tl = struct.unpack("!H", body[:2])[0]
        topic = body[2:2 + tl].decode()
        rest = body[2 + tl:]
        pid = ""
        if q:
            pid = f" id={struct.unpack('!H', rest[:2])[0]}"
            rest = rest[2:]
        detail = f"topic={topic} qos={q} retain={flags & 1} dup={flags >> 3 & 1}{pid} payload={rest!r}"
    print(f"  {who} <- {name} {detail}")


def drain(who, s, timeout=1.5):
    """Prints everything that arrives until the broker is silent or closes."""
    out = []
    while True:
        p = read(s, timeout)
        if p[0] in ("silent", "closed", "closed (reset)"):
            print(f"  {who} <- ({p[0]})")
            return out
        show(who, p)
        out.append(p)


def subscribe(s, pid, filters):
    body = struct.pack("!H", pid) + b"".join(utf8(f) + bytes([q]) for f, q in filters)
    s.sendall(packet(8, 2, body))


def publish(s, topic, msg, qos=0, pid=1, retain=False):
    body = utf8(topic) + (struct.pack("!H", pid) if qos else b"") + msg.encode()
    s.sendall(packet(3, qos << 1 | (1 if retain else 0), body))


def tag():
    return f"p{int(time.time() * 1000) % 100000}"


def qos2_publish(port):
    print("A QoS 2 PUBLISH: what answers it?")
    s, c = connect(port, tag() + "q2")
    show("pub", c)
    publish(s, "probe/q2", "two", qos=2, pid=7)
    drain("pub", s)


def suback(port):
    print("SUBSCRIBE asking QoS 0, 1, 2: what SUBACK grants")
    s, c = connect(port, tag() + "sa")
    show("sub", c)
    subscribe(s, 3, [("probe/s0", 0), ("probe/s1", 1), ("probe/s2", 2)])
    drain("sub", s)


def deliver_qos2(port):
    print("A subscriber granted its best QoS; a QoS 1 and a QoS 2 PUBLISH: delivered at which QoS?")
    sub, c = connect(port, tag() + "dsub")
    subscribe(sub, 1, [("probe/d/#", 2)])
    drain("sub", sub, 1.0)
    pub, c = connect(port, tag() + "dpub")
    publish(pub, "probe/d/one", "one", qos=1, pid=1)
    drain("pub", pub, 1.0)
    publish(pub, "probe/d/two", "two", qos=2, pid=2)
    drain("pub", pub, 1.0)
    drain("sub", sub)


def retained(port):
    print("Retained: set, seen by a late subscriber; cleared with an empty payload")
    t = "probe/r/" + tag()
    pub, c = connect(port, tag() + "rpub")
    publish(pub, t, "kept", qos=1, pid=1, retain=True)
    drain("pub", pub, 1.0)
    late, c = connect(port, tag() + "rlate")
    subscribe(late, 1, [(t, 1)])
    drain("late", late)
    publish(pub, t, "", qos=1, pid=2, retain=True)
    drain("pub", pub, 1.0)
    later, c = connect(port, tag() + "rlater")
    subscribe(later, 1, [(t, 1)])
    drain("later", later)


def will(port):
    print("Will: after DISCONNECT (must not come), then on a dropped socket (must come)")
    w, c = connect(port, tag() + "watch")
    subscribe(w, 1, [("probe/will/#", 1)])
    drain("watcher", w, 1.0)
    polite, c = connect(port, tag() + "polite", will=("probe/will/polite", b"polite", 1, False))
    polite.sendall(packet(14, 0, b""))
    polite.close()
    rude, c = connect(port, tag() + "rude", will=("probe/will/rude", b"rude", 1, False))
    rude.close()
    drain("watcher", w, 3.0)


def persistent(port):
    print("Persistent session: subscribe at QoS 1 with clean session 0, go away, 3 messages, come back")
    cid = tag() + "pers"
    s, c = connect(port, cid, clean=False)
    show("sub", c)
    subscribe(s, 1, [("probe/p/#", 1)])
    drain("sub", s, 1.0)
    s.sendall(packet(14, 0, b""))
    s.close()
    pub, c = connect(port, tag() + "ppub")
    for i in range(3):
        publish(pub, "probe/p/x", f"m{i}", qos=1, pid=i + 1)
    drain("pub", pub, 1.0)
    s, c = connect(port, cid, clean=False)
    show("sub again", c)
    drain("sub again", s)


ALL = [qos2_publish, suback, deliver_qos2, retained, will, persistent]

if __name__ == "__main__":
    port = int(sys.argv[1])
    wanted = sys.argv[2:] or [f.__name__ for f in ALL]
    for f in ALL:
        if f.__name__ in wanted:
            f(port)
