#!/usr/bin/env python3
"""Random TCP traffic over a few hundred tuples, to diff the C and JS trackers on
state-machine corners the bench file never reaches: random flag mixes (SYN+FIN,
FIN+RST, none), retransmissions, sequence jumps and wraparound, zero windows, long
histories (spilled past the 24 inline letters), self-connections, likely-server ports,
timestamps going backwards, idle gaps past every timer, and encapsulations (VLAN,
QinQ, MPLS, PPPoE, VXLAN, IPv6 hop-by-hop and fragment headers), IPv4 fragments,
truncated and invalid TCP headers, ICMP errors quoting TCP.

    python3 fuzz-pcap.py SEED PACKETS out.pcap [--nano] [--big-endian] [--long]
"""
import random
import struct
import sys

seed, count, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
nano = '--nano' in sys.argv
big = '--big-endian' in sys.argv
long_flows = '--long' in sys.argv  # few tuples, rare SYN/RST: long histories, scaled t/w letters
rnd = random.Random(seed)
E = '>' if big else '<'

LIKELY = [22, 80, 443, 8080, 53, 3306]


def ip4(a):
    return struct.pack('>I', a)


tuples = []
for i in range(rnd.randint(5, 20) if long_flows else rnd.randint(50, 400)):
    v6 = rnd.random() < 0.25
    if v6:
        a = bytes([0x20, 0x01, 0x0d, 0xb8] + [rnd.randrange(256) for _ in range(12)])
        b = bytes([0x20, 0x01, 0x0d, 0xb8] + [0] * 11 + [rnd.randrange(1, 8)])
    else:
        a = ip4(0x0a000000 | rnd.randrange(1 << 16))
        b = ip4(0x0a630000 | rnd.randrange(1, 8))
    r = rnd.random()
    if r < 0.4:
        sp, dp = rnd.randrange(1024, 65536), rnd.choice(LIKELY)
    elif r < 0.5:
        sp, dp = rnd.choice(LIKELY), rnd.choice(LIKELY)
    elif r < 0.55:
        b, sp = a, rnd.randrange(1024, 65536)
        dp = sp if rnd.random() < 0.5 else rnd.randrange(1, 65536)  # self-connection
    else:
        sp, dp = rnd.randrange(1, 65536), rnd.randrange(1, 65536)
    base = rnd.choice([rnd.randrange(1 << 32), 0xffffffff - rnd.randrange(5000), rnd.randrange(5000)])
    tuples.append({'v6': v6, 'ep': [(a, sp), (b, dp)], 'seq': [base, rnd.randrange(1 << 32)]})

FLAGS = [0x02, 0x12, 0x10, 0x18, 0x11, 0x04, 0x14, 0x03, 0x05, 0x00, 0x01, 0x06, 0x13, 0x15]
WEIGHTS = [10, 8, 25, 25, 8, 4, 4, 1, 1, 1, 2, 1, 1, 1]
if long_flows:
    WEIGHTS = [0.02, 0.02, 30, 30, 3, 0.01, 0.01, 0.01, 0.01, 0.5, 0.5, 0.01, 0.01, 0.01]

out = open(path, 'wb')
out.write(struct.pack(E + 'IHHiIII', 0xa1b23c4d if nano else 0xa1b2c3d4, 2, 4, 0, 0, 262144, 1))
t = 1_700_000_000.0


def csum_free_ipv4(payload_len, proto, src, dst, ident, frag=0):
    total = 20 + payload_len
    return struct.pack('>BBHHHBBH', 0x45, 0, total & 0xffff, ident, frag, 64, proto, 0) + src + dst


def ipv6(payload_len, nxt, src, dst):
    return struct.pack('>IHBB', 0x60000000, payload_len & 0xffff, nxt, 64) + src + dst


def syn_options():
    o = b''
    if rnd.random() < 0.9:
        o += struct.pack('>BBH', 2, 4, rnd.choice([1460, 1440, 536]))
    if rnd.random() < 0.7:
        o += bytes([1, 3, 3, rnd.randrange(15)])
    if rnd.random() < 0.7:
        o += bytes([4, 2])
    if rnd.random() < 0.6:
        o += struct.pack('>BBII', 8, 10, rnd.randrange(1 << 32), 0)
    if rnd.random() < 0.05:
        o += bytes([2, 7])  # malformed
    while len(o) % 4:
        o += b'\x01'
    return o


