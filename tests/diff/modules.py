#!/usr/bin/env python3
"""
Differential test of ward's rule modules against the installed yara: rules
of generated `math`, `hash`, `time`, `elf` and `pe` conditions — ranges inside, across
and outside the files, thresholds around the values, the string forms,
undefined values, `for ... in` loops over the modules' arrays and
dictionaries — over generated and real files, scanned by both tools;
every (file, rule) answer must agree.

    tests/diff/modules.py [--ward PATH] [--seed N] [--rules N] [--pe-only | --loops-only]
                          [--keep]

Prints "N cases compared" and, for each disagreement, the rule and file.
Exit status 0 when all agree, 1 when not, 2 when the run could not be made.
"""

import argparse
import glob
import hashlib
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import default_ward, run_ward, run_yara  # noqa: E402

REAL = ["/bin/true", "/bin/ls", "/usr/bin/yara", "/etc/passwd",
        "/usr/lib/x86_64-linux-gnu/libc.so.6"]

LAUNCHER_DIRS = [os.path.join(os.path.dirname(os.__file__), "site-packages"),
                 os.path.expanduser("~/.pyenv/versions/3.11*/lib/python3*/site-packages"),
                 "/usr/lib/google-cloud-sdk/platform/bundledpythonunix/lib/python3*/site-packages"]
# Windows PE files installed with nsis and clamav's test files.
PE_REAL = (sorted(glob.glob("/usr/share/nsis/Stubs/*"))[:4]
           + sorted(glob.glob("/usr/share/nsis/Plugins/amd64-unicode/*.dll"))[:4]
           + sorted(glob.glob("/usr/share/nsis/Plugins/x86-ansi/*.dll"))[:2]
           + ["/usr/share/clamav-testfiles/clam.exe", "/usr/share/clamav-testfiles/clam-upx.exe",
              "/usr/share/clamav-testfiles/clam-aspack.exe",
              "/usr/share/clamav-testfiles/clam-pespin.exe"]
           # pip's launchers: version info, resources, a rich signature, ARM64
           # (Debian's pip has them stripped: another Python's, if there is one)
           + [sorted(glob.glob(os.path.join(g, "pip/_vendor/distlib/%s.exe" % n)))[-1]
              for n in ("t32", "w64", "t64-arm")
              for g in [next((g for g in LAUNCHER_DIRS
                              if glob.glob(os.path.join(g, "pip/_vendor/distlib/%s.exe" % n))),
                             None)] if g])

SECTIONS = ['".text"', '".data"', '".bss"', '".dynsym"', '".interp"', '".rodata"', '""',
            '".shstrtab"', '".symtab"']
SYMBOLS = ['"malloc"', '"free"', '"printf"', '"main"', '""', '"__libc_start_main"',
           '"_init"']


def make_inputs(d, rnd):
    """Files of the sizes where ranges end: empty, one byte, around the
    module reader's 64 KiB window, text, zeros, random, real."""
    files = {}

    def add(name, data):
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
        files[name] = data

    add("empty", b"")
    add("one", b"\x7f")
    add("ff", b"\xff" * 333)
    add("zeros", b"\0" * 5000)
    add("text", b"The quick brown fox jumps over the lazy dog.\n" * 40)
    for i, n in enumerate((100, 4096, 65535, 65536, 65537, 140000)):
        add("rand%d" % i, bytes(rnd.getrandbits(8) for _ in range(n)))
    add("skew", bytes(rnd.choice(b"aaaabbc\0\xff") for _ in range(9000)))
    for p in REAL:
        if os.path.exists(p):
            with open(p, "rb") as f:
                add("real_" + os.path.basename(p), f.read(300000))
    # ELF files cut at the header's and tables' edges, and with bytes
    # changed: the module must give yara's answers on what it can parse
    # and undefined values on what it cannot.
    with open("/bin/true", "rb") as f:
        elf = f.read()
    for n in (16, 52, 64, 100, 1000, 5000, len(elf) - 100):
        add("cut%d" % n, elf[:n])
    for k in range(3):
        b = bytearray(elf)
        for _ in range(12):
            i = rnd.randrange(0, 0x400)
            b[i] = rnd.getrandbits(8)
        add("flip%d" % k, bytes(b))
    # PE files, whole, cut, and with bytes of their headers changed.
    pes = [p for p in PE_REAL if os.path.exists(p)]
    pes += built_pes(os.path.join(os.path.dirname(d), "built"))
    for p in pes:
        with open(p, "rb") as f:
            add("pe_" + os.path.basename(p), f.read(300000))
    if pes:
        with open(pes[-1 if len(pes) < 5 else 4], "rb") as f:
            pe = f.read()
        for n in (64, 0x100, 0x200, 0x400, 3000, len(pe) // 2):
            add("pecut%d" % n, pe[:n])
        for k in range(4):
            b = bytearray(pe)
            for _ in range(8):
                i = rnd.randrange(0x3c, min(len(b), 0x400))
                b[i] = rnd.getrandbits(8)
            add("peflip%d" % k, bytes(b))
    return files


SAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "unit",
                       "modules", "pe_samples")
MINGW = "x86_64-w64-mingw32-"


