#!/usr/bin/env python3
"""The peer of the net_echo test guest, run inside the test's network namespace (net.sh).

  net_peer.py udp IP PORT COUNT   COUNT datagrams of growing size, each echoed back intact
  net_peer.py tcp IP PORT COUNT   one connection, COUNT request/response rounds
  net_peer.py quit IP PORT        the datagram that ends the guest
Exits 1 with the reason when an echo is missing or wrong."""
import socket
import sys


def udp(ip, port, count):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    for i in range(count):
        msg = (f"pvhv udp {i} ".encode() + bytes(range(256)) * 6)[:20 + i * 70]
        for attempt in range(3):
            s.sendto(msg, (ip, port))
            try:
                data, peer = s.recvfrom(4096)
            except socket.timeout:
                continue
            if data != msg or peer != (ip, port):
                sys.exit(f"udp {i}: got {len(data)} bytes from {peer}, sent {len(msg)}")
            break
        else:
            sys.exit(f"udp {i}: no echo after 3 tries")
    print(f"net_peer: {count} UDP datagrams echoed")


def tcp(ip, port, count):
    s = socket.create_connection((ip, port), timeout=10)
    for i in range(count):
        msg = f"pvhv tcp round {i} ".encode() * (i + 1)
        s.sendall(msg)
        got = b""
        while len(got) < len(msg):
            chunk = s.recv(4096)
            if not chunk:
                sys.exit(f"tcp {i}: connection closed after {len(got)} bytes")
            got += chunk
        if got != msg:
            sys.exit(f"tcp {i}: got {got!r}, sent {msg!r}")
    s.close()
    print(f"net_peer: {count} TCP rounds echoed")


def quit_(ip, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(b"quit", (ip, port))


def main():
    cmd, ip, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if cmd == "udp":
        udp(ip, port, int(sys.argv[4]))
    elif cmd == "tcp":
        tcp(ip, port, int(sys.argv[4]))
    elif cmd == "quit":
        quit_(ip, port)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
