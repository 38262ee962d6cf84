"""
wardd's clamd-compatible socket, driven as clamd's clients drive it: raw
protocol bytes (every command in its z, n and old forms, IDSESSION,
malformed commands, an oversized stream, a silent client, a client gone
mid-stream while another is served), Debian's real `clamdscan` pointed
at ward's socket by its config file, the same requests put to Debian's
real `clamd` for answers byte for byte, and the permission check: a file
the client cannot read is not scanned for it.

One agent serves the whole module (default content: EICAR is found as
EICAR_Test_File); one clamd for the comparison.
"""

import hashlib
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time

import pytest

from agentlib import DEFAULT_SRC, Agent, Keys
from conftest import EICAR, Ward, ward_path
from serverlib import free_port
from userlib import nobody

READ_TIMEOUT_S = 2
STREAM_MAX = 1 << 20
MAX_FILESIZE = 4 << 20
PER_USER = 6


def chunk(b):
    return struct.pack(">I", len(b)) + b


def stream(data, prefix=b"z", size=4096):
    term = b"\0" if prefix == b"z" else b"\n"
    out = prefix + b"INSTREAM" + term
    for i in range(0, len(data), size):
        out += chunk(data[i:i + size])
    return out + struct.pack(">I", 0)


def ask(path, data, timeout=10, tcp=None, fds=None):
    """Sends data, then reads until the server closes (or timeout)."""
    if tcp is not None:
        s = socket.create_connection(("127.0.0.1", tcp))
    else:
        s = socket.socket(socket.AF_UNIX)
        s.connect(path)
    s.settimeout(timeout)
    try:
        if fds is not None:
            cmd, rest = data
            s.sendall(cmd)
            socket.send_fds(s, [rest], fds)
        else:
            s.sendall(data)
        out = b""
        while True:
            try:
                b = s.recv(65536)
            except socket.timeout:
                return out + b"<still open>"
            if not b:
                return out
            out += b
    finally:
        s.close()


@pytest.fixture(scope="module")
def box():
    if os.geteuid() != 0:
        pytest.fail("the clamd socket tests run as root (make check runs them so)",
                    pytrace=False)
    ward = Ward(ward_path())
    d = tempfile.mkdtemp(prefix="ward-clamd-", dir="/tmp")
    os.chmod(d, 0o755)
    rel = Keys(ward, os.path.join(d, "keys")).make("release")
    v1 = os.path.join(d, "v1.wbundle")
    assert ward.run("content", "build", DEFAULT_SRC, "-o", v1).returncode == 0
    assert ward.run("content", "sign", v1, "--key", rel[0]).returncode == 0
    files = os.path.join(d, "files")
    os.makedirs(os.path.join(files, "tree", "sub"))
    w = lambda name, data, mode=0o644: (open(os.path.join(files, name), "wb").write(data),
                                        os.chmod(os.path.join(files, name), mode))
    w("eicar.com", EICAR)
    w("clean.txt", b"nothing to see here\n")
    w("eicar2.com", EICAR + b"\n")  # the rule's, not the hash signature's
    w("tree/a.txt", b"clean a\n")
    w("tree/sub/eicar.com", EICAR)
    w("tree/sub/b.txt", b"clean b\n")
    os.makedirs(os.path.join(files, "cleantree", "x"))
    w("cleantree/one", b"one\n")
    w("cleantree/x/two", b"two\n")
    # More files than one batch to a scanner.
    os.makedirs(os.path.join(files, "many"))
    for i in range(40):
        w("many/f%02d" % i, EICAR if i in (5, 33) else b"clean %d\n" % i)
    # Special files: never opened (a FIFO would block a reader).
    os.mkfifo(os.path.join(files, "fifo"))
    os.makedirs(os.path.join(files, "specials"))
    os.mkfifo(os.path.join(files, "specials", "fifo"))
    w("specials/ok.txt", b"ok\n")
    # Root's only: the owner may read it, nobody else.
    w("secret.com", EICAR, 0o600)
    os.makedirs(os.path.join(files, "closed"))
    w("closed/eicar.com", EICAR)
    os.chmod(os.path.join(files, "closed"), 0o700)
    tcp = free_port()
    os.makedirs(os.path.join(d, "agent"))
    sock = os.path.join(d, "clamd.sock")
    a = Agent(ward, os.path.join(d, "agent"), [rel[1]], extra=[
        "initial_content: %s" % v1,
        "clamd:",
        "  enabled: yes",
        "  socket: %s" % sock,
        "  tcp_port: %d" % tcp,
        "  read_timeout_s: %d" % READ_TIMEOUT_S,
        "  stream_max_length: %d" % STREAM_MAX,
        "  max_filesize: %d" % MAX_FILESIZE,
        "  max_connections_per_user: %d" % PER_USER,
    ])
    a.start()
    a.wait_for(lambda st: st.get("mode") == "protecting", what="content active")

    class Box:
        pass

    b = Box()
    b.agent, b.dir, b.files, b.tcp = a, d, files, tcp
    b.sock = sock
    b.f = lambda name: os.path.join(files, name)
    try:
        yield b
    finally:
        a.stop()
        shutil.rmtree(d, ignore_errors=True)