def built_pes(d):
    """The PE samples of tests/e2e/test_pe_oracle.py, built here when
    mingw-w64, osslsigncode and openssl are installed (else none): exports
    by name, ordinal and forwarder, version info, imports by ordinal, a pdb
    path, and Authenticode signatures, one of them nested."""
    tools = [MINGW + t for t in ("gcc", "windres", "dlltool")] + ["osslsigncode", "openssl"]
    if not os.path.isdir(SAMPLES) or any(shutil.which(t) is None for t in tools):
        return []
    shutil.copytree(SAMPLES, d)

    def run(*cmd):
        subprocess.run(cmd, cwd=d, check=True, capture_output=True)
    try:
        run(MINGW + "windres", "res.rc", "-O", "coff", "-o", "res.o")
        run(MINGW + "gcc", "-shared", "-O1", "-s", "-o", "sample.dll", "lib.c", "lib.def", "res.o")
        run(MINGW + "dlltool", "-d", "ws.def", "-l", "libwsord.a")
        run(MINGW + "dlltool", "-d", "oa.def", "-l", "liboaord.a")
        run(MINGW + "gcc", "-O1", "-o", "app_pdb.exe", "app.c", "res.o", "libwsord.a",
            "liboaord.a", "-Wl,--pdb=app")
        run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem",
            "-out", "cert.pem", "-days", "3650", "-subj", "/C=DE/O=ward test/CN=ward signer")
        run("osslsigncode", "sign", "-certs", "cert.pem", "-key", "key.pem", "-n", "ward",
            "-in", "sample.dll", "-out", "signed.dll")
        run("osslsigncode", "sign", "-certs", "cert.pem", "-key", "key.pem", "-nest",
            "-in", "signed.dll", "-out", "signed2.dll")
    except subprocess.CalledProcessError:
        return []
    return [os.path.join(d, f) for f in ("sample.dll", "app_pdb.exe", "signed2.dll")]


def plain(s):
    return s and all(32 <= ord(c) < 127 and c not in '"\\' for c in s)


def pe_facts(yara, ind, files, pe_dump):
    """Names found in the PE inputs (by yara -D), so that conditions ask
    for ones that exist: DLLs, functions, exports, sections, version-info
    keys and values, and imphash() values (from ward's pe_dump)."""
    facts = {"library_name": set(), "name": set(), "key": set(), "value": set(),
             "imphash": set(), "ordinal": set(), "thumbprint": set(), "issuer": set(),
             "subject": set(), "serial": set(), "algorithm": set(), "algorithm_oid": set(),
             "not_before": set(), "not_after": set(), "forward_name": set(),
             "pdb_path": set(), "dll_name": set()}
    rule = os.path.join(ind, "..", "dump.yar")
    with open(rule, "w") as f:
        f.write('import "pe"\nrule dump { condition: false }\n')
    for name in sorted(files):
        if not name.startswith("pe"):
            continue
        path = os.path.join(ind, name)
        out = subprocess.run([yara, "-D", rule, path], capture_output=True, text=True,
                             errors="replace").stdout
        for m in re.finditer(r'^\s*(library_name|name|key|value|thumbprint|issuer|subject|'
                             r'serial|algorithm|algorithm_oid|forward_name|pdb_path|dll_name)'
                             r' = "(.*)"$', out, re.M):
            if plain(m.group(2)):
                facts[m.group(1)].add(m.group(2))
        for m in re.finditer(r"^\s*(ordinal|not_before|not_after) = (\d+)$", out, re.M):
            facts[m.group(1)].add(int(m.group(2)))
        if pe_dump and os.path.exists(pe_dump):
            out = subprocess.run([pe_dump, path], capture_output=True, text=True,
                                 errors="replace").stdout
            facts["imphash"].update(re.findall(r'^#pe\.imphash\(\) == "([0-9a-f]{32})"', out,
                                               re.M))
    return {k: sorted(v) for k, v in facts.items()}


def rng_range(rnd, size):
    """An (offset, length) pair: inside, crossing the end, empty, outside."""
    k = rnd.randrange(8)
    if k == 0:
        return 0, "filesize"
    if k == 1:
        return rnd.randrange(-5, 3), rnd.randrange(0, 300)
    if k == 2:
        return max(size - rnd.randrange(1, 50), 0), rnd.randrange(1, 200)
    if k == 3:
        return size + rnd.randrange(0, 3), rnd.randrange(0, 10)
    if k == 4:
        return rnd.randrange(0, 70000), rnd.randrange(0, 70000)
    if k == 5:
        return 65530, rnd.randrange(1, 20)
    if k == 6:
        return rnd.randrange(0, 200), 0
    return rnd.randrange(0, max(size, 1)), -rnd.randrange(1, 3)


def lit(x):
    return str(x) if not isinstance(x, str) else x


def text_arg(rnd):
    """A string literal of escapes and characters."""
    out = [rnd.choice(["a", "b", "c", "X", "0", " ", "\\x00", "\\xff", "\\x80", "\\n", "\\\"",
                       "\\\\"]) for _ in range(rnd.randrange(0, 12))]
    return '"' + "".join(out) + '"'


def py_range(data, off, ln):
    """The bytes YARA's range functions cover, or None if undefined."""
    size = len(data)
    if ln == "filesize":
        ln = size
    if off < 0 or ln < 0 or off >= size:
        return None
    return data[off:off + ln]


