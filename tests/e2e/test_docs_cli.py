"""
The man pages and the shell completion tell the truth about the programs.

- Every long option that `ward CMD --help` prints is in ward(1), in the
  section of that command, and is completed by bash and by zsh after
  `ward CMD [SUB [SUB2]] --`; every command `ward --help` lists has its
  section in ward(1) and is completed after `ward `.
- Every option that `wardd --help`, `ward-server --help` and `ward-sim
  --help` print is in wardd(8), ward-server(8) and ward-sim(1).
- The other way round, no page lists and no completion offers an option
  that its program's sources do not take (getopt tables, "--x" strings).
- Every key of the agent's configuration table (agent/config.c, its
  `keys[]`: each key is a string literal there, whatever the macro) is in
  wardd.yaml(5), and nothing else is; `wardd --check-config` takes each of
  them as a key (and refuses a made-up one as unknown), so the table read
  from the source is the program's.  The keys that reload on SIGHUP
  (config.c's `reload_groups[]`) are those the page says reload.  The same
  for ward-server.yaml(5), server/config.c and the keys a reload keeps
  (server/main.c, KEPT).
- Every page renders without a warning (`groff -man -ww -z`, and `man
  --warnings -l` as a reader's man does), uses only the requests scdoc
  writes (a source line that starts with "." would otherwise become a
  request), has the sections a man page of its kind needs, is named in
  its header as its file is, and has a NAME line whatis reads (lexgrog).
- The bash completion, sourced in bash, completes `ward sc` to `scan` and
  `ward scan --max-` to the --max-* options; the zsh completion, loaded by
  compinit in an interactive zsh, does the same.

The pages are looked for in $WARD_MAN_DIR, the build tree's man/ (beside
$WARD_BIN's cli/), or the installed /usr/share/man; the completions in
$WARD_COMPLETIONS_DIR, the installed ones when $WARD_BIN is /usr/bin/ward,
or the source tree's completions/.  The pages are built by meson when
scdoc is installed (`make deps` installs it, and zsh, groff-base, man-db).
"""

import concurrent.futures
import gzip
import os
import re
import shutil
import subprocess
import tempfile

import pytest

from conftest import REPO, ward_path

PAGES = ["ward.1", "ward-sim.1", "wardd.8", "ward-server.8", "wardd.yaml.5",
         "ward-server.yaml.5"]