def test_socket_mode_and_commands(box):
    st = os.stat(box.sock)
    assert oct(st.st_mode & 0o777) == "0o666"
    s = box.sock
    assert ask(s, b"zPING\0") == b"PONG\0"
    assert ask(s, b"nPING\n") == b"PONG\n"
    assert ask(s, b"PING\n") == b"PONG\n"
    assert ask(s, b"PING") == b"PONG\n"  # the old form: one packet, one command
    assert ask(s, b"nPING\r\n") == b"PONG\n"
    v = ask(s, b"nVERSION\n")
    assert v.startswith(b"ClamAV ward-") and v.endswith(b"\n") and v.count(b"/") == 2, v
    assert v.split(b"/")[1] == b"1"  # the active content's version
    vc = ask(s, b"zVERSIONCOMMANDS\0")
    assert vc == v[:-1] + (b"| COMMANDS: SCAN QUIT RELOAD PING CONTSCAN VERSIONCOMMANDS "
                           b"VERSION END SHUTDOWN MULTISCAN FILDES STATS IDSESSION INSTREAM "
                           b"DETSTATSCLEAR DETSTATS ALLMATCHSCAN\0")
    assert ask(s, b"nRELOAD\n") == b"RELOADING\n"
    assert ask(s, b"zSHUTDOWN\0") == b"COMMAND UNAVAILABLE\0"
    assert ask(s, b"nQUIT\n") == b"COMMAND UNAVAILABLE\n"
    stats = ask(s, b"nSTATS\n")
    assert stats.startswith(b"POOLS: 1\n\nSTATE: VALID PRIMARY\nTHREADS: live ") and \
        stats.endswith(b"\nEND\n"), stats
    # The agent is still up after SHUTDOWN.
    assert ask(s, b"nPING\n") == b"PONG\n"
    # Path commands.
    f = box.f
    assert ask(s, b"nSCAN %s\n" % f("eicar.com").encode()) == \
        b"%s: EICAR_Test_File FOUND\n" % f("eicar.com").encode()
    assert ask(s, b"zSCAN %s\0" % f("clean.txt").encode()) == \
        b"%s: OK\0" % f("clean.txt").encode()
    assert ask(s, b"SCAN %s\n" % f("eicar.com").encode()) == \
        b"%s: EICAR_Test_File FOUND\n" % f("eicar.com").encode()
    assert ask(s, b"nSCAN %s\n" % f("none").encode()) == \
        b"%s: File path check failure: No such file or directory. ERROR\n" % f("none").encode()
    assert ask(s, b"nCONTSCAN %s\n" % f("cleantree").encode()) == \
        b"%s: OK\n" % f("cleantree").encode()
    assert ask(s, b"nCONTSCAN %s/\n" % f("tree").encode()) == \
        b"%s: EICAR_Test_File FOUND\n" % f("tree/sub/eicar.com").encode()
    assert ask(s, b"nMULTISCAN %s\n" % f("tree").encode()) == \
        b"%s: EICAR_Test_File FOUND\n" % f("tree/sub/eicar.com").encode()
    allm = ask(s, b"nALLMATCHSCAN %s\n" % f("eicar.com").encode()).splitlines()
    assert b"%s: EICAR_Test_File FOUND" % f("eicar.com").encode() in allm and len(allm) >= 2, allm
    assert all(x.endswith(b" FOUND") for x in allm)
    assert ask(s, b"nSCAN /dev/null\n") == b"/dev/null: Not supported file type ERROR\n" \
        b"/dev/null: OK\n"
    fifo = f("fifo").encode()
    assert ask(s, b"nSCAN %s\n" % fifo) == b"%s: Not supported file type ERROR\n%s: OK\n" % (
        fifo, fifo)
    assert ask(s, b"nCONTSCAN %s\n" % f("specials").encode()) == \
        b"%s: OK\n" % f("specials").encode()
    # procfs and sysfs (and FUSE, any user's to make) are not scanned.
    for p in (b"/proc/version", b"/proc/sys", b"/sys/kernel"):
        assert ask(s, b"nSCAN %s\n" % p) == b"%s: Not scanned on this file system ERROR\n" % p
    with open("/proc/version", "rb") as fh:
        out = ask(s, (b"nFILDES\n", b"\0"), fds=[fh.fileno()])
    assert out.startswith(b"fd[") and out.endswith(b"]: Not scanned on this file system ERROR\n")
    # Commands clamd takes only with a prefix, and the unknown.
    for bad in (b"INSTREAM\n", b"IDSESSION\n", b"VERSIONCOMMANDS\n", b"nFOO\n", b"FOO\n",
                b"nping\n", b"nPING x\n", b"nSCAN\n", b"\n", b"nEND\n", b"nSELFCHECK\n"):
        assert ask(s, bad) == b"UNKNOWN COMMAND\n", bad
    assert ask(s, b"z\0") == b"UNKNOWN COMMAND\0"
    assert ask(s, b"nDETSTATS\n") == b""


