"""
Helpers for the fleet server's end-to-end tests: a ward-server made with
`ward-server init` in a temporary directory and listening on a free
loopback port, a PostgreSQL server started by the test itself (initdb and
pg_ctl from Debian's postgresql package, as the postgres user, on a free
loopback port), and a small HTTPS client pinned to the server's CA.
Every process is stopped by its pid.
"""

import glob
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

from conftest import program_path


def server_path():
    return program_path("ward-server")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    """One ward-server: init'd in d, serving on 127.0.0.1:port."""

    def __init__(self, d, database=None, settings=None, init_args=()):
        self.d = str(d)
        self.port = free_port()
        self.url = "https://127.0.0.1:%d" % self.port
        args = [server_path(), "init", "--dir", self.d, "--listen",
                "127.0.0.1:%d" % self.port]
        if database:
            args += ["--database", database]
        args += list(init_args)
        p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert p.returncode == 0, p.stderr
        self.admin = p.stdout.strip()
        self.ca = os.path.join(self.d, "ca.crt")
        self.config = os.path.join(self.d, "server.yaml")
        text = open(self.config).read()
        for key, value in (settings or {}).items():
            section, name = key.split(".")
            lines, cur, n = text.split("\n"), None, 0
            for i, line in enumerate(lines):
                if line and not line.startswith(" "):
                    cur = line.split(":")[0]
                elif cur == section and line.startswith("  %s:" % name):
                    lines[i] = "  %s: %s" % (name, value)
                    n += 1
            assert n == 1, key
            text = "\n".join(lines)
        open(self.config, "w").write(text)
        self.proc = None
        self.log = os.path.join(self.d, "server.log")

    def start(self):
        self.logf = open(self.log, "ab")
        self.proc = subprocess.Popen([server_path(), "--config", self.config],
                                     stdout=self.logf, stderr=self.logf)
        end = time.time() + 20
        while time.time() < end:
            assert self.proc.poll() is None, "ward-server exited:\n" + self.read_log()
            try:
                if self.get("/api/v1/health")[0] == 200:
                    return self
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.05)
        raise AssertionError("ward-server did not answer:\n" + self.read_log())

    def stop(self, sig=signal.SIGTERM):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logf.close()
        self.proc = None

    def read_log(self):
        return open(self.log, errors="replace").read()[-4000:]

    def request(self, method, path, body=None, token=None, raw=None, headers=None):
        """(status, JSON answer or None)."""
        ctx = ssl.create_default_context(cafile=self.ca)
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None
                                            else None)
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", "Bearer " + token)
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            payload = e.read()
            try:
                return e.code, json.loads(payload)
            except ValueError:
                return e.code, None

    def get(self, path, token=None):
        return self.request("GET", path, token=token)

    def post(self, path, body=None, token=None, **kw):
        return self.request("POST", path, body if body is not None else {}, token=token, **kw)

    def token(self, **kw):
        """An enrollment token; unlimited unless uses= says otherwise (the
        server's default, one use within a day, is tested on its own)."""
        kw.setdefault("uses", 0)
        st, ans = self.post("/api/v1/tokens", kw, token=self.admin)
        assert st == 200, ans
        return ans["token"]

    def agents(self):
        st, ans = self.get("/api/v1/agents", token=self.admin)
        assert st == 200, ans
        return ans["agents"]

    def events(self, agent=None, limit=100000):
        path = "/api/v1/events?limit=%d" % limit + ("&agent=%s" % agent if agent else "")
        st, ans = self.get(path, token=self.admin)
        assert st == 200, ans
        return ans["events"]


def wait(pred, timeout=20, what="condition"):
    """pred()'s first true value within timeout seconds."""
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError("timed out waiting for " + what)


def agent_server_lines(server, token, ident):
    """wardd configuration lines for the uplink, with a test identity."""
    d = os.path.dirname(ident)
    os.makedirs(d, exist_ok=True)
    with open(ident + ".machine", "w") as f:
        f.write("machine-%s\n" % os.path.basename(ident))
    with open(ident + ".hw", "w") as f:
        f.write("hw-%s\n" % os.path.basename(ident))
    return ["server:", "  url: %s" % server.url, "  ca: %s" % server.ca,
            "  enroll_token: %s" % token, "  machine_id_file: %s.machine" % ident,
            "  hardware_file: %s.hw" % ident]


class Postgres:
    """A PostgreSQL server of the test's own, on a free loopback port."""

    def __init__(self):
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        assert bins, "PostgreSQL is not installed (make deps installs postgresql)"
        self.bin = os.path.dirname(bins[-1])
        self.d = tempfile.mkdtemp(prefix="ward-pg-", dir="/tmp")
        shutil.chown(self.d, "postgres", "postgres")
        self.port = free_port()
        self.run("initdb", "-D", self.d + "/data", "-A", "trust", "-U", "postgres",
                 "--no-sync")
        self.run("pg_ctl", "-D", self.d + "/data", "-l", self.d + "/log", "-w", "-o",
                 "-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off" % (self.port, self.d),
                 "start")
        self.started = True

    def run(self, prog, *args):
        p = subprocess.run(["runuser", "-u", "postgres", "--", os.path.join(self.bin, prog)] +
                           list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, cwd=self.d)
        assert p.returncode == 0, "%s: %s%s" % (prog, p.stdout, p.stderr)
        return p

    def restart(self):
        self.run("pg_ctl", "-D", self.d + "/data", "-l", self.d + "/log", "-m", "fast", "-w",
                 "restart")

    def create_db(self, name):
        self.run("psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-q", "-c",
                 "CREATE DATABASE %s" % name)
        return "postgresql://postgres@127.0.0.1:%d/%s" % (self.port, name)

    def stop(self):
        if self.started:
            self.run("pg_ctl", "-D", self.d + "/data", "-m", "fast", "-w", "stop")
            self.started = False
        shutil.rmtree(self.d, ignore_errors=True)