# The commands `ward --help` lists that take no options: their section in
# ward(1) lists none, and the completion has none to offer.
NO_SECTION = {"version"}
LONGOPT_RE = re.compile(r"(?<![\w-])--[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
# The requests and macros scdoc writes; any other control line is text that
# began with "." or "'" in a source and became a request.
ROFF_REQUESTS = {"TH", "SH", "SS", "P", "PP", "LP", "RS", "RE", "br", "nf", "fi", "nh", "ad",
                 "ie", "el", "ds", "TS", "TE", "T&", "sp", "IP", "TP", "in", "ti", '\\"', '\\}'}


def program(env, *rel):
    path = os.environ.get(env) or os.path.join(REPO, "build", *rel)
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail("%s not found at %s: build it or set %s" % (rel[-1], path, env),
                    pytrace=False)
    return path


def run(cmd, timeout=120, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                          universal_newlines=True, **kw)


def man_dirs():
    if os.environ.get("WARD_MAN_DIR"):
        return [os.environ["WARD_MAN_DIR"]]
    build = os.path.dirname(os.path.dirname(os.path.abspath(ward_path())))
    return [os.path.join(build, "man")] + ["/usr/share/man/man" + s for s in "158"]


def page_path(name):
    for d in man_dirs():
        for f in (name, name + ".gz"):
            if os.path.isfile(os.path.join(d, f)):
                return os.path.join(d, f)
    pytest.fail("man page %s not found in %s: build with scdoc installed (make deps; "
                "meson -Dman=enabled says so when it is missing) or set WARD_MAN_DIR"
                % (name, ", ".join(man_dirs())), pytrace=False)


def roff(name):
    path = page_path(name)
    if path.endswith(".gz"):
        with gzip.open(path, "rt") as f:
            return f.read()
    with open(path) as f:
        return f.read()


def plain(text):
    """roff text without font changes and escapes: what a reader sees."""
    text = re.sub(r"\\f[BIRP]|\\&|\\e", lambda m: "\\" if m.group(0) == "\\e" else "", text)
    return text.replace("\\-", "-").replace("\\(aq", "'").replace("\\*(Aq", "'")


def sections(text, macro):
    """{title: text} of the .SH (or .SS) sections of a roff page."""
    out, title, buf = {}, None, []
    for line in text.splitlines():
        m = re.match(r"^\.%s\s+(.*)$" % macro, line)
        if m or (macro == "SS" and line.startswith(".SH")):
            if title is not None:
                out[title] = "\n".join(buf)
            title = m.group(1).strip('"') if m else None
            buf = []
        elif title is not None:
            buf.append(line)
    if title is not None:
        out[title] = "\n".join(buf)
    return out


def longopts(text):
    return set(LONGOPT_RE.findall(text))


def printed_options(help_out):
    """The long options a --help text offers: every one in its usage block
    (from "usage:" to the first blank line), one that begins a line (after
    "-x, "), and one right after "[", "(" or "| "; not those that its
    prose names (`ward rules --help` names `ward scan --compiled`)."""
    out = set()
    lines = help_out.splitlines()
    i = 0
    while i < len(lines) and lines[i].strip():
        out |= longopts(lines[i])
        i += 1
    opt = LONGOPT_RE.pattern
    for line in lines[i:]:
        m = re.match(r"^\s+(?:-\w, )?(%s)" % opt, line)
        if m:
            out.add(m.group(1))
        out |= set(re.findall(r"(?:\[|\(|\| )(%s)" % opt, line))
    return out


def help_text(cmd):
    p = run(cmd + ["--help"])
    assert p.returncode == 0, (cmd, p.stderr)
    assert p.stdout.startswith("usage:"), (cmd, p.stdout[:200])
    return p.stdout


def ward_commands(ward):
    """The commands `ward --help` lists."""
    text = help_text([ward]).split("Commands:")[1]
    return re.findall(r"^  ([a-z-]+)  ", text, re.M)


def ward_help_options(ward, cmd):
    opts = printed_options(help_text([ward, cmd]))
    if cmd == "content":  # import-clamav has a usage of its own
        opts |= printed_options(help_text([ward, "content", "import-clamav"]))
    return opts


# --- the pages --------------------------------------------------------------

@pytest.mark.parametrize("name", PAGES)
def test_page_renders_without_warnings(name):
    path = page_path(name)
    text = roff(name)
    p = run(["groff", "-man", "-ww", "-z"], input=text)
    assert p.returncode == 0 and p.stderr == "", p.stderr
    # MAN_DISABLE_SECCOMP: man-db's sandbox of its filters fails in some
    # containers; the page is what is under test, not man-db.
    env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8", MAN_DISABLE_SECCOMP="1")
    p = run(["man", "--warnings", "-l", path], env=env)
    assert p.returncode == 0 and p.stderr == "", p.stderr
    assert "NAME" in p.stdout and len(p.stdout.splitlines()) > 40
    # Only the requests scdoc writes: a line of text that began with "."
    # would have become a request and vanished from the page.
    for line in text.splitlines():
        if line[:1] in (".", "'"):
            req = line[1:].split()[0] if line[1:].split() else ""
            assert req in ROFF_REQUESTS or req.startswith('\\"'), \
                "%s: a text line taken as a request: %r" % (name, line)


@pytest.mark.parametrize("name", PAGES)
def test_page_header_and_sections(name):
    text = roff(name)
    title, section = name.rsplit(".", 1)
    th = re.search(r'^\.TH "([^"]+)" "(\d)"', text, re.M)
    assert th and th.groups() == (title, section), th and th.groups()
    have = set(sections(text, "SH"))
    need = {"NAME", "SYNOPSIS", "DESCRIPTION", "FILES", "EXAMPLES", "SEE ALSO"}
    if section in "18":
        need |= {"OPTIONS", "EXIT STATUS"}
    assert need <= have, "%s lacks %s" % (name, sorted(need - have))
    # NAME is "name - what it is", as whatis/apropos read it (mandb reads
    # it with lexgrog; lintian too).
    assert re.match(r"\s*\.P\s*\n%s - \S" % re.escape(title),
                    plain(sections(text, "SH")["NAME"])), sections(text, "SH")["NAME"]
    p = run(["lexgrog", page_path(name)])
    assert p.returncode == 0 and ': "%s - ' % title in p.stdout, (p.stdout, p.stderr)
    # Every page it names in SEE ALSO that is ours exists.
    for ref, sec in re.findall(r"(ward[a-z.-]*)\((\d)\)", plain(sections(text, "SH")["SEE ALSO"])):
        assert "%s.%s" % (ref, sec) in PAGES, (name, ref, sec)


def test_every_ward_command_and_option_is_in_ward_1(ward_bin):
    page = roff("ward.1")
    cmds = sections(page, "SS")
    commands = ward_commands(ward_bin)
    assert {"scan", "agent", "fleet", "fim"} <= set(commands), commands
    for cmd in commands:
        if cmd in NO_SECTION and "ward " + cmd in cmds:
            continue
        assert "ward " + cmd in cmds, "ward.1 has no section for ward %s" % cmd
        if cmd in NO_SECTION:
            continue
        documented = longopts(plain(cmds["ward " + cmd]))
        missing = ward_help_options(ward_bin, cmd) - documented
        assert not missing, "ward %s --help prints %s, not in its section of ward.1" % (
            cmd, sorted(missing))
    # the options of ward itself
    top = longopts(plain(sections(page, "SH")["OPTIONS"]))
    assert {"--help", "--version"} <= top, top


@pytest.mark.parametrize("page,env,rel", [
    ("wardd.8", "WARDD_BIN", ("agent", "wardd")),
    ("ward-server.8", "WARD_SERVER_BIN", ("server", "ward-server")),
    ("ward-sim.1", "WARD_SIM_BIN", ("server", "ward-sim")),
])
def test_every_daemon_option_is_in_its_page(page, env, rel):
    prog = program(env, *rel)
    printed = printed_options(help_text([prog]))
    assert "--config" in printed or "--server" in printed, printed
    missing = printed - longopts(plain(roff(page)))
    assert not missing, "%s --help prints %s, not in %s" % (rel[-1], sorted(missing), page)


def source_options(*globs):
    """The long options the C sources of a program take: the names of its
    getopt_long tables, and the "--x" strings it compares itself."""
    import glob
    out = set()
    for pattern in globs:
        for path in glob.glob(os.path.join(REPO, pattern)):
            with open(path) as f:
                src = f.read()
            out |= {"--" + n for n in re.findall(
                r'\{\s*"([a-z][a-z0-9-]*)",\s*(?:no|required|optional)_argument', src)}
            out |= set(re.findall(r'"(--[a-z][a-z0-9-]*)"', src))
    return out


def option_headings(name):
    """The long options a page lists as its own: those in the heading of an
    entry (the line before its indented text), not those its prose names."""
    lines = plain(roff(name)).splitlines()
    out = set()
    for i, line in enumerate(lines[:-1]):
        if lines[i + 1].startswith(".RS") and not line.startswith("."):
            out |= longopts(line)
    return out


@pytest.mark.parametrize("page,sources", [
    ("ward.1", ("cli/*.c",)),
    ("wardd.8", ("agent/wardd.c",)),
    ("ward-server.8", ("server/main.c",)),
    ("ward-sim.1", ("server/sim.c",)),
])
def test_every_option_a_page_lists_exists(page, sources):
    """The other way round: no page lists an option its program does not
    take (a renamed or removed one, a typo)."""
    listed = option_headings(page)
    assert len(listed) >= 5, listed
    # ward-server init --config/--user: init's own options, added with the
    # packages' layout; the page describes them with the rest of init's.
    taken = source_options(*sources)
    unknown = listed - taken
    assert not unknown, "%s lists %s, which %s does not take" % (page, sorted(unknown), sources)


def test_every_option_completed_exists():
    taken = source_options("cli/*.c")
    for name in ("ward.bash", "_ward"):
        with open(os.path.join(REPO, "completions", name)) as f:
            offered = longopts(f.read())
        assert len(offered) > 40, offered
        unknown = offered - taken
        assert not unknown, "completions/%s offers %s, which ward does not take" % (
            name, sorted(unknown))


# --- configuration keys -----------------------------------------------------

def c_block(path, start):
    """The text of the C initializer that begins with start, comments removed."""
    with open(os.path.join(REPO, path)) as f:
        src = f.read()
    i = src.index(start)
    body = src[i + len(start):src.index("\n};", i)]
    return re.sub(r"/\*.*?\*/", "", body, flags=re.S)


def table_keys(path, start):
    """The key names of a conf_key table: every string literal in it is one
    (the words of CONF_CHOICE keys are arrays named outside the table)."""
    keys = re.findall(r'"([^"]*)"', c_block(path, start))
    assert len(keys) == len(set(keys)), "a key twice in %s" % path
    for k in keys:
        assert re.fullmatch(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*){0,2}", k), (path, k)
    return keys


def page_keys(name):
    """{key: what its heading says in parentheses} of a configuration page."""
    text = plain(sections(roff(name), "SH")["KEYS"])
    out = {}
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"^([a-z][a-z0-9_.]*) \((.*)\)$", line)
        if m and i + 1 < len(lines) and lines[i + 1].startswith(".RS"):
            assert m.group(1) not in out, "%s twice in %s" % (m.group(1), name)
            out[m.group(1)] = m.group(2)
    return out