def conditions(rnd, files, facts):
    """Yields condition texts."""
    sizes = [len(d) for d in files.values()]
    while True:
        size = rnd.choice(sizes)
        off, ln = rng_range(rnd, size)
        k = rnd.randrange(40)
        o, l = lit(off), lit(ln)
        if k >= 34:
            yield loop_cond(rnd, facts)
            continue
        if k >= 24:
            yield pe_cond(rnd, facts)
            continue
        if k == 0:
            yield "math.entropy(%s, %s) >= %.3f" % (o, l, rnd.uniform(0, 8))
        elif k == 1:
            yield "math.mean(%s, %s) < %.3f" % (o, l, rnd.uniform(0, 255))
        elif k == 2:
            yield "math.deviation(%s, %s, math.MEAN_BYTES) > %.3f" % (o, l, rnd.uniform(0, 128))
        elif k == 3:
            yield "math.serial_correlation(%s, %s) > %.3f" % (o, l, rnd.uniform(-1, 1))
        elif k == 4:
            yield "math.monte_carlo_pi(%s, %s) < %.4f" % (o, l, rnd.uniform(0, 4))
        elif k == 5:
            yield "math.count(%d, %s, %s) >= %d" % (rnd.choice([0, 97, 255, 256 + 97, -1]), o, l,
                                                    rnd.randrange(0, 100))
        elif k == 6:
            yield "math.percentage(%d) > %.4f" % (rnd.choice([0, 97, 255, 10]),
                                                  rnd.uniform(0, 0.5))
        elif k == 7:
            yield "math.mode() == %d" % rnd.choice([0, 97, 255, 10])
        elif k == 8:
            yield "math.mode(%s, %s) == %d" % (o, l, rnd.choice([0, 97, 255, 10]))
        elif k == 9:
            yield "math.in_range(math.entropy(%s, %s), %.2f, %.2f)" % (
                o, l, rnd.uniform(0, 4), rnd.uniform(4, 8))
        elif k == 10:
            a, b = rnd.randrange(-3, 3), rnd.randrange(-3, 3)
            yield "math.min(%d, %d) == %d and math.max(%d, %d) == %d" % (
                a, b, rnd.choice([a, b]), a, b, rnd.choice([a, b]))
        elif k == 11:
            yield "math.abs(%d) == %d and math.to_number(filesize > %d) == 1" % (
                rnd.randrange(-9, 9), rnd.randrange(0, 9), rnd.randrange(0, 70000))
        elif k == 12:
            f = rnd.choice(["entropy", "mean", "serial_correlation", "monte_carlo_pi"])
            yield "math.%s(%s) > %.3f" % (f, text_arg(rnd), rnd.uniform(-1, 4))
        elif k == 13:
            yield "math.deviation(%s, %.2f) < %.2f" % (text_arg(rnd), rnd.uniform(0, 128),
                                                       rnd.uniform(0, 100))
        elif k == 14:
            yield "defined math.entropy(%s, %s)" % (o, l)
        elif k == 15:
            yield "math.count(%d) > %d" % (rnd.choice([0, 97, 255]), rnd.randrange(0, 2000))
        elif k == 16:
            yield "math.percentage(%d, %s, %s) >= %.3f" % (rnd.choice([0, 97, 255]), o, l,
                                                           rnd.uniform(0, 1))
        elif k < 20:
            yield "HASH"
        else:
            yield elf_cond(rnd)


def elf_cond(rnd):
    """An elf condition: header fields, items of every array, loops over
    them, constants, undefined indexes."""
    i = rnd.choice([0, 1, 2, 3, 5, 8, 13, 27, 40, -1, 100000])
    k = rnd.randrange(14)
    if k == 0:
        return "elf.type == %s" % rnd.choice(["elf.ET_EXEC", "elf.ET_DYN", "elf.ET_REL", "2"])
    if k == 1:
        return "elf.machine == %s" % rnd.choice(["elf.EM_X86_64", "elf.EM_386", "62", "0"])
    if k == 2:
        return "elf.entry_point %s %d" % (rnd.choice([">", "<", "=="]), rnd.randrange(0, 40000))
    if k == 3:
        return "elf.number_of_sections %s %d and elf.number_of_segments > %d" % (
            rnd.choice([">", "=="]), rnd.randrange(0, 35), rnd.randrange(0, 14))
    if k == 4:
        return "elf.sections[%d].name == %s" % (i, rnd.choice(SECTIONS))
    if k == 5:
        f = rnd.choice(["type", "flags", "address", "size", "offset"])
        return "elf.sections[%d].%s %s %d" % (i, f, rnd.choice([">", "<"]),
                                              rnd.randrange(0, 5000))
    if k == 6:
        f = rnd.choice(["type", "flags", "offset", "virtual_address", "physical_address",
                        "file_size", "memory_size", "alignment"])
        return "elf.segments[%d].%s %s %d" % (i, f, rnd.choice([">", "<"]),
                                              rnd.randrange(0, 70000))
    if k == 7:
        return "elf.dynamic[%d].type == %s or elf.dynamic[%d].val > %d" % (
            i, rnd.choice(["elf.DT_NEEDED", "elf.DT_NULL", "1", "5"]), i,
            rnd.randrange(0, 9000))
    if k == 8:
        t = rnd.choice(["dynsym", "symtab"])
        return "elf.%s[%d].name == %s" % (t, i, rnd.choice(SYMBOLS))
    if k == 9:
        t = rnd.choice(["dynsym", "symtab"])
        f = rnd.choice(["value", "size", "type", "bind", "shndx"])
        return "elf.%s[%d].%s %s %d" % (t, i, f, rnd.choice([">", "=="]), rnd.randrange(0, 20))
    if k == 10:
        return ("for any j in (0..elf.number_of_sections - 1) : "
                "(elf.sections[j].name == %s)" % rnd.choice(SECTIONS))
    if k == 11:
        return ("for any j in (0..elf.dynsym_entries - 1) : (elf.dynsym[j].name == %s)"
                % rnd.choice(SYMBOLS))
    if k == 12:
        return "defined elf.%s" % rnd.choice(
            ["sections[%d].name" % i, "segments[%d].type" % i, "entry_point",
             "dynamic_section_entries", "symtab_entries", "dynsym[%d].value" % i])
    return "elf.segments[%d].flags & elf.PF_X != 0 and elf.sections[%d].flags & " \
           "elf.SHF_ALLOC != 0" % (i, i)


