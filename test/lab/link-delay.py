#!/usr/bin/env python3
"""Hold every packet of one netfilter queue for a fixed time: the lab's `up --rtt MS`.

An iptables NFQUEUE rule (test/lab/delay.ts adds it) hands each packet going to the lab's hosts
to this process and the kernel keeps the packet until this process gives its verdict. Verdicts
are given in arrival order, DELAY_MS after each packet arrived. Only the packets' metadata is
copied here, never their contents, and one batch verdict ("accept every packet up to id N")
covers all packets that are due at once, so a burst of a fleet's connections costs one message.

Why not tc netem: a kernel without sch_netem (this project's CI machine runs one) cannot delay
packets in the kernel at all; netfilter's queue is there, and one mechanism on every machine
means the bench's figures at a given RTT mean the same everywhere.

Python's standard library only: the socket is AF_NETLINK / NETLINK_NETFILTER, which Node.js
cannot open. Protocol: linux/netfilter/nfnetlink_queue.h.

Usage: link-delay.py QUEUE_NUM DELAY_MS [LAB_DIR]
LAB_DIR only marks the process as that lab's (its command line is how the lab finds it). Prints "ready" once the queue is bound (nothing reaches it before the rule exists). On SIGTERM
or SIGINT it accepts every packet it still holds and exits 0; packets of an unbound queue would
be dropped.
"""

import collections
import errno
import select
import signal
import socket
import struct
import sys
import time

NETLINK_NETFILTER = 12
NFNL_SUBSYS_QUEUE = 3
NFQNL_MSG_PACKET = 0
NFQNL_MSG_CONFIG = 2
NFQNL_MSG_VERDICT_BATCH = 3
NFQA_PACKET_HDR = 1
NFQA_VERDICT_HDR = 2
NFQA_CFG_CMD = 1
NFQA_CFG_PARAMS = 2
NFQA_CFG_QUEUE_MAXLEN = 3
NFQNL_CFG_CMD_BIND = 1
NFQNL_COPY_META = 1
NLM_F_REQUEST = 1
NLM_F_ACK = 4
NLMSG_ERROR = 2
NF_ACCEPT = 1
# A fleet's burst: the kernel drops what does not fit in the queue (default 1,024 packets).
QUEUE_MAXLEN = 1 << 17
RCVBUF = 32 << 20
SO_RCVBUFFORCE = 33


class Stop(Exception):
    pass


def attribute(kind, payload):
    size = 4 + len(payload)
    return struct.pack("=HH", size, kind) + payload + b"\0" * (-size % 4)


def message(msg, queue, attributes, flags=NLM_F_REQUEST):
    # nfgenmsg: family (AF_UNSPEC), version 0, res_id = the queue number, big-endian
    body = struct.pack("=BB", socket.AF_UNSPEC, 0) + struct.pack("!H", queue) + b"".join(attributes)
    return struct.pack("=IHHII", 16 + len(body), (NFNL_SUBSYS_QUEUE << 8) | msg, flags, 0, 0) + body


def records(data, offset, header, header_size):
    """(type, payload) of each netlink record from offset on: messages (header "=IH" of 16
    bytes: length, type, ...) or attributes ("=HH", 4 bytes); both padded to 4 bytes."""
    while offset + header_size <= len(data):
        size, kind = struct.unpack_from(header, data, offset)
        if size < header_size:
            return
        yield kind, data[offset + header_size : offset + size]
        offset += (size + 3) & ~3


def messages(data):
    """The netlink messages of one datagram."""
    return records(data, 0, "=IH", 16)


def packet_id(payload):
    """The id in NFQA_PACKET_HDR of a queued packet's message (attributes after the 4-byte nfgenmsg)."""
    for kind, value in records(payload, 4, "=HH", 4):
        if kind & 0x7FFF == NFQA_PACKET_HDR:
            return struct.unpack_from("!I", value)[0]
    return None


def configure(sock, queue, attributes):
    sock.send(message(NFQNL_MSG_CONFIG, queue, attributes, NLM_F_REQUEST | NLM_F_ACK))
    for kind, payload in messages(sock.recv(65536)):
        if kind == NLMSG_ERROR:
            code = -struct.unpack_from("=i", payload)[0]
            if code:
                raise OSError(code, f"netfilter queue {queue}: {errno.errorcode.get(code, code)}")
            return
    raise OSError(errno.EPROTO, f"netfilter queue {queue}: no answer to a configuration request")


def accept_up_to(sock, queue, last_id):
    sock.send(message(NFQNL_MSG_VERDICT_BATCH, queue, [attribute(NFQA_VERDICT_HDR, struct.pack("!II", NF_ACCEPT, last_id))]))


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit("usage: link-delay.py QUEUE_NUM DELAY_MS [LAB_DIR]")
    queue, delay = int(sys.argv[1]), int(sys.argv[2]) / 1000.0

    def stop(_signum, _frame):
        raise Stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, RCVBUF)
    sock.bind((0, 0))
    configure(sock, queue, [attribute(NFQA_CFG_CMD, struct.pack("!BxH", NFQNL_CFG_CMD_BIND, 0))])
    configure(sock, queue, [attribute(NFQA_CFG_PARAMS, struct.pack("!IB", 0, NFQNL_COPY_META))])
    configure(sock, queue, [attribute(NFQA_CFG_QUEUE_MAXLEN, struct.pack("!I", QUEUE_MAXLEN))])
    print("ready", flush=True)

    held = collections.deque()  # (due, packet id), in arrival order
    buffer = bytearray(1 << 16)

    def drain():
        while True:
            try:
                n = sock.recv_into(buffer, 0, socket.MSG_DONTWAIT)
            except BlockingIOError:
                return
            except OSError as e:
                # ENOBUFS: the kernel could not hand this process some packets; it dropped them
                # (as a full link would) and nothing of theirs is held. Go on.
                if e.errno == errno.ENOBUFS:
                    continue
                raise
            arrived = time.monotonic()
            for kind, payload in messages(bytes(buffer[:n])):
                if kind == (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET:
                    pid = packet_id(payload)
                    if pid is not None:
                        held.append((arrived + delay, pid))
                elif kind == NLMSG_ERROR:
                    code = -struct.unpack_from("=i", payload)[0]
                    if code:
                        print(f"netfilter queue {queue}: verdict refused: {errno.errorcode.get(code, code)}", file=sys.stderr, flush=True)

    poller = select.poll()
    poller.register(sock, select.POLLIN)
    try:
        while True:
            timeout = None if not held else max(0.0, held[0][0] - time.monotonic()) * 1000
            if poller.poll(timeout):
                drain()
            now = time.monotonic()
            last = None
            while held and held[0][0] <= now:
                last = held.popleft()[1]
            if last is not None:
                accept_up_to(sock, queue, last)
    except Stop:
        # The rule is gone before this process is asked to stop: release what is here now.
        drain()
        if held:
            accept_up_to(sock, queue, held[-1][1])
    sock.close()


if __name__ == "__main__":
    main()