def yaml_for(key, value):
    parts = key.split(".")
    text = ""
    for depth, part in enumerate(parts[:-1]):
        text += "  " * depth + part + ":\n"
    return text + "  " * (len(parts) - 1) + "%s: %s\n" % (parts[-1], value)


def known_keys(prog, tmp, keys, args):
    """{key: (whether prog takes it as a key, its stderr)}: a file that sets
    only that key, to 'x', which is no good value anywhere (so that the
    file is always refused and never served), loaded by prog."""
    def one(i_key):
        i, key = i_key
        path = os.path.join(tmp, "c%d.yaml" % i)
        with open(path, "w") as f:
            f.write(yaml_for(key, "'x'"))
        p = run([prog] + args(path), timeout=30)
        assert p.returncode != 0, (key, p.stdout, p.stderr)
        return key, ("unknown key" not in p.stderr, p.stderr)

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        return dict(pool.map(one, enumerate(keys)))


def test_every_agent_key_is_in_wardd_yaml_5(tmp_path):
    keys = table_keys("agent/config.c", "static const struct conf_key keys[] = {")
    assert len(keys) >= 60 and "state_dir" in keys and "clamd.max_connections_per_user" in keys
    documented = page_keys("wardd.yaml.5")
    assert set(keys) - set(documented) == set(), "not in wardd.yaml.5"
    assert set(documented) - set(keys) == set(), "in wardd.yaml.5, not in agent/config.c"
    # The table read from the source is what wardd takes.
    wardd = program("WARDD_BIN", "agent", "wardd")
    found = known_keys(wardd, str(tmp_path), keys + ["no_such.key"],
                       lambda path: ["--config", path, "--check-config"])
    known, err = found.pop("no_such.key")
    assert not known and 'unknown key "no_such.key"' in err, err
    for key, (known, err) in found.items():
        assert known, "wardd does not know %s: %s" % (key, err)
    # What reloads: config.c's reload_groups, and the page.
    reload = set(table_keys_loose("agent/config.c", "} reload_groups[] = {"))
    assert reload and reload <= set(keys)
    for key, said in documented.items():
        assert ("reloads" in said) == (key in reload), (key, said)
        assert ("read at start" in said) == (key not in reload), (key, said)