def test_contscan_many(box):
    for cmd in (b"CONTSCAN", b"MULTISCAN"):
        out = ask(box.sock, b"n%s %s\n" % (cmd, box.f("many").encode()))
        assert sorted(out.splitlines()) == [
            b"%s: EICAR_Test_File FOUND" % box.f("many/f%02d" % i).encode() for i in (5, 33)], out
    # SCAN stops at the first.
    out = ask(box.sock, b"nSCAN %s\n" % box.f("many").encode())
    assert len(out.splitlines()) == 1 and out.endswith(b": EICAR_Test_File FOUND\n"), out


def test_instream(box):
    s = box.sock
    assert ask(s, stream(b"hello")) == b"stream: OK\0"
    assert ask(s, stream(b"", b"n")) == b"stream: OK\n"
    # Found across many small chunks.
    assert ask(s, stream(EICAR + b"\n", b"n", 7)) == \
        b"stream: EICAR_Test_File FOUND\n"
    # EICAR in one chunk, as clients send it.
    assert ask(s, stream(EICAR)) == b"stream: EICAR_Test_File FOUND\0"
    # Over stream_max_length: in one chunk, and in many.
    assert ask(s, b"nINSTREAM\n" + struct.pack(">I", STREAM_MAX + 1)) == \
        b"INSTREAM size limit exceeded. ERROR\n"
    assert ask(s, b"zINSTREAM\0" + struct.pack(">I", 0xffffffff)) == \
        b"INSTREAM size limit exceeded. ERROR\0"
    big = stream(b"a" * (STREAM_MAX + 10), b"z", 65536)
    assert ask(s, big) == b"INSTREAM size limit exceeded. ERROR\0"
    # Exactly the limit is taken.
    assert ask(s, stream(b"b" * STREAM_MAX, b"n", 65536)) == b"stream: OK\n"
    # Over TCP, too.
    assert ask(None, stream(EICAR), tcp=box.tcp) == b"stream: EICAR_Test_File FOUND\0"


def test_idsession(box):
    s = box.sock
    f = box.f
    req = (b"zIDSESSION\0zPING\0zVERSION\0" + stream(EICAR) +
           b"zSCAN %s\0nSTATS\n" % f("clean.txt").encode() + stream(b"clean", b"n") +
           b"zEND\0")
    out = ask(s, req)
    parts = out.split(b"\0")
    assert parts[0] == b"1: PONG"
    assert parts[1].startswith(b"2: ClamAV ward-")
    assert parts[2] == b"3: stream: EICAR_Test_File FOUND"
    assert parts[3] == b"4: %s: OK" % f("clean.txt").encode()
    assert parts[4].startswith(b"5: POOLS: 1\n") and parts[4].endswith(b"END\n6: stream: OK\n")
    # Commands not taken inside a session, the old form inside one.
    assert ask(s, b"nIDSESSION\nnPING\nnRELOAD\nnPING\n") == \
        b"1: PONG\n2: Command invalid inside IDSESSION. ERROR\n"
    assert ask(s, b"nIDSESSION\nPING\n") == \
        b"1: Only nCMDS\\n and zCMDS\\0 are accepted inside IDSESSION. ERROR\n"
    # A session the client leaves open ends after the read timeout.
    t0 = time.time()
    assert ask(s, b"nIDSESSION\nnPING\n") == b"1: PONG\nCOMMAND READ TIMED OUT\n"
    assert time.time() - t0 < READ_TIMEOUT_S + 3


def test_fildes(box):
    s = box.sock
    with open(box.f("eicar.com"), "rb") as fe, open(box.f("clean.txt"), "rb") as fc:
        out = ask(s, (b"zFILDES\0", b"\0"), fds=[fe.fileno()])
        assert out.startswith(b"fd[") and out.endswith(b"]: EICAR_Test_File FOUND\0"), out
        out = ask(s, (b"nFILDES\n", b"\0"), fds=[fc.fileno()])
        assert out.startswith(b"fd[") and out.endswith(b"]: OK\n"), out
    # No descriptor; a directory's.
    assert ask(s, b"nFILDES\n\0") == b"No file descriptor received. ERROR\n"
    fd = os.open(box.files, os.O_RDONLY | os.O_DIRECTORY)
    try:
        out = ask(s, (b"nFILDES\n", b"\0"), fds=[fd])
    finally:
        os.close(fd)
    assert out.endswith(b"]: Not a regular file ERROR\n"), out


