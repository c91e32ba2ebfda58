"""Marks one version that an ELF shared library needs (e.g. GLIBCXX_3.4.32) as weak, so the
loader accepts a libstdc++ without it. Used by run.sh; see there for why."""
import struct
import sys

path, target = sys.argv[1], sys.argv[2].encode()
data = bytearray(open(path, "rb").read())
shoff, = struct.unpack_from("<Q", data, 0x28)
shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
SHT_GNU_VERNEED, VER_FLG_WEAK = 0x6FFFFFFE, 2
found = False
for s in sections:
    if s[1] != SHT_GNU_VERNEED:
        continue
    strings = sections[s[6]][4]
    pos = s[4]
    while True:
        _, count, _, aux, following = struct.unpack_from("<HHIII", data, pos)
        apos = pos + aux
        for _ in range(count):
            _, flags, _, name, nxt = struct.unpack_from("<IHHII", data, apos)
            if data[strings + name:data.index(b"\0", strings + name)] == target:
                struct.pack_into("<H", data, apos + 4, flags | VER_FLG_WEAK)
                found = True
            apos += nxt
        if following == 0:
            break
        pos += following
if not found:
    sys.exit(f"{target.decode()} is not needed by {path}")
open(path, "wb").write(data)