def table_keys_loose(path, start):
    return re.findall(r'"([^"]*)"', c_block(path, start))


def test_every_server_key_is_in_ward_server_yaml_5(tmp_path):
    keys = table_keys("server/config.c", "static const struct conf_key keys[] = {")
    assert "listen" in keys and "rollout.tick_ms" in keys
    documented = page_keys("ward-server.yaml.5")
    assert set(keys) - set(documented) == set(), "not in ward-server.yaml.5"
    assert set(documented) - set(keys) == set(), "in ward-server.yaml.5, not in server/config.c"
    server = program("WARD_SERVER_BIN", "server", "ward-server")
    found = known_keys(server, str(tmp_path), keys + ["no_such.key"],
                       lambda path: ["--config", path])
    known, err = found.pop("no_such.key")
    assert not known and 'unknown key "no_such.key"' in err, err
    for key, (known, err) in found.items():
        assert known, "ward-server does not know %s: %s" % (key, err)
    with open(os.path.join(REPO, "server", "main.c")) as f:
        kept = set(re.findall(r'KEPT\(\w+, "([^"]+)"\)', f.read()))
    assert kept and kept <= set(keys)
    for key, said in documented.items():
        assert ("read at start" in said) == (key in kept), (key, said)
        assert ("reloads" in said) == (key not in kept), (key, said)


# --- completion -------------------------------------------------------------

def completions_dir():
    if os.environ.get("WARD_COMPLETIONS_DIR"):
        return os.environ["WARD_COMPLETIONS_DIR"], "ward.bash", "_ward"
    if os.path.realpath(ward_path()) == "/usr/bin/ward":
        return "/usr/share", "bash-completion/completions/ward", "zsh/vendor-completions/_ward"
    return os.path.join(REPO, "completions"), "ward.bash", "_ward"