PE_INTS = ["machine", "number_of_sections", "timestamp", "pointer_to_symbol_table",
           "number_of_symbols", "size_of_optional_header", "characteristics", "entry_point",
           "entry_point_raw", "image_base", "number_of_rva_and_sizes", "opthdr_magic",
           "size_of_code", "size_of_initialized_data", "size_of_uninitialized_data",
           "base_of_code", "base_of_data", "section_alignment", "file_alignment",
           "linker_version.major", "linker_version.minor", "os_version.major",
           "os_version.minor", "image_version.major", "image_version.minor",
           "subsystem_version.major", "subsystem_version.minor", "win32_version_value",
           "size_of_image", "size_of_headers", "checksum", "subsystem", "dll_characteristics",
           "size_of_stack_reserve", "size_of_stack_commit", "size_of_heap_reserve",
           "size_of_heap_commit", "loader_flags", "overlay.offset", "overlay.size",
           "number_of_imports", "number_of_imported_functions", "number_of_delayed_imports",
           "number_of_delayed_imported_functions", "number_of_exports", "export_timestamp",
           "number_of_resources", "resource_timestamp", "resource_version.major",
           "resource_version.minor", "number_of_version_infos", "number_of_signatures",
           "rich_signature.offset", "rich_signature.length", "rich_signature.key", "is_pe"]
PE_CONSTS = ["MACHINE_I386", "MACHINE_AMD64", "MACHINE_ARM64", "SUBSYSTEM_WINDOWS_GUI",
             "SUBSYSTEM_WINDOWS_CUI", "DLL", "EXECUTABLE_IMAGE", "DYNAMIC_BASE", "NX_COMPAT",
             "HIGH_ENTROPY_VA", "SECTION_CNT_CODE", "SECTION_MEM_EXECUTE", "SECTION_MEM_WRITE",
             "IMAGE_DIRECTORY_ENTRY_IMPORT", "IMAGE_DIRECTORY_ENTRY_RESOURCE",
             "IMAGE_DIRECTORY_ENTRY_SECURITY", "RESOURCE_TYPE_ICON", "RESOURCE_TYPE_VERSION",
             "IMPORT_STANDARD", "IMPORT_DELAYED", "IMPORT_ANY", "IMAGE_NT_OPTIONAL_HDR64_MAGIC",
             "LARGE_ADDRESS_AWARE", "RELOCS_STRIPPED", "IMAGE_DEBUG_TYPE_CODEVIEW",
             "SECTION_ALIGN_MASK", "MACHINE_UNKNOWN", "GUARD_CF", "TERMINAL_SERVER_AWARE"]
PE_SEC = ["characteristics", "virtual_address", "virtual_size", "raw_data_offset",
          "raw_data_size", "pointer_to_relocations", "pointer_to_line_numbers",
          "number_of_relocations", "number_of_line_numbers"]
PE_RES = ["rva", "offset", "length", "type", "id", "language"]