def test_malformed_slow_and_gone_clients(box):
    s = box.sock
    # A command longer than any path, binary junk.
    assert ask(s, b"nSCAN /" + b"a" * 9000) == b"UNKNOWN COMMAND\n"
    assert ask(s, b"\x00\xff\xfe garbage\n") == b"UNKNOWN COMMAND\n"
    assert ask(s, b"nPI\0NG\n") == b"UNKNOWN COMMAND\n"
    # A silent client, and one that says nothing after its command's
    # prefix, each hold only their own connection ...
    silent = socket.socket(socket.AF_UNIX)
    silent.connect(s)
    half = socket.socket(socket.AF_UNIX)
    half.connect(s)
    half.sendall(b"nINSTREAM\n" + struct.pack(">I", 1000) + b"x" * 10)
    # ... and one that goes mid-stream: none of them stops the others.
    for _ in range(5):
        gone = socket.socket(socket.AF_UNIX)
        gone.connect(s)
        gone.sendall(b"zINSTREAM\0" + struct.pack(">I", 100000) + b"y" * 5000)
        gone.close()
    t0 = time.time()
    assert ask(s, stream(EICAR)) == b"stream: EICAR_Test_File FOUND\0"
    assert ask(None, b"zPING\0", tcp=box.tcp) == b"PONG\0"
    assert time.time() - t0 < 1.0
    # The silent one is told, then closed, after the read timeout.
    silent.settimeout(READ_TIMEOUT_S + 5)
    assert silent.recv(100) == b"COMMAND READ TIMED OUT\n"
    half.settimeout(READ_TIMEOUT_S + 5)
    assert half.recv(100) == b""
    silent.close()
    half.close()
    assert ask(s, b"nPING\n") == b"PONG\n"


def test_tcp_refuses_paths(box):
    f = box.f("eicar.com").encode()
    assert ask(None, b"nSCAN %s\n" % f, tcp=box.tcp) == b"COMMAND UNAVAILABLE\n"
    assert ask(None, b"zCONTSCAN %s\0" % f, tcp=box.tcp) == b"COMMAND UNAVAILABLE\0"
    assert ask(None, b"nVERSION\n", tcp=box.tcp).startswith(b"ClamAV ward-")
    assert ask(None, b"nSTATS\n", tcp=box.tcp).startswith(b"POOLS: 1\n")


CLIENT = r"""
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
out = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    out += b
sys.stdout.buffer.write(out)
"""


