"""
wardd against a hostile fleet server.  The agent runs as root and the
server is not trusted: a fake server of the test's own (HTTPS with a
self-signed certificate made by `openssl req`) enrolls the agent, answers
its check-ins with what an attacker would send, and serves bundle
downloads the way an attacker would.  Each case asserts that nothing
outside STATE_DIR/downloads was touched, that the downloads directory
never held more than the announced size, that the agent's memory stayed
bounded, and that the agent kept running and said why it refused.
"""

import hashlib
import http.server
import json
import os
import shutil
import ssl
import subprocess
import tempfile
import threading
import time

import pytest

from agentlib import Agent, Keys, crafted
from serverlib import agent_server_lines

PREFIX = "/api/v1/bundles/"
MiB = 1 << 20


class HostileFleet:
    """A fleet server that enrolls anyone and answers check-ins with
    self.desired(n) (n: the check-in's number); bundle downloads go to
    self.on_bundle(handler, n) (n: the download's number)."""

    def __init__(self, d):
        self.d = str(d)
        self.key = os.path.join(self.d, "key.pem")
        self.ca = os.path.join(self.d, "cert.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", self.key, "-out",
                        self.ca, "-days", "2", "-subj", "/CN=127.0.0.1", "-addext",
                        "subjectAltName=IP:127.0.0.1"], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        self.desired = lambda n: None
        # The n-th check-in answer as sent: the default is the answer itself.
        self.mangle = lambda n, ans: ans
        # The n-th enrollment answer: (status, JSON); the default a good one.
        self.enroll = lambda n: (200, {"agent_id": "ab" * 16, "secret": "cd" * 32,
                                       "how": "new"})
        self.enrolls = 0
        self.auth = []  # the Authorization headers of check-ins
        self.on_bundle = lambda h, n: h.send_error(404)
        self.lock = threading.Lock()
        self.checkins = 0
        self.downloads = []  # the Range header of each bundle request (or None)
        self.streams = []  # (bytes sent, whether the agent hung up) of streamed answers
        self.acked = 0
        fleet = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def reply(self, obj, status=200):
                data = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
                if self.path == "/api/v1/enroll":
                    with fleet.lock:
                        n = fleet.enrolls
                        fleet.enrolls += 1
                    status, ans = fleet.enroll(n)
                    self.reply(ans, status)
                elif self.path == "/api/v1/checkin":
                    with fleet.lock:
                        fleet.auth.append(self.headers.get_all("Authorization"))
                        fleet.auth.append([k for k in self.headers.keys()
                                           if k.lower() == "x-evil"])
                        n = fleet.checkins
                        fleet.checkins += 1
                        acked = fleet.acked
                    ans = {"next_checkin_s": 0, "events_acked": acked}
                    desired = fleet.desired(n)
                    if desired is not None:
                        ans["desired"] = desired
                    self.reply(fleet.mangle(n, ans))
                elif self.path == "/api/v1/events":
                    with fleet.lock:
                        fleet.acked = max([fleet.acked] + [e["seq"] for e in body["events"]])
                        acked = fleet.acked
                    self.reply({"acked": acked})
                else:
                    self.send_error(404)

            def do_GET(self):
                if not self.path.startswith(PREFIX):
                    self.send_error(404)
                    return
                with fleet.lock:
                    n = len(fleet.downloads)
                    fleet.downloads.append(self.headers.get("Range"))
                fleet.on_bundle(self, n)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.ca, self.key)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.url = "https://127.0.0.1:%d" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def wait(self, pred, timeout, what):
        end = time.time() + timeout
        while time.time() < end:
            with self.lock:
                if pred(self):
                    return
            time.sleep(0.05)
        raise AssertionError("timed out waiting for %s (check-ins %d, downloads %s, streams %s)"
                             % (what, self.checkins, self.downloads, self.streams))


def stream_zeros(h, fleet, total, chunk=64 * 1024):
    """A chunked 200 answer of total zero bytes; records how far it got."""
    sent, hung_up = 0, False
    h.send_response(200)
    h.send_header("Content-Type", "application/octet-stream")
    h.send_header("Transfer-Encoding", "chunked")
    h.end_headers()
    block = b"%x\r\n" % chunk + b"\0" * chunk + b"\r\n"
    try:
        while sent < total:
            h.wfile.write(block)
            sent += chunk
        h.wfile.write(b"0\r\n\r\n")
    except (OSError, ssl.SSLError):
        hung_up = True
    h.close_connection = True
    with fleet.lock:
        fleet.streams.append((sent, hung_up))