def pe_cond(rnd, facts):
    """A pe condition: header fields, items of every array at indexes in and
    out of range, constants, and the functions with names that exist in the
    inputs, names that do not, ordinals and regular expressions."""
    i = rnd.choice([0, 1, 2, 3, 4, 7, 15, 16, 40, -1, 100000])
    j = rnd.choice([0, 1, 3, 12, 20, 50, -1])

    def pick(kind, extra=()):
        xs = list(facts.get(kind, [])) + list(extra)
        return '"%s"' % rnd.choice(xs) if xs else '"none"'
    dll = lambda: pick("library_name", ["kernel32.dll", "KERNEL32.DLL", "user32", "x.dll", ""])
    fn = lambda: pick("name", ["GetProcAddress", "LoadLibraryA", "nosuch", ""])
    num = lambda: rnd.choice([0, 1, 2, 4, 16, 0x14c, 0x8664, 0x1000, 0x400000, -1,
                              rnd.randrange(0, 1 << 20)])
    k = rnd.randrange(30)
    if k < 4:
        return "pe.%s %s %d" % (rnd.choice(PE_INTS), rnd.choice([">", "<", "==", "!="]), num())
    if k == 4:
        return "defined pe.%s" % rnd.choice(PE_INTS + ["pdb_path", "dll_name",
                                                       "rich_signature.clear_data"])
    if k == 5:
        return "pe.%s == %d or pe.characteristics & pe.%s != 0" % (
            rnd.choice(PE_CONSTS), num(), rnd.choice(PE_CONSTS))
    if k == 6:
        return "pe.sections[%d].%s == %s" % (i, rnd.choice(["name", "full_name"]),
                                             pick("name", [".text", ".rdata", "UPX0", ""]))
    if k == 7:
        return "pe.sections[%d].%s %s %d" % (i, rnd.choice(PE_SEC), rnd.choice([">", "<", "=="]),
                                             num())
    if k == 8:
        return "pe.data_directories[%s].%s %s %d" % (
            rnd.choice([i, "pe.IMAGE_DIRECTORY_ENTRY_IMPORT", "pe.IMAGE_DIRECTORY_ENTRY_RESOURCE"]),
            rnd.choice(["virtual_address", "size"]), rnd.choice([">", "=="]), num())
    if k == 9:
        return "pe.imports(%s, %s)" % (dll(), fn())
    if k == 10:
        return "pe.imports(%s) %s %d" % (dll(), rnd.choice([">", "=="]), rnd.randrange(0, 30))
    if k == 11:
        o = rnd.choice(list(facts.get("ordinal", [])) + [1, 17, 0, 999])
        return "pe.imports(%s, %d)" % (dll(), o)
    if k == 12:
        return "pe.imports(/%s/%s, /%s/) %s %d" % (
            rnd.choice(["kernel32", "KERNEL", "dll$", "^user", ".", "nosuch", "x*"]),
            rnd.choice(["", "i"]),
            # an empty match at the start of a name is an answer of 0, which
            # imports() does not count (yr_re_match gives where it ended)
            rnd.choice(["^Get", "A$", "W$", ".", "Proc", "zz", "^", "^x*", "(Get)?"]),
            rnd.choice([">", "=="]), rnd.randrange(0, 8))
    if k == 13:
        flags = rnd.choice(["pe.IMPORT_STANDARD", "pe.IMPORT_DELAYED", "pe.IMPORT_ANY", "0", "3"])
        f = rnd.randrange(4)
        if f == 0:
            return "pe.imports(%s, %s, %s)" % (flags, dll(), fn())
        if f == 1:
            return "pe.imports(%s, %s) > %d" % (flags, dll(), rnd.randrange(0, 10))
        if f == 2:
            return "pe.imports(%s, %s, %d)" % (flags, dll(), rnd.choice([1, 2, 17, 115]))
        return "pe.imports(%s, /%s/i, /%s/) > 0" % (flags, rnd.choice(["kernel", ".", "user"]),
                                                    rnd.choice(["^Get", "A$", "."]))
    if k == 14:
        f = rnd.choice(["library_name == %s" % dll(),
                        "number_of_functions == %d" % rnd.randrange(0, 40),
                        "functions[%d].name == %s" % (j, fn()),
                        "functions[%d].ordinal > %d" % (j, rnd.randrange(0, 50))])
        return "pe.import_details[%d].%s" % (i, f)
    if k == 15:
        return "defined pe.delay_import_details[%d].library_name or defined " \
            "pe.import_details[%d].functions[%d].name" % (i, i, j)
    if k == 16:
        hs = list(facts.get("imphash", [])) + ["0" * 32, ""]
        return 'pe.imphash() == "%s"' % rnd.choice(hs)
    if k == 17:
        f = rnd.randrange(3)
        if f == 0:
            a = fn()
        elif f == 1:
            a = str(rnd.choice([0, 1, 2, 3, 5, 100]))
        else:
            a = "/%s/" % rnd.choice(["Banner", "^[a-z]", "Init", ".", "zz", "A$", "q*"])
        return rnd.choice(["pe.exports(%s)" % a, "pe.exports_index(%s) == %d" % (
            a, rnd.randrange(0, 4))])
    if k == 18:
        f = rnd.choice(["name == %s" % fn(), "ordinal == %d" % rnd.randrange(0, 6),
                        "offset > %d" % num(), "forward_name == %s" % fn()])
        return "pe.export_details[%d].%s" % (i, f)
    if k == 19:
        return "pe.dll_name == %s or pe.pdb_path == %s" % (fn(), fn())
    if k == 20:
        return "pe.resources[%d].%s %s %d" % (i, rnd.choice(PE_RES), rnd.choice([">", "=="]),
                                              rnd.choice([0, 3, 14, 16, 24, 1033, 1000, -1]))
    if k == 21:
        return "pe.resources[%d].%s == %s" % (i, rnd.choice(
            ["type_string", "name_string", "language_string"]), rnd.choice(
            ['""', '"I\x00C\x00O\x00N\x00"', '"x"']))
    if k == 22:
        return "pe.version_info[%s] == %s" % (pick("key", ["CompanyName", "nope"]),
                                             pick("value", [""]))
    if k == 23:
        return "pe.version_info_list[%d].%s == %s" % (i, rnd.choice(["key", "value"]),
                                                       pick("key", ["CompanyName"]))
    if k == 24:
        return "pe.%s(%d)" % (rnd.choice(["locale", "language"]),
                              rnd.choice([0, 9, 1033, 0x409, 7, 2052]))
    if k == 25:
        f = rnd.randrange(4)
        v, tl = rnd.choice([0, 30729, 40219, 21005, 26715]), rnd.choice([0, 1, 147, 170, 260])
        return ["pe.rich_signature.version(%d) > 0" % v, "pe.rich_signature.toolid(%d) > 0" % tl,
                "pe.rich_signature.version(%d, %d) >= 0" % (v, tl),
                "pe.rich_signature.toolid(%d, %d) > 1" % (tl, v)][f]
    if k == 26:
        return rnd.choice(["pe.is_dll()", "pe.is_32bit()", "pe.is_64bit()",
                           "pe.calculate_checksum() == pe.checksum",
                           "defined pe.calculate_checksum()", "not pe.is_dll()"])
    if k == 27:
        return "pe.rva_to_offset(%d) %s %d" % (rnd.choice([0, 0x1000, 0x1001, 0x2000, 0x5000,
                                                            -1, 1 << 33]),
                                               rnd.choice([">", "=="]), num())
    if k == 28:
        return rnd.choice(["pe.section_index(%s) == %d" % (
            pick("name", [".text", ".data"]), rnd.randrange(-1, 5)),
            "pe.section_index(%d) == %d" % (num(), rnd.randrange(-1, 5))])
    if k == 29 and rnd.randrange(2):
        f = rnd.choice(["thumbprint", "issuer", "subject", "serial", "algorithm",
                        "algorithm_oid"])
        if rnd.randrange(3) == 0:
            t = rnd.choice(list(facts.get("not_before", [])) + list(facts.get("not_after", []))
                           + [0, 1 << 31])
            return "pe.signatures[%d].valid_on(%d + %d)" % (rnd.choice([0, 1, 2, i]), t,
                                                            rnd.choice([-1, 0, 1]))
        if rnd.randrange(3) == 0:
            return "pe.signatures[%d].%s %s %d" % (rnd.choice([0, 1, i]), rnd.choice(
                ["version", "not_before", "not_after"]), rnd.choice([">", "=="]), rnd.choice(
                list(facts.get("not_before", [])) + [3, 1, 0]))
        return "pe.signatures[%d].%s == %s" % (rnd.choice([0, 1, i]), f, pick(f, ["x"]))
    if k == 29 and rnd.randrange(2):
        return "pe.export_details[%d].forward_name == %s or pe.pdb_path == %s or " \
            "pe.dll_name == %s" % (i, pick("forward_name"), pick("pdb_path"), pick("dll_name"))
    return rnd.choice([
        "pe.number_of_signatures > 0 and pe.signatures[%d].valid_on(%d)" % (i, num()),
        "defined pe.signatures[%d].thumbprint" % i,
        "for any j in (0..pe.number_of_sections - 1) : (pe.sections[j].raw_data_size > %d)"
        % num(),
        "pe.entry_point == %d" % rnd.choice([-1, 0x400, 0x600]),
        "defined pe.is_pe and pe.is_pe == 0",
    ])