def as_nobody(box, cmd):
    uid, gid = nobody()
    p = subprocess.run(["setpriv", "--reuid=%d" % uid, "--regid=%d" % gid, "--clear-groups",
                        "--no-new-privs", "--", "/usr/bin/python3", "-c", CLIENT, box.sock,
                        cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    assert p.returncode == 0, p.stderr
    return p.stdout


def test_paths_opened_as_the_client(box):
    f = box.f
    # Root reads them all ...
    assert ask(box.sock, b"nSCAN %s\n" % f("secret.com").encode()).endswith(
        b": EICAR_Test_File FOUND\n")
    assert ask(box.sock, b"nSCAN %s\n" % f("closed/eicar.com").encode()).endswith(
        b": EICAR_Test_File FOUND\n")
    # ... nobody only what nobody may read: no verdict on the others, and
    # nothing that tells what they hold.
    assert as_nobody(box, "nSCAN %s" % f("secret.com")) == \
        b"%s: Access denied. ERROR\n" % f("secret.com").encode()
    assert as_nobody(box, "nSCAN %s" % f("closed/eicar.com")) == \
        b"%s: Access denied. ERROR\n" % f("closed/eicar.com").encode()
    assert as_nobody(box, "nCONTSCAN %s" % f("closed")) == \
        b"%s: Access denied. ERROR\n" % f("closed").encode()
    assert as_nobody(box, "nSCAN %s" % f("eicar.com")) == \
        b"%s: EICAR_Test_File FOUND\n" % f("eicar.com").encode()
    # A walk skips what nobody cannot open, and says so.
    out = as_nobody(box, "nCONTSCAN %s" % box.files)
    assert b"%s: Access denied. ERROR\n" % f("secret.com").encode() in out, out
    assert b"%s: Access denied. ERROR\n" % f("closed").encode() in out, out
    assert b"%s: EICAR_Test_File FOUND\n" % f("eicar.com").encode() in out, out
    assert b"closed/eicar.com" not in out and b"secret.com: EICAR" not in out, out
    # A symbolic link is not followed, to a file nobody cannot read or any.
    link = f("link.com")
    os.symlink(f("secret.com"), link)
    try:
        assert as_nobody(box, "nSCAN %s" % link) == \
            b"%s: File path check failure: Too many levels of symbolic links. ERROR\n" % \
            link.encode()
    finally:
        os.unlink(link)


def clamdscan():
    p = shutil.which("clamdscan")
    if p is None:
        pytest.fail("clamdscan (Debian's clamdscan package) is needed: make deps",
                    pytrace=False)
    return p


@pytest.mark.parametrize("mode", ["", "--stream", "--fdpass", "--multiscan", "--allmatch"])
def test_clamdscan(box, mode):
    conf = os.path.join(box.dir, "clamdscan.conf")
    with open(conf, "w") as fh:
        fh.write("LocalSocket %s\n" % box.sock)
    args = [clamdscan(), "--config-file=" + conf, "--no-summary"] + ([mode] if mode else [])
    p = subprocess.run(args + [box.f("tree"), box.f("clean.txt")], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    out = p.stdout.decode()
    assert p.returncode == 1, (p.returncode, out, p.stderr)
    assert "%s: EICAR_Test_File FOUND" % box.f("tree/sub/eicar.com") in out, out
    assert "%s: OK" % box.f("clean.txt") in out, out
    # ALLMATCHSCAN: the file's hash signature as well as its rule.
    assert ("%s: EICAR_Test_File_SHA256 FOUND" % box.f("tree/sub/eicar.com") in out) == \
        (mode == "--allmatch"), out
    assert "a.txt" not in out or "a.txt: OK" in out, out
    p = subprocess.run(args + [box.f("cleantree")], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    assert p.returncode == 0, (p.stdout, p.stderr)
    p = subprocess.run([clamdscan(), "--config-file=" + conf, "-V"], stdout=subprocess.PIPE,
                       timeout=60)
    assert p.stdout.startswith(b"ClamAV ward-"), p.stdout


# The reference: Debian's clamd with a signature of the same bytes.
@pytest.fixture(scope="module")
def real_clamd(box):
    exe = shutil.which("clamd") or "/usr/sbin/clamd"
    if not os.path.exists(exe):
        pytest.fail("clamd (Debian's clamav-daemon package) is needed: make deps",
                    pytrace=False)
    d = os.path.join(box.dir, "clamd")
    os.makedirs(os.path.join(d, "db"))
    open(os.path.join(d, "log"), "w").close()
    with open(os.path.join(d, "db", "eicar.ndb"), "w") as fh:
        fh.write("EICAR_Test_File:0:0:%s\n" % EICAR.hex())
    sock = os.path.join(d, "clamd.sock")
    conf = os.path.join(d, "clamd.conf")
    with open(conf, "w") as fh:
        fh.write("LocalSocket %s\nDatabaseDirectory %s/db\nForeground yes\nLogFile %s/log\n"
                 "TemporaryDirectory %s\nUser root\nStreamMaxLength %d\n"
                 "ReadTimeout %d\nCommandReadTimeout %d\n" % (
                     sock, d, d, d, STREAM_MAX, READ_TIMEOUT_S, READ_TIMEOUT_S))
    p = subprocess.Popen([exe, "--foreground", "--config-file=" + conf],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        end = time.time() + 30
        while not os.path.exists(sock):
            assert p.poll() is None, "clamd exited: %s" % open(os.path.join(d, "log")).read()
            assert time.time() < end, "clamd did not listen within 30 s"
            time.sleep(0.05)
        yield sock
    finally:
        p.terminate()
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def test_answers_as_clamd(box, real_clamd):
    """The same requests to both: the same bytes back (clamd names the
    signature of an unofficial database NAME.UNOFFICIAL).  Left out on
    purpose: SHUTDOWN (clamd 1.4 obeys it, ward refuses it), VERSION (ward
    names itself), and an old-form command after another in one packet
    (clamd waits for the read timeout, ward answers at once)."""
    f = box.f
    reqs = [b"zPING\0", b"nPING\n", b"PING\n", b"nFOO\n", b"FOO\n", b"INSTREAM\n", b"z\0",
            b"nPING x\n", b"nEND\n", b"nRELOAD\n",
            b"nSCAN %s\n" % f("none").encode(), b"nSCAN %s\n" % f("clean.txt").encode(),
            b"zSCAN %s\0" % f("eicar.com").encode(), b"nSCAN /dev/null\n",
            b"nSCAN %s\n" % f("fifo").encode(), b"nCONTSCAN %s\n" % f("specials").encode(),
            b"nCONTSCAN %s\n" % f("cleantree").encode(),
            b"nCONTSCAN %s\n" % f("tree").encode(),
            stream(b"clean"), stream(EICAR, b"n"), stream(b""),
            b"nINSTREAM\n" + struct.pack(">I", STREAM_MAX + 1),
            stream(b"a" * (STREAM_MAX + 10), b"z", 65536),
            b"nIDSESSION\nnPING\nnRELOAD\n",
            b"zIDSESSION\0zPING\0" + stream(EICAR) + b"zEND\0",
            b"nFILDES\n\0"]
    for r in reqs:
        want = ask(real_clamd, r).replace(b".UNOFFICIAL", b"")
        got = ask(box.sock, r)
        if r.startswith(b"zIDSESSION"):  # clamd may answer a session out of order
            want, got = sorted(want.split(b"\0")), sorted(got.split(b"\0"))
        assert got == want, (r[:60], got, want)


def test_tcp_path_user_and_connection_bound(box):
    """A second agent: TCP path commands opened as clamd.tcp_path_user, the
    agent's exceptions, and at most clamd.max_connections clients at once."""
    ward = Ward(ward_path())
    d = os.path.join(box.dir, "agent2")
    os.makedirs(d)
    tcp = free_port()
    sock = os.path.join(box.dir, "clamd2.sock")
    rel_pub = os.path.join(box.dir, "keys", "release.pub")
    a = Agent(ward, d, [rel_pub], extra=[
        "initial_content: %s" % os.path.join(box.dir, "v1.wbundle"),
        "clamd:", "  enabled: yes", "  socket: %s" % sock, "  socket_mode: \"0600\"",
        "  tcp_port: %d" % tcp, "  tcp_path_user: nobody", "  max_connections: 2",
        "  read_timeout_s: %d" % READ_TIMEOUT_S,
        "exceptions: [\"sha256:%s\"]" % hashlib.sha256(EICAR).hexdigest()])
    a.start()
    try:
        a.wait_for(lambda st: st.get("mode") == "protecting", what="content active")
        assert oct(os.stat(sock).st_mode & 0o777) == "0o600"
        f = box.f
        assert ask(None, b"nSCAN %s\n" % f("eicar2.com").encode(), tcp=tcp) == \
            b"%s: EICAR_Test_File FOUND\n" % f("eicar2.com").encode()
        # The agent's exceptions hold here too: these bytes are excepted.
        assert ask(None, b"nSCAN %s\n" % f("eicar.com").encode(), tcp=tcp) == \
            b"%s: OK\n" % f("eicar.com").encode()
        assert ask(None, stream(EICAR), tcp=tcp) == b"stream: OK\0"
        assert ask(None, stream(EICAR + b"\n"), tcp=tcp) == b"stream: EICAR_Test_File FOUND\0"
        assert ask(None, b"nSCAN %s\n" % f("secret.com").encode(), tcp=tcp) == \
            b"%s: Access denied. ERROR\n" % f("secret.com").encode()
        # (A client sees its answer's end before its thread is gone.)
        time.sleep(0.5)
        held = []
        for _ in range(2):
            s = socket.socket(socket.AF_UNIX)
            s.connect(sock)
            held.append(s)
        time.sleep(0.2)
        for s in held:  # both taken: open, nothing to read yet
            s.setblocking(False)
            with pytest.raises(BlockingIOError):
                s.recv(10)
        # The third is closed at once, unanswered ...
        t0 = time.time()
        try:
            got = ask(sock, b"nPING\n")
        except (ConnectionResetError, BrokenPipeError):
            got = b""
        assert got == b""
        assert time.time() - t0 < 1.0
        for s in held:
            s.close()
        # ... and served once the others are gone.
        end = time.time() + 5
        while True:
            try:
                if ask(sock, b"nPING\n") == b"PONG\n":
                    break
            except (ConnectionResetError, BrokenPipeError):
                pass
            assert time.time() < end, "the bound was not given back"
            time.sleep(0.05)
    finally:
        a.stop()


def test_huge_sparse_files_are_not_scanned(box):
    """A size the client chooses for free (a memfd ftruncate'd to 2^56
    bytes, a sparse file) is answered at once as clamd answers a file over
    MaxFileSize (OK), no scanner reads it for hours or dies on it, and
    the agent goes on serving; a file within the limit is still scanned."""
    st = box.agent.status()["scanners"]
    crashes, scans = st["crashes"], st["scans"]
    s = box.sock
    big = box.f("huge.bin")
    with open(big, "wb") as f:
        f.write(EICAR)
        f.truncate(1 << 43)  # 8 TiB of holes (ext4 allows 16 TiB)
    within = box.f("within.bin")
    with open(within, "wb") as f:
        f.write(EICAR)
        f.truncate(MAX_FILESIZE)
    try:
        t0 = time.time()
        for size in (1 << 56, 72057601000000, MAX_FILESIZE + 1):
            fd = os.memfd_create("x", 0)
            try:
                os.write(fd, EICAR)
                os.ftruncate(fd, size)
                out = ask(s, (b"zFILDES\0", b"\0"), fds=[fd], timeout=5)
            finally:
                os.close(fd)
            assert out.startswith(b"fd[") and out.endswith(b"]: OK\0"), (size, out)
        assert ask(s, b"zSCAN %s\0" % big.encode(), timeout=5) == b"%s: OK\0" % big.encode()
        assert time.time() - t0 < 3.0
        assert box.agent.status()["scanners"]["scans"] == scans  # none reached a scanner
        assert ask(s, b"zSCAN %s\0" % within.encode(), timeout=10) == \
            b"%s: OK\0" % within.encode()
        assert ask(s, b"zPING\0") == b"PONG\0"
        st = box.agent.status()["scanners"]
        assert st["crashes"] == crashes
        assert st["scans"] == scans + 1
    finally:
        os.unlink(big)
        os.unlink(within)


SLOW_CLIENT = r"""
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
time.sleep(float(sys.argv[3]))  # reads nothing (0: gone at once)
s.close()
"""


def vm_hwm(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM for %d" % pid)


def test_walk_answers_do_not_pile_up(box):
    """A walk that answers thousands of unreadable entries with ~4 KiB
    names (~19 MiB of answers each) to clients that read nothing or are
    gone: the worker holds at most a little of it (its peak RSS stays
    within a few MiB), others are served meanwhile.  (Each walk runs
    longer than the test: answers that pile up show at once.)"""
    top = os.path.join(box.dir, "deep")
    d = top
    for i in range(14):
        d = os.path.join(d, "%02d" % i + "d" * 248)
        os.makedirs(d)
    for d2, _, _ in os.walk(top):
        os.chmod(d2, 0o755)
    base = os.path.join(d, "f" * 240)
    for i in range(5000):
        os.close(os.open("%s%05d" % (base, i), os.O_CREAT | os.O_WRONLY, 0o000))
    uid, gid = nobody()
    pid = box.agent.worker_pid()
    try:
        with open("/proc/%d/clear_refs" % pid, "w") as f:
            f.write("5")  # the peak RSS from now on
        before = vm_hwm(pid)
        procs = [subprocess.Popen(
            ["setpriv", "--reuid=%d" % uid, "--regid=%d" % gid, "--clear-groups",
             "--no-new-privs", "--", "/usr/bin/python3", "-c", SLOW_CLIENT, box.sock,
             "nCONTSCAN " + d, str(wait)]) for wait in (4, 4, 4, 0)]
        try:
            time.sleep(1)
            t0 = time.time()
            assert ask(box.sock, b"zPING\0") == b"PONG\0"
            assert ask(box.sock, stream(EICAR)) == b"stream: EICAR_Test_File FOUND\0"
            assert time.time() - t0 < 1.0
            for p in procs:
                assert p.wait(timeout=20) == 0
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
                    p.wait()
        grew = vm_hwm(pid) - before
        assert grew < 12 << 20, "the worker's peak RSS grew by %d bytes" % grew
        assert ask(box.sock, b"zPING\0") == b"PONG\0"
    finally:
        shutil.rmtree(top, ignore_errors=True)


PROBE_CLIENT = r"""
import socket, sys
for n in range(3, 400):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    s.sendall(b"nSCAN /proc/self/fd/%d/%s\n" % (n, sys.argv[2].encode()))
    out = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        out += b
    s.close()
    sys.stdout.buffer.write(out)
"""


def test_proc_magic_links_are_not_followed(box):
    """While a root client's walk holds a directory the worker opened
    below one only root may enter, a user asks for /proc/self/fd/N/NAME
    for every N: the worker's own magic links are not followed for it
    (nor /proc/self/cwd, /proc/self/root), it learns nothing."""
    closed = os.path.join(box.dir, "closed2")
    held = os.path.join(closed, "held")
    os.makedirs(held)
    os.chmod(closed, 0o700)
    name = "x" * 240
    for i in range(1500):  # ~1500 answers of ~340 bytes: more than a socket holds
        with open(os.path.join(held, "%s%04d" % (name, i)), "wb") as f:
            f.write(EICAR)
    uid, gid = nobody()
    root = socket.socket(socket.AF_UNIX)
    try:
        root.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        root.connect(box.sock)
        root.sendall(b"nCONTSCAN %s\n" % held.encode())  # read nothing: the walk waits
        time.sleep(0.5)
        p = subprocess.run(["setpriv", "--reuid=%d" % uid, "--regid=%d" % gid,
                            "--clear-groups", "--no-new-privs", "--", "/usr/bin/python3", "-c",
                            PROBE_CLIENT, box.sock, name + "0000"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        assert p.returncode == 0, p.stderr
        assert b"FOUND" not in p.stdout and b": OK" not in p.stdout, p.stdout[:2000]
        assert p.stdout.count(b" ERROR\n") == 397
    finally:
        root.close()
    for path in ("/proc/self/cwd" + box.f("eicar.com"), "/proc/self/root" + box.f("eicar.com"),
                 "/proc/%d/root%s" % (box.agent.worker_pid(), box.f("eicar.com"))):
        out = ask(box.sock, b"nSCAN %s\n" % path.encode())
        assert out.endswith(b" ERROR\n") and b"FOUND" not in out, out
    assert ask(box.sock, b"zPING\0") == b"PONG\0"
    shutil.rmtree(closed, ignore_errors=True)


HOG_CLIENT = r"""
import socket, sys, time
path, n = sys.argv[1], int(sys.argv[2])
held = []
for _ in range(n):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    held.append(s)
time.sleep(0.3)
s = socket.socket(socket.AF_UNIX)
s.connect(path)
s.settimeout(3)
try:
    s.sendall(b"nPING\n")
    got = s.recv(100)
except (ConnectionResetError, BrokenPipeError):
    got = b""
sys.stdout.buffer.write(b"extra:" + got + b"|")
sys.stdout.flush()
sys.stdin.read()  # held until the test says
"""


def as_user(uid, code, *args, **kw):
    return subprocess.Popen(["setpriv", "--reuid=%d" % uid, "--regid=%d" % uid, "--clear-groups",
                             "--no-new-privs", "--", "/usr/bin/python3", "-c", code, *args],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, **kw)


def test_per_user_connections_and_command_deadline(box):
    """One user holds clamd.max_connections_per_user connections: its next
    is closed unanswered, another user is still answered.  A command line
    or an INSTREAM trickled a byte at a time ends after read_timeout_s in
    all, not only after read_timeout_s of silence."""
    uid, _ = nobody()
    hog = as_user(uid, HOG_CLIENT, box.sock, str(PER_USER))
    try:
        got = b""
        while not got.endswith(b"|"):
            b = hog.stdout.read(1)
            assert b, "the client ended"
            got += b
        assert got == b"extra:|", got
        other = as_user(4242, CLIENT, box.sock, "nPING")
        out, _ = other.communicate(timeout=10)
        assert out == b"PONG\n"
        assert ask(box.sock, b"zPING\0") == b"PONG\0"  # root is not counted
    finally:
        hog.stdin.close()
        hog.wait(timeout=10)
    # Trickled: a byte every 0.4 s never lets a read time out.
    for head, body, answer in ((b"", b"nSCAN /" + b"a" * 40 + b"\n", b"COMMAND READ TIMED OUT\n"),
                               (b"zINSTREAM\0" + struct.pack(">I", 1000), b"x" * 40, b"")):
        s = socket.socket(socket.AF_UNIX)
        s.connect(box.sock)
        t0 = time.time()
        s.sendall(head)
        closed = False
        for c in body:
            try:
                s.sendall(bytes([c]))
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            s.setblocking(False)
            try:
                got = s.recv(100)
            except BlockingIOError:
                got = None
            s.setblocking(True)
            if got is not None:
                closed = True
                assert got == answer, got
                break
            time.sleep(0.4)
        took = time.time() - t0
        s.close()
        assert closed and took < READ_TIMEOUT_S + 1.5, (head, took)
    assert ask(box.sock, b"zPING\0") == b"PONG\0"


def test_socket_directory_others_may_write_is_refused(box):
    """The socket is made and given its owner by name as root: in a
    directory another user may write (here 1777, as /tmp) it could be
    swapped for a link to /etc/shadow between bind and chown, so the
    agent does not serve there (and says why); it runs on without it."""
    ward = Ward(ward_path())
    d = os.path.join(box.dir, "agent3")
    os.makedirs(d)
    open_dir = os.path.join(box.dir, "open")
    os.makedirs(open_dir)
    os.chmod(open_dir, 0o1777)
    sock = os.path.join(open_dir, "clamd.sock")
    a = Agent(ward, d, [os.path.join(box.dir, "keys", "release.pub")], extra=[
        "clamd:", "  enabled: yes", "  socket: %s" % sock])
    a.start()
    try:
        end = time.time() + 10
        while "is not a directory only root may write to" not in a.read_log():
            assert time.time() < end, a.read_log()
            time.sleep(0.1)
        assert not os.path.lexists(sock)
        assert a.status()["pid"] > 0
    finally:
        a.stop()


def test_newline_in_a_name_forges_no_answer(box):
    """A file named "x: OK\\nforged: Eicar FOUND" (EICAR inside): in answers
    that end in a newline it is one ERROR line with '?' for the newline,
    never a line of its own; z answers name it raw."""
    d = os.path.join(box.dir, "nl")
    os.makedirs(d)
    bad = os.path.join(d, "x: OK\nforged: Eicar FOUND")
    with open(bad, "wb") as f:
        f.write(EICAR)
    try:
        for cmd in (b"nCONTSCAN %s\n", b"CONTSCAN %s\n", b"nSCAN %s\n"):
            out = ask(box.sock, cmd % d.encode())
            lines = out.split(b"\n")
            assert lines[0] == b"%s/x: OK?forged: Eicar FOUND: Not supported file name ERROR" % \
                d.encode(), out
            assert not any(l.startswith(b"forged") for l in lines), out
        assert ask(box.sock, b"zCONTSCAN %s\0" % d.encode()) == \
            b"%s: EICAR_Test_File FOUND\0" % bad.encode()
    finally:
        shutil.rmtree(d, ignore_errors=True)
