"""What became of each QoS 2 packet id a server sent a subscriber, from the links that
scripts/cut_proxy.py recorded (REC=DIR: NNNNN.up, client to server; NNNNN.down).

Usage: qos2_ids.py DIR

The subscriber answers a QoS 2 PUBLISH with PUBREC and then holds the id until the
server's PUBREL [MQTT-4.3.3-2]; the server must not use the id for another message before
the PUBCOMP [MQTT-2.3.1-2] and must resend the PUBREL on the next connection
[MQTT-4.4.0-1]. Prints, over all links in order:
  - the most ids the client held from one link into the next, and those held at the end:
    PUBREC sent, no PUBREL came after it (mosquitto keeps it at max_inflight_messages);
  - ids the server reused for a new message (a PUBLISH without DUP) while the client held
    them: the server dropped the exchange and never released the id, which a client with a
    table of held ids sees as a leak (issue 8, defect 1).
A PUBREC written to a link that was cut may not have reached the server; a reuse after
a later PUBREC on a link that lasted says the server had it.
"""
import os
import sys


def packets(data):
    """(first byte, body) of each whole packet in a recording."""
    i = 0
    while i < len(data):
        first, length, shift, j = data[i], 0, 0, i + 1
        while j < len(data):
            b = data[j]
            length |= (b & 0x7F) << shift
            shift += 7
            j += 1
            if not b & 0x80:
                break
        if j + length > len(data):
            return  # cut mid-packet
        yield first, data[j:j + length]
        i = j + length


def main(folder):
    links = sorted({name.split(".")[0] for name in os.listdir(folder) if name[0].isdigit()})
    held = {}  # id -> the link whose PUBREC holds it
    reused, delivered, released, most_held = [], 0, 0, 0
    for link in links:
        down = open(os.path.join(folder, link + ".down"), "rb").read()
        up = open(os.path.join(folder, link + ".up"), "rb").read()
        # The two directions of a link carry no common clock; the server's order is enough:
        # a PUBREL after a PUBLISH of the same id on this link answers this link's PUBREC,
        # and one before it (or with no PUBLISH) one of an earlier link.
        published_at, pubrels = {}, []
        for position, (first, body) in enumerate(packets(down)):
            kind, qos, dup = first >> 4, (first >> 1) & 3, first & 8
            if kind == 3 and qos == 2:
                topic_size = (body[0] << 8) | body[1]
                pid = (body[2 + topic_size] << 8) | body[3 + topic_size]
                delivered += 1
                published_at[pid] = position
                if pid in held and not dup:
                    reused.append((pid, held.pop(pid), int(link)))
            elif first == 0x62:
                pid = (body[0] << 8) | body[1]
                pubrels.append((position, pid))
                if pid not in published_at and held.pop(pid, None) is not None:
                    released += 1
        pubrec_here = {(body[0] << 8) | body[1] for first, body in packets(up) if first == 0x50}
        answered_here = {pid for position, pid in pubrels if published_at.get(pid, len(pubrels) + 1 << 40) < position}
        for pid in pubrec_here:
            if pid in answered_here:
                held.pop(pid, None)
            else:
                held[pid] = int(link)
        most_held = max(most_held, len(held))
    print(f"links={len(links)} qos2_publishes_received={delivered} pubrels_for_ids_held_from_earlier_links={released} "
          f"most_held_between_links={most_held} held_at_end={len(held)} reused_while_held={len(reused)}")
    for pid, since, at in reused[:20]:
        print(f"  id {pid}: PUBREC on link {since}, no PUBREL, a new PUBLISH under it on link {at}")
    if held:
        print("  held at the end: " + " ".join(f"{pid}(link {since})" for pid, since in sorted(held.items())[:20]))


if __name__ == "__main__":
    main(sys.argv[1])