# `for ... in` loops: each module array with its item fields, as
# (field, kind) with kind "i" integer, "s" string, "a" array (nested).
ARRAYS = {
    "pe.sections": [("name", "s"), ("full_name", "s")] + [(f, "i") for f in PE_SEC],
    "pe.data_directories": [("virtual_address", "i"), ("size", "i")],
    "pe.import_details": [("library_name", "s"), ("number_of_functions", "i"),
                          ("functions", "a")],
    "pe.delay_import_details": [("library_name", "s"), ("number_of_function", "i"),
                                ("functions", "a")],
    "pe.export_details": [("offset", "i"), ("name", "s"), ("forward_name", "s"),
                          ("ordinal", "i")],
    "pe.resources": [(f, "i") for f in PE_RES] + [
        ("type_string", "s"), ("name_string", "s"), ("language_string", "s")],
    "pe.version_info_list": [("key", "s"), ("value", "s")],
    "pe.signatures": [(f, "s") for f in ("thumbprint", "issuer", "subject", "algorithm",
                                         "algorithm_oid", "serial")] + [
        ("version", "i"), ("not_before", "i"), ("not_after", "i"), ("valid_on", "f")],
    "elf.sections": [("type", "i"), ("flags", "i"), ("address", "i"), ("size", "i"),
                     ("offset", "i"), ("name", "s")],
    "elf.segments": [(f, "i") for f in ("type", "flags", "offset", "virtual_address",
                                        "physical_address", "file_size", "memory_size",
                                        "alignment")],
    "elf.dynamic": [("type", "i"), ("val", "i")],
    "elf.symtab": [("name", "s"), ("value", "i"), ("size", "i"), ("type", "i"), ("bind", "i"),
                   ("shndx", "i")],
    "elf.dynsym": [("name", "s"), ("value", "i"), ("size", "i"), ("type", "i"), ("bind", "i"),
                   ("shndx", "i")],
}
FUNCTIONS = [("name", "s"), ("ordinal", "i")]


class Loop:
    """One generated condition in two spellings: ward's, and yara's, where
    `for none V in A : (B)` (which yara 4.2 reads as `for 0`, true whenever
    A has an item) is written out as what it means and what ward gives:
    `for any V in A : (true) and not for any V in A : (B)`."""

    def __init__(self, ward, yara=None):
        self.ward, self.yara = ward, ward if yara is None else yara