BASH_DRIVER = r'''
source "$1" || exit 3
fn=$(complete -p ward | sed -n 's/.*-F \([^ ]*\) .*/\1/p')
[[ -n $fn ]] || { echo "no completion function for ward" >&2; exit 3; }
shift
n=0
for line in "$@"; do
    n=$((n + 1))
    read -ra COMP_WORDS <<< "$line"
    [[ $line == *' ' ]] && COMP_WORDS+=("")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMP_LINE=$line
    COMP_POINT=${#line}
    COMPREPLY=()
    "$fn" ward "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
    for w in "${COMPREPLY[@]}"; do
        echo "HIT $n $w"
    done
done
'''


def bash_complete(lines, cwd):
    base, bash_rel, _ = completions_dir()
    p = run(["bash", "--norc", "--noprofile", "-c", BASH_DRIVER, "bash",
             os.path.join(base, bash_rel)] + lines, cwd=cwd)
    assert p.returncode == 0, p.stderr
    return parse_hits(p.stdout, len(lines))


def zsh_complete(lines, cwd):
    if shutil.which("zsh") is None:
        pytest.fail("zsh is not installed (make deps installs it)", pytrace=False)
    base, _, zsh_rel = completions_dir()
    zdir = os.path.dirname(os.path.join(base, zsh_rel))
    # compinit's dump, beside the shells' working directory (made afresh
    # for this module): the second zsh on reads it instead of all of fpath.
    env = dict(os.environ, WARD_ZCOMPDUMP=os.path.join(os.path.dirname(cwd), "zcompdump"))
    p = run(["zsh", "-f", os.path.join(REPO, "tests", "e2e", "complete.zsh"), zdir] + lines,
            cwd=cwd, env=env)
    assert p.returncode == 0, p.stderr
    return parse_hits(p.stdout, len(lines))


def parse_hits(out, n):
    hits = [set() for _ in range(n)]
    for line in out.splitlines():
        if line.startswith("HIT "):
            _, i, word = line.split(" ", 2)
            hits[int(i) - 1].add(word)
    return hits


@pytest.fixture(scope="module")
def empty_dir():
    # The working directory of the shells, empty: file names would pass
    # for subcommands anywhere else.  zsh's dump of compinit goes beside it.
    d = tempfile.mkdtemp()
    os.mkdir(os.path.join(d, "cwd"))
    yield os.path.join(d, "cwd")
    shutil.rmtree(d)


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_completion_of_scan(shell, ward_bin, empty_dir):
    complete = bash_complete if shell == "bash" else zsh_complete
    got = complete(["ward sc", "ward scan --max-", "ward scan --format ", "ward key gen --alg "],
                   empty_dir)
    assert got[0] == {"scan"}, got[0]
    max_opts = {o for o in ward_help_options(ward_bin, "scan") if o.startswith("--max-")}
    assert len(max_opts) >= 6
    assert got[1] == max_opts, got[1]
    assert got[2] == {"text", "json"}, got[2]
    assert got[3] == {"ed25519", "sm2"}, got[3]


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_completion_knows_every_command_and_option(shell, ward_bin, empty_dir):
    """Walks the completion's tree of subcommands (three levels), then
    completes `--` at each node: each command's options together must hold
    every long option its --help prints."""
    complete = bash_complete if shell == "bash" else zsh_complete
    commands = ward_commands(ward_bin)
    top = complete(["ward "], empty_dir)[0]
    assert set(commands) <= top, "not completed after 'ward ': %s" % sorted(set(commands) - top)
    nodes = [(c,) for c in commands if c not in NO_SECTION]
    frontier = nodes
    for _ in range(2):
        got = complete(["ward %s " % " ".join(n) for n in frontier], empty_dir)
        frontier = [n + (w,) for n, words in zip(frontier, got) for w in sorted(words)
                    if not w.startswith("-")]
        nodes += frontier
    assert ("agent", "except", "add") in nodes and ("content", "import-clamav") in nodes, nodes
    got = complete(["ward %s --" % " ".join(n) for n in nodes], empty_dir)
    offered = {}
    for n, words in zip(nodes, got):
        offered.setdefault(n[0], set()).update(words)
    for cmd in commands:
        if cmd in NO_SECTION:
            continue
        missing = ward_help_options(ward_bin, cmd) - offered.get(cmd, set())
        assert not missing, "%s completion of ward %s lacks %s" % (shell, cmd, sorted(missing))