def frame(l3, ethertype):
    eth = b'\x02' * 6 + b'\x04' * 6
    r = rnd.random()
    if r < 0.05:
        return eth + struct.pack('>HHH', 0x8100, rnd.randrange(4096), ethertype) + l3
    if r < 0.07:
        return eth + struct.pack('>HHHHH', 0x88a8, 5, 0x8100, 7, ethertype) + l3
    if r < 0.09 and ethertype in (0x0800, 0x86dd):
        return eth + struct.pack('>H', 0x8847) + bytes([0, 1, 0x01, 64]) + l3
    if r < 0.11 and ethertype in (0x0800, 0x86dd):
        ppp = 0x0021 if ethertype == 0x0800 else 0x0057
        return eth + struct.pack('>HBBHHH', 0x8864, 0x11, 0, 1, len(l3) + 2, ppp) + l3
    if r < 0.13:
        inner = eth + struct.pack('>H', ethertype) + l3
        vx = struct.pack('>BBHI', 0x08, 0, 0, 42 << 8) + inner
        udp = struct.pack('>HHHH', 40000, 4789, 8 + len(vx), 0) + vx
        return eth + struct.pack('>H', 0x0800) + csum_free_ipv4(len(udp), 17, ip4(0xc0a80001), ip4(0xc0a80002), 1) + udp
    return eth + struct.pack('>H', ethertype) + l3


for n in range(count):
    r = rnd.random()
    if r < 0.002:
        t += rnd.choice([151.0, 301.0, 6.0, 1000.0])
    elif r < 0.01:
        t -= rnd.random()  # out of order
    elif r < 0.03:
        pass  # same timestamp
    else:
        t += rnd.random() * 0.01
    tu = rnd.choice(tuples[: max(3, len(tuples) * (n + 1) // count)])
    side = rnd.randrange(2)
    (src, sp), (dst, dp) = tu['ep'][side], tu['ep'][1 - side]
    flags = rnd.choices(FLAGS, WEIGHTS)[0] if rnd.random() < (0.9999 if long_flows else 0.97) else rnd.randrange(256)
    plen = 0 if (flags & 0x02) or rnd.random() < 0.5 else rnd.choice([1, 100, 1448, 1460, 65000])
    s = tu['seq'][side]
    k = rnd.random()
    if k < 0.15:
        seq = s  # retransmission
    elif k < 0.2:
        seq = rnd.randrange(1 << 32)
    elif k < 0.25:
        seq = (s - rnd.randrange(1, 3000)) & 0xffffffff
    elif k < 0.27:
        seq = (s + (1 << 21)) & 0xffffffff
    else:
        seq = s
        tu['seq'][side] = (s + plen + (1 if flags & 0x03 else 0)) & 0xffffffff
    if rnd.random() < (0.0001 if long_flows else 0.02):
        tu['seq'][side] = rnd.randrange(1 << 32)  # a new connection on the same tuple
    peer = tu['seq'][1 - side]
    ack = rnd.choice([peer, peer, (peer + 1) & 0xffffffff, (peer - 5) & 0xffffffff, rnd.randrange(1 << 32), 0])
    win = 0 if rnd.random() < 0.05 else rnd.randrange(1, 65536)
    opts = syn_options() if flags & 0x02 and rnd.random() < 0.9 else b''
    doff = (20 + len(opts)) // 4
    if rnd.random() < 0.005:
        doff = rnd.randrange(5)  # invalid data offset
    tcp = struct.pack('>HHIIBBHHH', sp, dp, seq, ack, doff << 4, flags, win, 0, 0) + opts
    cut = None
    if rnd.random() < 0.01:
        cut = rnd.randrange(10, 20)  # capture cut inside the TCP header
    wire_len = len(tcp) + plen
    if tu['v6']:
        if rnd.random() < 0.05:
            ext = bytes([6, 0, 0, 0, 0, 0, 0, 0])  # hop-by-hop, then TCP
            l3 = ipv6(wire_len + 8, 0, src, dst) + ext + tcp
        elif rnd.random() < 0.05:
            off = 0 if rnd.random() < 0.5 else 8
            ext = struct.pack('>BBHI', 6, 0, off << 3, rnd.randrange(1 << 32))
            l3 = ipv6(wire_len + 8, 44, src, dst) + ext + tcp
        else:
            l3 = ipv6(wire_len, 6, src, dst) + tcp
        et = 0x86dd
    else:
        frag = 0x2000 if rnd.random() < 0.02 else 0
        if rnd.random() < 0.01:
            frag = 100  # a non-first fragment
        l3 = csum_free_ipv4(wire_len, 6, src, dst, rnd.randrange(65536), frag) + tcp
        et = 0x0800
    if rnd.random() < 0.01:
        # ICMP error quoting this segment (as if sent back toward its source)
        quote = l3[: (40 if tu['v6'] else 20) + 8]
        if tu['v6']:
            icmp = bytes([1, 4, 0, 0, 0, 0, 0, 0]) + quote
            l3 = ipv6(len(icmp), 58, dst, src) + icmp
        else:
            icmp = bytes([3, 3, 0, 0, 0, 0, 0, 0]) + quote
            l3 = csum_free_ipv4(len(icmp), 1, dst, src, 7) + icmp
        cut = None
    data = frame(l3, et)
    if cut is not None:
        data = data[: len(data) - len(tcp) + cut]
    sec = int(t)
    frac = int(round((t - sec) * (1e9 if nano else 1e6)))
    frac = min(frac, 999_999_999 if nano else 999_999)
    out.write(struct.pack(E + 'IIII', sec, frac, len(data), len(data) + plen) + data)
out.close()