def item_pred(rnd, facts, var, fields, depth):
    """A predicate on the item var: a field compared, tested for being
    defined, read through (uint8 at an offset it names), or a loop over
    an array inside it."""
    name, kind = rnd.choice(fields)
    v = "%s.%s" % (var, name)
    if kind == "a" and depth < 2:
        return loop(rnd, facts, v, FUNCTIONS, depth + 1, inner=True)
    if kind == "a":
        return Loop("%s.functions[%d].name != \"\"" % (var, rnd.randrange(0, 4)))
    if kind == "f":
        t = rnd.choice(list(facts.get("not_before", [])) + [0, 1 << 31])
        return Loop("%s(%d)" % (v, t + rnd.choice([-1, 0, 1])))
    k = rnd.randrange(10)
    if k == 0:
        return Loop("defined %s" % v)
    if k == 1:
        return Loop("not defined %s" % v)
    if kind == "s":
        if k < 5:
            pool = {"name": "name", "library_name": "library_name", "key": "key",
                    "value": "value", "forward_name": "forward_name"}.get(name, name)
            return Loop("%s == %s" % (v, pick_str(rnd, facts, pool)))
        if k < 7:
            return Loop("%s %s \"%s\"" % (v, rnd.choice(["contains", "icontains", "startswith",
                                                          "iendswith"]),
                                          rnd.choice([".", "t", "dll", "A", "_", "", "x"])))
        return Loop("%s != \"\"" % v)
    if k < 6:
        return Loop("%s %s %d" % (v, rnd.choice([">", "<", "==", "!=", ">="]),
                                  rnd.choice([0, 1, 2, 3, 6, 16, 0x1000, 0x200, 1033, -1,
                                              rnd.randrange(0, 1 << 16)])))
    if k < 8:
        return Loop("%s & %d != 0" % (v, rnd.choice([1, 2, 4, 0x20, 0x20000000, 0x80000000])))
    # a read at an offset the item names: undefined past the end of the file
    return Loop("uint8(%s) %s %d" % (v, rnd.choice([">", "=="]), rnd.choice([0, 0x4d, 0x7f])))


def pick_str(rnd, facts, kind):
    xs = list(facts.get(kind, [])) + [".text", "kernel32.dll", "KERNEL32.dll", "CompanyName",
                                      "", "main", ".data"]
    return '"%s"' % rnd.choice(xs)


def quantifier(rnd):
    return rnd.choice(["any", "any", "all", "all", "none", "none", "0", "1", "2", "3", "-1",
                       "pe.number_of_sections", "pe.number_of_signatures",
                       "elf.number_of_segments", "1 + 1"])


def combine(rnd, a, b):
    op = rnd.choice(["and", "or"])
    return Loop("(%s %s %s)" % (a.ward, op, b.ward), "(%s %s %s)" % (a.yara, op, b.yara))


def loop(rnd, facts, array, fields, depth=0, inner=False):
    """for Q v in ARRAY : (body), the body about v (and at times about
    nothing of it, or undefined for some items)."""
    q = quantifier(rnd)
    var = "v%d" % depth
    body = item_pred(rnd, facts, var, fields, depth)
    if rnd.randrange(3) == 0:
        body = combine(rnd, body, item_pred(rnd, facts, var, fields, depth))
    if rnd.randrange(12) == 0:
        body = Loop(rnd.choice(["true", "false", "uint32(filesize) == 0"]))
    head = "for %s %s in %s : " % (q, var, array)
    if q != "none":
        return Loop(head + "(%s)" % body.ward, head + "(%s)" % body.yara)
    anyh = "for any %s in %s : " % (var, array)
    return Loop(head + "(%s)" % body.ward,
                "(%s(true) and not %s(%s))" % (anyh, anyh, body.yara))


def dict_loop(rnd, facts):
    """for Q k, v in pe.version_info : (...)."""
    q = quantifier(rnd)
    preds = ["k == %s" % pick_str(rnd, facts, "key"), "v == %s" % pick_str(rnd, facts, "value"),
             "v contains \"%s\"" % rnd.choice([".", "1", "Microsoft", "x", ""]),
             "k startswith \"%s\"" % rnd.choice(["File", "Product", "C", "x"]),
             "v == pe.version_info[k]", "k != v", "defined v", "k iequals \"companyname\""]
    body = " %s " % rnd.choice(["and", "or"])
    body = body.join(rnd.sample(preds, rnd.randrange(1, 3)))
    if q != "none":
        return Loop("for %s k, v in pe.version_info : (%s)" % (q, body))
    anyh = "for any k, v in pe.version_info : "
    return Loop("for none k, v in pe.version_info : (%s)" % body,
                "(%s(true) and not %s(%s))" % (anyh, anyh, body))


