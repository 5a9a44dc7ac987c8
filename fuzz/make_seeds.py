#!/usr/bin/env python3
"""Writes the seed corpora for the fuzzers: one file per server packet for the decoder,
and a few whole conversations for the session. Run from anywhere; the fuzzers grow the
corpus from these (python3 fuzz/make_seeds.py)."""
import pathlib

here = pathlib.Path(__file__).resolve().parent


def u16(n):
    return bytes([n >> 8, n & 0xFF])


def publish(topic, payload, qos=0, pid=0, dup=False, retain=False):
    body = u16(len(topic)) + topic + (u16(pid) if qos else b"") + payload
    first = 0x30 | (0x08 if dup else 0) | (qos << 1) | (1 if retain else 0)
    return bytes([first, len(body)]) + body


packets = {
    "connack": b"\x20\x02\x00\x00",
    "connack_present": b"\x20\x02\x01\x00",
    "connack_refused": b"\x20\x02\x00\x05",
    "publish_q0": publish(b"a/b", b"hi"),
    "publish_q1": publish(b"a/b", b"hi", 1, 10, retain=True),
    "publish_q2_dup": publish(b"$SYS/x", b"", 2, 0x1234, dup=True),
    "publish_utf8": publish("é/ü".encode(), b"payload"),
    "puback": b"\x40\x02\x00\x01",
    "pubrec": b"\x50\x02\x00\x02",
    "pubrel": b"\x62\x02\x00\x03",
    "pubcomp": b"\x70\x02\x00\x04",
    "suback": b"\x90\x06\x00\x07\x00\x01\x02\x80",
    "unsuback": b"\xb0\x02\x00\x08",
    "pingresp": b"\xd0\x00",
    "long_length": b"\x30\x80\x01" + u16(1) + b"t" + b"x" * 125,
}

decode_dir = here / "corpus" / "decode"
decode_dir.mkdir(parents=True, exist_ok=True)
for name, data in packets.items():
    (decode_dir / name).write_bytes(data)


def conversation(mode, pieces):
    """mode byte, then (control byte, input) pairs; control's low 5 bits = input length."""
    out = bytes([mode])
    for control_high, data in pieces:
        if not data:
            out += bytes([control_high << 5])
        while data:
            chunk, data = data[:31], data[31:]
            out += bytes([(control_high << 5) | len(chunk)]) + chunk
    return out


session_dir = here / "corpus" / "session"
session_dir.mkdir(parents=True, exist_ok=True)
p = packets
(session_dir / "qos_flows").write_bytes(conversation(0x02, [
    (1, p["connack"]), (2, p["publish_q1"]), (3, b"\x40\x02\x00\x01"), (0, b"\x50\x02\x00\x02"),
    (0, b"\x70\x02\x00\x02"), (0, b"\x90\x03\x00\x03\x02"), (0, publish(b"x", b"y", 2, 9)),
    (0, b"\x62\x02\x00\x09"), (0, p["pingresp"])]))
(session_dir / "resume").write_bytes(conversation(0x01, [
    (1, p["connack"]), (2, b""), (5, b""), (0, p["connack_present"]), (0, b"\x70\x02\x00\x01"),
    (4, b""), (4, b""), (0, p["pingresp"])]))
(session_dir / "refused").write_bytes(conversation(0x00, [(0, p["connack_refused"])]))
(session_dir / "keepalive").write_bytes(conversation(0x01, [(0, p["connack"]), (4, b""), (4, b""), (4, b"")]))