def send_bundle(h, data, status=200, content_range=None, hold=None, first=0):
    """data as the answer's body; with hold, the first `first` bytes, then
    a wait for the event, then the rest."""
    h.send_response(status)
    h.send_header("Content-Type", "application/octet-stream")
    h.send_header("Content-Length", str(len(data)))
    if content_range:
        h.send_header("Content-Range", content_range)
    h.end_headers()
    try:
        if hold is not None:
            h.wfile.write(data[:first])
            h.wfile.flush()
            hold.wait(20)
            data = data[first:]
        h.wfile.write(data)
    except (OSError, ssl.SSLError):
        h.close_connection = True


def vm_hwm_kib(pid):
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM for %d" % pid)


def files_under(d):
    out = {}
    for root, _, names in os.walk(d):
        for n in names:
            p = os.path.join(root, n)
            out[p] = os.lstat(p).st_size
    return out


@pytest.fixture
def hostile(ward, tmp_path):
    if os.geteuid() != 0:
        pytest.fail("the wardd tests run as root (make check runs them so)", pytrace=False)
    fleet = HostileFleet(tmp_path)
    keys = Keys(ward, str(tmp_path / "keys"))
    rel = keys.make("release")
    agents = []

    class H:
        pass

    h = H()
    h.fleet, h.ward, h.tmp, h.rel = fleet, ward, tmp_path, rel

    def agent():
        d = tmp_path / "agent"
        d.mkdir()
        lines = agent_server_lines(fleet, "any-token", str(tmp_path / "ids" / "a"))
        a = Agent(ward, d, [rel[1]], extra=lines)
        agents.append(a)
        a.start()
        a.wait_for(lambda st: st.get("uplink", {}).get("state") == "enrolled", 20,
                   "enrollment with the hostile server")
        return a

    h.agent = agent
    yield h
    for a in agents:
        a.stop()
    fleet.stop()


def test_server_identity_and_words_are_checked(hostile):
    """An enrollment answer whose agent id would put a header line of the
    server's choosing into every later request is refused; the server's
    error text, with terminal escapes and line breaks, reaches the log and
    the status escaped; a well-formed answer is then taken."""
    answers = [
        (200, {"agent_id": "ab" * 15 + "\r\nX-Evil: 1", "secret": "cd" * 32, "how": "new"}),
        (200, {"agent_id": "ab" * 16, "secret": "cd" * 31 + "\r\n", "how": "new"}),
        (500, {"error": "busy\x1b[2J\nward: forged log line"}),
    ]
    hostile.fleet.enroll = lambda n: answers[n] if n < len(answers) else (
        200, {"agent_id": "ab" * 16, "secret": "cd" * 32, "how": "new\x1b[31m"})
    a = hostile.agent()  # enrolled in the end
    assert a.status()["uplink"]["agent_id"] == "ab" * 16
    hostile.fleet.wait(lambda f: f.checkins >= 2, 20, "check-ins")
    with hostile.fleet.lock:
        auth = list(hostile.fleet.auth)
    assert ["Bearer " + "ab" * 16 + ":" + "cd" * 32] in auth and [] in auth
    assert ["X-Evil"] not in auth and ["x-evil"] not in auth
    log = a.read_log()
    assert "malformed" in log
    assert "\x1b" not in log and "\nward: forged" not in log
    assert "busy\\x1b[2J\\x0award: forged log line" in log
    assert "new\\x1b[31m" in log


