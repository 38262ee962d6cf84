"""
clamav_exe: the PE and ELF files clamav_gen.py plants signatures into, and
their entry point and sections as libclamav computes them (pe.c
cli_peheader and cli_rawaddr, elf.c), so that EP+n, Sx+n, SL+n and SEx
offsets and the EntryPoint/NumberOfSections fields of a logical
signature's target description block can be aimed at.

Hosts: three small PE32 files built here from the seed, clamav-testfiles'
clam.exe, two NSIS stubs, two small ELF programs from /usr/bin.  Bytes are
planted only past the headers (and before an ELF file's section header
table), so that the headers both tools read stay intact.
"""

import glob
import os
import struct

TESTFILES = "/usr/share/clamav-testfiles"
NSIS_STUBS = "/usr/share/nsis/Stubs"
ELF_CANDIDATES = ["/usr/bin/true", "/usr/bin/sleep", "/usr/bin/false", "/usr/bin/echo",
                  "/usr/bin/yes", "/usr/bin/basename"]


def rand_bytes(rng, n):
    return bytes(rng.getrandbits(8) for _ in range(n))


def pe_info(data):
    """(ep file offset, [(raw, rsz)], hdr_end) as libclamav computes them
    (cli_peheader, cli_rawaddr), or None."""
    try:
        if data[:2] != b"MZ":
            return None
        pe = struct.unpack_from("<I", data, 0x3C)[0]
        if data[pe:pe + 4] != b"PE\0\0":
            return None
        nsec, = struct.unpack_from("<H", data, pe + 6)
        optsz, = struct.unpack_from("<H", data, pe + 20)
        opt = pe + 24
        magic, = struct.unpack_from("<H", data, opt)
        vep, = struct.unpack_from("<I", data, opt + 16)
        salign, falign = struct.unpack_from("<II", data, opt + 32)
        hdr_size, = struct.unpack_from("<I", data, opt + 60)
        sec = opt + optsz
        hdrs = [struct.unpack_from("<8sIIII", data, sec + 40 * i) for i in range(nsec)]
    except struct.error:
        return None
    if magic not in (0x10B, 0x20B):
        return None

    def down(o, a):
        return (o // a) * a if a else o

    def up(o, a):
        return (o // a + (o % a != 0)) * a if a else o
    if falign != 0x200:
        for _, vsz, va, rsz, raw in hdrs:
            if falign and rsz and raw % falign and not raw % 0x200:
                falign = 0x200
    fsize = len(data)
    secs = []
    for _, vsz, va, rsz, raw in hdrs:
        r, s = down(raw, falign), up(rsz, falign)
        if s:
            if r >= fsize or raw >= fsize:
                s = 0
            elif r + s > fsize:
                s = fsize - r
        secs.append((down(va, salign), r, s))
    hdr = up(hdr_size, salign)
    if vep < hdr:
        ep = vep if vep < fsize else None
    else:
        ep = None
        for va, r, s in reversed(secs):
            if s and va <= vep and s > vep - va:
                ep = vep - va + r
                break
    if ep is None:
        return None
    return ep, [(r, s) for _, r, s in secs], sec + 40 * nsec


def elf_info(data):
    """(ep file offset, [(sh_offset, sh_size)], hdr_end) as libclamav's
    elf.c computes them (64-bit little-endian files only), or None."""
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return None
    try:
        entry, phoff, shoff = struct.unpack_from("<QQQ", data, 24)
        phentsize, phnum, shentsize, shnum = struct.unpack_from("<HHHH", data, 54)
        phs = [struct.unpack_from("<IIQQQQQQ", data, phoff + 56 * i) for i in range(phnum)]
        shs = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + 64 * i) for i in range(shnum)]
    except struct.error:
        return None
    ep = None
    for p in phs:
        vaddr, memsz, off = p[4], p[6], p[3]
        if vaddr <= entry < vaddr + memsz:
            ep = entry - vaddr + off
            break
    if ep is None or shnum > 256:
        return None
    secs = [(s[4], s[5]) for s in shs]
    return ep, secs, phoff + phnum * phentsize, (shoff, shoff + shnum * shentsize)


def build_pe(rng, ep_in_headers=False):
    """A small, valid PE32 file: 2-4 sections of random bytes, the entry
    point in one of them (or, ep_in_headers, in the zeros after the section
    table: an RVA below SizeOfHeaders is its own file offset), FileAlignment
    0x200."""
    nsec = rng.randint(2, 4)
    falign, salign = 0x200, 0x1000
    hdr = bytearray(0x400)
    hdr[0:2] = b"MZ"
    struct.pack_into("<I", hdr, 0x3C, 0x80)
    pe = 0x80
    hdr[pe:pe + 4] = b"PE\0\0"
    struct.pack_into("<HHIIIHH", hdr, pe + 4, 0x14C, nsec, 0x5F000000, 0, 0, 0xE0, 0x0102)
    opt = pe + 24
    sizes = [falign * rng.randint(1, 3) for _ in range(nsec)]
    epsec = rng.randrange(nsec)
    vep = salign * (epsec + 1) + rng.randrange(0, sizes[epsec] - 64)
    if ep_in_headers:
        vep = rng.randrange(0x280, 0x380)
    image = salign * (nsec + 1)
    struct.pack_into("<HBBIIIIII", hdr, opt, 0x10B, 14, 0, sum(sizes), 0, 0, vep, salign, 0)
    struct.pack_into("<IIIHHHHHHIIIIHHIIIIII", hdr, opt + 28, 0x400000, salign, falign,
                     4, 0, 0, 0, 4, 0, 0, image, 0x400, 0, 2, 0, 0x100000, 0x1000,
                     0x100000, 0x1000, 0, 16)
    sec = opt + 0xE0
    raw = 0x400
    body = bytearray()
    for i in range(nsec):
        name = (b".s%d" % i).ljust(8, b"\0")
        struct.pack_into("<8sIIIIIIHHI", hdr, sec + 40 * i, name, sizes[i], salign * (i + 1),
                         sizes[i], raw, 0, 0, 0, 0, 0x60000020)
        raw += sizes[i]
        body += rand_bytes(rng, sizes[i])
    return bytes(hdr + body)


def load_hosts(rng):
    """[(name, bytes, kind, info)]: built PE files, a few real PE files and
    small ELF files from the system."""
    hosts = []
    for i in range(3):
        data = build_pe(rng, ep_in_headers=(i == 2))
        hosts.append(("pe_built%d" % i, data, "pe", pe_info(data)))
    real = [os.path.join(TESTFILES, "clam.exe")]
    real += sorted(glob.glob(os.path.join(NSIS_STUBS, "*")))[:2]
    for p in real:
        if os.path.isfile(p):
            with open(p, "rb") as f:
                data = f.read()
            info = pe_info(data)
            if info:
                hosts.append(("pe_" + os.path.basename(p), data, "pe", info))
    for p in ELF_CANDIDATES:
        if os.path.isfile(p) and os.path.getsize(p) < 200000:
            with open(p, "rb") as f:
                data = f.read()
            info = elf_info(data)
            if info:
                hosts.append(("elf_" + os.path.basename(p), data, "elf", info))
        if sum(1 for h in hosts if h[2] == "elf") >= 2:
            break
    return [h for h in hosts if h[3]]