def loop_cond(rnd, facts):
    """A condition with loops over the modules' arrays and dictionaries:
    quantifiers, nesting, bodies undefined for some items, arrays that are
    empty or undefined (pe's on an ELF file and the other way round)."""
    k = rnd.randrange(10)
    if k < 6:
        array = rnd.choice(sorted(ARRAYS))
        c = loop(rnd, facts, array, ARRAYS[array])
    elif k == 6:
        c = dict_loop(rnd, facts)
    elif k == 7:
        # an array inside an item named by index, in range and out of it
        i = rnd.choice([0, 1, 2, 5, -1])
        c = loop(rnd, facts, "pe.import_details[%d].functions" % i, FUNCTIONS, 1)
    elif k == 8:
        # an item loop inside a range loop, and a range loop inside one
        inner = loop(rnd, facts, "pe.import_details[i].functions", FUNCTIONS, 1)
        c = Loop("for any i in (0..pe.number_of_imports) : (%s)" % inner.ward,
                 "for any i in (0..pe.number_of_imports) : (%s)" % inner.yara)
        if rnd.randrange(2):
            c = Loop("for any v0 in elf.sections : (for any j in (0..2) : "
                     "(elf.segments[j].offset == v0.offset))")
    else:
        a = rnd.choice(sorted(ARRAYS))
        b = rnd.choice(sorted(ARRAYS))
        c = combine(rnd, loop(rnd, facts, a, ARRAYS[a]), loop(rnd, facts, b, ARRAYS[b]))
    if rnd.randrange(8) == 0:
        c = Loop("not %s" % c.ward, "not %s" % c.yara)
    return c


def hash_cond(rnd, files, alg, off, ln):
    """A hash comparison that is true on one of the files (or none)."""
    name = rnd.choice(sorted(files))
    b = py_range(files[name], off, ln)
    if rnd.randrange(6) == 0:
        s = "".join(rnd.choice(["a", "b", "c", "\\x00", "\\xff"])
                    for _ in range(rnd.randrange(0, 6)))
        b, arg = s.encode().decode("unicode_escape").encode("latin-1"), '"%s"' % s
    else:
        arg = "%s, %s" % (lit(off), lit(ln))
    if b is None:
        want = "0" if alg in ("checksum32", "crc32") else '"%s"' % ("0" * 32)
    elif alg == "checksum32":
        want = str(sum(b) & 0xffffffff)
    elif alg == "crc32":
        want = str(zlib.crc32(b) & 0xffffffff)
    else:
        want = '"%s"' % hashlib.new(alg, b).hexdigest()
    return "hash.%s(%s) == %s" % (alg, arg, want)


def main(argv=None):
    ap = argparse.ArgumentParser(description="differential test of ward's modules against yara")
    ap.add_argument("--ward", default=default_ward())
    ap.add_argument("--yara", default=shutil.which("yara") or "yara")
    ap.add_argument("--seed", type=int, default=20261206)
    ap.add_argument("--rules", type=int, default=60, help="rules (each on every file)")
    ap.add_argument("--pe-only", action="store_true", help="pe conditions only")
    ap.add_argument("--loops-only", action="store_true",
                    help="loops over the modules' arrays and dictionaries only")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args(argv)
    rnd = random.Random(args.seed)
    work = tempfile.mkdtemp(prefix="ward-moddiff-")
    try:
        ind = os.path.join(work, "in")
        os.makedirs(ind)
        files = make_inputs(ind, rnd)
        pe_dump = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(args.ward))),
                               "tests", "unit", "modules", "pe_dump")
        facts = pe_facts(args.yara, ind, files, pe_dump)
        gen = (iter(lambda: pe_cond(rnd, facts), None) if args.pe_only
               else iter(lambda: loop_cond(rnd, facts), None) if args.loops_only
               else conditions(rnd, files, facts))
        lines = ['import "math"', 'import "hash"', 'import "time"', 'import "elf"', 'import "pe"',
                 "rule t_now { condition: time.now() > 1700000000 }"]
        conds = {"t_now": "time.now() > 1700000000"}
        ylines = list(lines)
        for i in range(args.rules):
            c = next(gen)
            yc = c
            if isinstance(c, Loop):
                c, yc = c.ward, c.yara
            if c == "HASH":
                size = len(rnd.choice(list(files.values())))
                off, ln = rng_range(rnd, size)
                c = yc = hash_cond(rnd, files,
                                   rnd.choice(["md5", "sha1", "sha256", "checksum32", "crc32"]),
                                   off, ln)
            name = "m%04d" % i
            conds[name] = c
            lines.append("rule %s { condition: %s }" % (name, c))
            ylines.append("rule %s { condition: %s }" % (name, yc))
        rules = os.path.join(work, "mod.yar")
        with open(rules, "w") as f:
            f.write("\n".join(lines) + "\n")
        # The same rules, `for none` loops written out for yara 4.2 (Loop).
        yrules = os.path.join(work, "mod-yara.yar")
        with open(yrules, "w") as f:
            f.write("\n".join(ylines) + "\n")
        y = run_yara(args.yara, [yrules], [], ind)
        w = run_ward(args.ward, [rules], [], ind)
        for side, res in (("yara", y), ("ward", w)):
            if not res.ok:
                print("%s failed: %s\n%s" % (side, res.error, " ".join(res.cmd)))
                return 2
        bad = 0
        ymatch = 0
        for name in sorted(files):
            a, b = y.matches.get(name, set()), w.matches.get(name, set())
            ymatch += len(a)
            for r in sorted(a ^ b):
                bad += 1
                if bad <= 20:
                    print("DIFFER on %s (%d bytes): %s { %s } — yara %s, ward %s" % (
                        name, len(files[name]), r, conds[r], r in a, r in b))
        n = len(files) * len(conds)
        print("%d cases compared (%d files x %d rules), %d (file, rule) matches by yara, "
              "%d disagreements" % (n, len(files), len(conds), ymatch, bad))
        if bad:
            print("rules kept in %s" % work)
            args.keep = True
        return 1 if bad else 0
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
