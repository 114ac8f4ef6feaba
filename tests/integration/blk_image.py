#!/usr/bin/env python3
"""Disk images for the blk_* test guests, in the sector pattern of tests/guests/lib/pattern.h.

  blk_image.py fill IMG SEED START COUNT   write the pattern into sectors START..START+COUNT-1
  blk_image.py expect IMG SEED START COUNT those sectors must hold it
  blk_image.py check IMG < CONSOLE         the guest's "IMAGE sector count seed" lines, applied
                                           in order, must describe the image; all else zero
Exits 1 naming the first bad sector."""
import struct
import sys

SECTOR = 512
M64 = (1 << 64) - 1


def sector(s, seed):
    v = ((s + 1) * 0x9E3779B97F4A7C15 ^ seed * 0xBF58476D1CE4E5B9) & M64
    return struct.pack("<Q", (s ^ (seed << 40)) & M64) + struct.pack("<Q", v) * 62 + \
        struct.pack("<Q", ~v & M64)


def bad(img, s, what):
    print(f"blk_image: {img}: sector {s}: {what}")
    sys.exit(1)


def main():
    cmd, img = sys.argv[1], sys.argv[2]
    if cmd == "fill":
        seed, start, count = map(int, sys.argv[3:6])
        with open(img, "r+b") as f:
            f.seek(start * SECTOR)
            f.write(b"".join(sector(start + i, seed) for i in range(count)))
        return
    data = open(img, "rb").read()
    if cmd == "expect":
        seed, start, count = map(int, sys.argv[3:6])
        for s in range(start, start + count):
            if data[s * SECTOR:(s + 1) * SECTOR] != sector(s, seed):
                bad(img, s, f"not pattern seed {seed}")
        print(f"blk_image: {img}: sectors {start}-{start + count - 1} hold seed {seed}")
        return
    if cmd == "check":
        seeds = {}
        for line in sys.stdin:
            f = line.split()
            if len(f) == 4 and f[0] == "IMAGE":
                start, count, seed = map(int, f[1:])
                for s in range(start, start + count):
                    seeds[s] = seed
        if not seeds:
            print("blk_image: no IMAGE lines in the guest's output")
            sys.exit(1)
        zero = bytes(SECTOR)
        for s in range(len(data) // SECTOR):
            want = sector(s, seeds[s]) if s in seeds else zero
            if data[s * SECTOR:(s + 1) * SECTOR] != want:
                bad(img, s, f"expected seed {seeds[s]}" if s in seeds else "expected zeros")
        print(f"blk_image: {img}: {len(seeds)} sectors as the guest wrote them, the rest zeros")
        return
    print(__doc__)
    sys.exit(2)


if __name__ == "__main__":
    main()