def traversal(downloads, target):
    """A 64-character "sha256" that makes downloads/<it>.part name target.part."""
    prefix = "../" * 12
    rest = target.lstrip("/")
    fill = 64 - len(prefix) - len(rest)
    assert fill >= 0, target
    sha = prefix + "./" * (fill // 2) + "/" * (fill % 2) + rest
    assert len(sha) == 64
    assert os.path.normpath(os.path.join(downloads, sha + ".part")) == target + ".part"
    return sha


def test_server_strings_never_reach_the_file_system(hostile):
    """desired.sha256 = a path to a file outside the agent's directory,
    padded to 64 characters (and other malformed "desired" objects): the
    agent touches no file, fetches nothing, keeps running and says why."""
    outside = tempfile.mkdtemp(prefix="wv", dir="/tmp")
    try:
        victim = os.path.join(outside, "victim")
        with open(victim + ".part", "wb") as f:
            f.write(b"precious bytes of someone else\n")
        before = os.lstat(victim + ".part")
        good = "ab" * 32
        a = hostile.agent()
        downloads = os.path.join(a.state, "downloads")
        pid = a.worker_pid()
        evil = [
            # the finding: an existing file to append to or remove, and a new one to create
            {"version": 7, "sha256": traversal(downloads, victim), "size": 100,
             "url": PREFIX + "x"},
            {"version": 7, "sha256": traversal(downloads, os.path.join(outside, "created")),
             "size": 100, "url": PREFIX + "x"},
            {"version": 7, "sha256": good.upper(), "size": 100, "url": PREFIX + good.upper()},
            {"version": 7, "sha256": good, "size": 100, "url": PREFIX + "../../../" + good},
            {"version": 7, "sha256": good, "size": 100, "url": PREFIX + good + "?x=/../.."},
            {"version": 7, "sha256": good, "size": (1 << 30) + 1, "url": PREFIX + good},
            {"version": 7, "sha256": good, "size": -5, "url": PREFIX + good},
            {"version": "7", "sha256": good, "size": 100, "url": PREFIX + good},
            {"version": 7.5, "sha256": good, "size": 100, "url": PREFIX + good},
        ]
        hostile.fleet.desired = lambda n: evil[n % len(evil)]
        n0 = hostile.fleet.checkins
        hostile.fleet.wait(lambda f: f.checkins >= n0 + 2 * len(evil) + 1, 40,
                           "every hostile answer twice")
        after = os.lstat(victim + ".part")
        assert open(victim + ".part", "rb").read() == b"precious bytes of someone else\n"
        assert (after.st_ino, after.st_size, after.st_mtime_ns) == (
            before.st_ino, before.st_size, before.st_mtime_ns)
        assert sorted(os.listdir(outside)) == ["victim.part"], os.listdir(outside)
        assert hostile.fleet.downloads == [], "fetched with a refused desired"
        assert not os.path.isdir(downloads) or files_under(downloads) == {}
        # still running, same worker, and it said why
        assert a.proc.poll() is None
        assert a.worker_pid() == pid
        log = a.read_log()
        for why in ['"sha256" must be 64 lowercase hex digits, not "../../../',
                    '"url" must be "/api/v1/bundles/<sha256>"', '"size" must be an integer',
                    '"version" must be an integer']:
            assert why in log, (why, log)
        # a bounded number of lines, however often the server repeats itself
        assert log.count("refused the fleet server's desired content") <= 10, log
    finally:
        shutil.rmtree(outside, ignore_errors=True)


def test_oversized_chunked_download_is_cut_off(hostile):
    """The bundle download answers a chunked body far larger than the size
    announced (and than BUNDLE_MAX_SIZE would allow on disk): the agent
    hangs up early, keeps no more than the announced size on disk and
    does not read it into memory."""
    size = 1 * MiB
    sha = hashlib.sha256(b"what the server says").hexdigest()
    a = hostile.agent()
    downloads = os.path.join(a.state, "downloads")
    pid = a.worker_pid()
    hwm0 = vm_hwm_kib(pid)
    # a stale part of an earlier download is not left to add to the disk
    os.makedirs(downloads, mode=0o700, exist_ok=True)
    with open(os.path.join(downloads, "ab" * 32 + ".part"), "wb") as f:
        f.write(b"\0" * 4096)
    hostile.fleet.on_bundle = lambda h, n: stream_zeros(h, hostile.fleet, 200 * MiB)
    hostile.fleet.desired = lambda n: {"version": 3, "sha256": sha, "size": size,
                                       "url": PREFIX + sha}
    biggest = [0]

    def watch(f):
        total = sum(files_under(downloads).values())
        biggest[0] = max(biggest[0], total)
        return len(f.streams) >= 3

    hostile.fleet.wait(watch, 60, "three download attempts")
    for sent, hung_up in hostile.fleet.streams:
        assert hung_up, hostile.fleet.streams
        assert sent < 32 * MiB, hostile.fleet.streams
    assert biggest[0] <= size, biggest[0]
    assert all(n <= size for n in files_under(downloads).values()), files_under(downloads)
    assert not os.path.exists(os.path.join(downloads, "ab" * 32 + ".part"))
    assert vm_hwm_kib(pid) - hwm0 < 64 * 1024, (hwm0, vm_hwm_kib(pid))
    assert a.proc.poll() is None and a.worker_pid() == pid
    log = a.read_log()
    assert "the server sent more than the %d bytes it announced" % size in log, log
    assert "the partial download is removed" in log, log


def left_part(a, part, data):
    """A part file as an interrupted download leaves it: the worker's
    (root's), in its private downloads directory."""
    os.makedirs(os.path.dirname(part), mode=0o700, exist_ok=True)
    with open(part, "wb") as f:
        f.write(data)


def test_partial_answer_with_the_wrong_range_is_discarded(hostile):
    """A partial download is resumed with Range: bytes=K-, and the server
    answers 206 for bytes 0-...: none of that body is appended to the part,
    the part is removed, and the next request starts over (and succeeds)."""
    fleet = hostile.fleet
    data = crafted(5, hostile.rel, str(hostile.tmp))
    sha = hashlib.sha256(data).hexdigest()
    k = 200
    hold = threading.Event()
    a = hostile.agent()
    downloads = os.path.join(a.state, "downloads")
    part = os.path.join(downloads, sha + ".part")
    left_part(a, part, data[:k])

    def on_bundle(h, n):
        if h.headers.get("Range"):
            send_bundle(h, data, 206, "bytes 0-%d/%d" % (len(data) - 1, len(data)), hold=hold,
                        first=500)
        else:
            send_bundle(h, data)

    fleet.on_bundle = on_bundle
    fleet.desired = lambda n: {"version": 5, "sha256": sha, "size": len(data),
                               "url": PREFIX + sha}
    try:
        fleet.wait(lambda f: len(f.downloads) >= 1, 20, "the resumed download")
        # While the answer is held open after 500 bytes: nothing appended.
        end = time.time() + 1.5
        while time.time() < end:
            assert open(part, "rb").read() == data[:k]
            time.sleep(0.05)
    finally:
        hold.set()
    st = a.wait_for(lambda st: (st["content"].get("current") or {}).get("version") == 5, 30,
                    "version 5 active")
    assert fleet.downloads[0] == "bytes=%d-" % k, fleet.downloads
    assert fleet.downloads[1] is None, fleet.downloads  # started over
    assert st["mode"] == "protecting"
    assert files_under(downloads) == {}
    log = a.read_log()
    assert "the server answered bytes 0-%d/%d to a request for %d-" % (
        len(data) - 1, len(data), k) in log, log
    assert "has the sha256" not in log, log  # nothing was appended and then found wrong


def test_partial_download_resumes(hostile):
    """The same, with a server that answers the range asked: the part is
    extended, not fetched again, and the bundle is activated."""
    fleet = hostile.fleet
    data = crafted(6, hostile.rel, str(hostile.tmp))
    sha = hashlib.sha256(data).hexdigest()
    k = 300
    a = hostile.agent()
    downloads = os.path.join(a.state, "downloads")
    left_part(a, os.path.join(downloads, sha + ".part"), data[:k])

    def on_bundle(h, n):  # an honest server: the range asked, if any
        rng = h.headers.get("Range") or "bytes=0-"
        first = int(rng[len("bytes="):-1])
        send_bundle(h, data[first:], 206, "bytes %d-%d/%d" % (first, len(data) - 1, len(data)))

    fleet.on_bundle = on_bundle
    fleet.desired = lambda n: {"version": 6, "sha256": sha, "size": len(data),
                               "url": PREFIX + sha}
    a.wait_for(lambda st: (st["content"].get("current") or {}).get("version") == 6, 30,
               "version 6 active")
    assert fleet.downloads[0] == "bytes=%d-" % k, fleet.downloads
    assert None not in fleet.downloads, fleet.downloads  # never fetched again from 0
    assert files_under(downloads) == {}


def test_downloads_directory_must_be_private(hostile):
    """STATE_DIR/downloads as a symlink to a directory elsewhere: the agent
    writes nothing through it and says why."""
    outside = tempfile.mkdtemp(prefix="wv", dir="/tmp")
    try:
        data = crafted(4, hostile.rel, str(hostile.tmp))
        sha = hashlib.sha256(data).hexdigest()
        a = hostile.agent()
        downloads = os.path.join(a.state, "downloads")
        if os.path.isdir(downloads):
            os.rmdir(downloads)
        os.symlink(outside, downloads)
        hostile.fleet.on_bundle = lambda h, n: send_bundle(h, data)
        hostile.fleet.desired = lambda n: {"version": 4, "sha256": sha, "size": len(data),
                                           "url": PREFIX + sha}
        n0 = hostile.fleet.checkins
        hostile.fleet.wait(lambda f: f.checkins >= n0 + 4, 20, "check-ins")
        assert os.listdir(outside) == []
        assert hostile.fleet.downloads == []
        assert "refusing %s: not a directory" % downloads in a.read_log(), a.read_log()
        # made private again, the same desired content is fetched
        os.unlink(downloads)
        a.wait_for(lambda st: (st["content"].get("current") or {}).get("version") == 4, 30,
                   "version 4 active")
    finally:
        shutil.rmtree(outside, ignore_errors=True)


def test_unsigned_release_is_refused_under_the_version_sent(hostile):
    """A bundle that is not signed by a trusted key (here: an untrusted
    key, and a manifest that claims another version) is refused for its
    signature, recorded under the version the server said it was — the
    unsigned manifest's own claim is never read — so the server's gate
    hears which release was refused; and it is not fetched again."""
    fleet = hostile.fleet
    other = Keys(hostile.ward, str(hostile.tmp / "other")).make("other")
    data = crafted(99, other, str(hostile.tmp))
    sha = hashlib.sha256(data).hexdigest()
    fleet.on_bundle = lambda h, n: send_bundle(h, data)
    fleet.desired = lambda n: {"version": 7, "sha256": sha, "size": len(data),
                               "url": PREFIX + sha}
    a = hostile.agent()
    st = a.wait_for(lambda st: st["content"].get("rejected"), 30, "a refusal")
    rej = st["content"]["rejected"]
    assert [(r["version"], r["cause"]) for r in rej] == [(7, "signature")], rej
    assert st["content"].get("current") is None
    time.sleep(3)  # more check-ins: refused here already, not fetched again
    assert len(fleet.downloads) == 1, fleet.downloads


def test_answer_outside_the_protocol_is_a_failed_checkin(hostile):
    """Check-in answers whose fields have the wrong type or range (a
    negative or huge interval, an acknowledgement that is a string, an
    upload batch beyond any bound, exceptions that are a list) are each
    refused whole as a failed check-in naming the field — the agent keeps
    running and keeps calling — and a malformed desired object refuses only
    the content offered; well-formed answers are then taken again."""
    fleet = hostile.fleet
    bad = [
        ("next_checkin_s", -5),
        ("events_acked", "12"),
        ("config", {"events_batch_max": 10 ** 12}),
        ("exceptions", [1, 2]),
    ]
    seen = []

    def mangle(n, ans):
        if 1 <= n <= len(bad):
            key, value = bad[n - 1]
            ans = dict(ans)
            ans[key] = value
        return ans

    fleet.mangle = mangle
    fleet.desired = lambda n: ({"version": 5, "sha256": "zz", "size": 1,
                                "url": PREFIX + "zz"} if n > len(bad) else None)
    a = hostile.agent()
    end = time.time() + 60
    keys = ("next_checkin_s", "events_acked", "events_batch_max", "exceptions")
    while time.time() < end and not all(any(k in e for e in seen) for k in keys):
        err = a.status().get("uplink", {}).get("error") or ""
        if "check-in answer" in err and err not in seen:
            seen.append(err)
        time.sleep(0.05)
    for key in keys:
        assert any(key in e for e in seen), (key, seen)
    # the bad desired object: refused, nothing fetched, and check-ins go on
    end = time.time() + 30
    while time.time() < end and "refused the fleet server's desired content" not in \
            a.read_log():
        time.sleep(0.1)
    assert '"sha256" must be 64 lowercase hex digits' in a.read_log(), a.read_log()
    n = fleet.checkins
    fleet.wait(lambda f: f.checkins >= n + 2, 20, "check-ins after the refusals")
    assert fleet.downloads == []
    assert a.proc.poll() is None, a.read_log()
