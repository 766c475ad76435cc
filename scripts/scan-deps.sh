#!/bin/sh
# Installs the Debian scanners that the scanning tests (package scan, and the
# server's inbound scanning tests) start: Rspamd (spam scores over its HTTP
# protocol) and ClamAV's clamd (malware, INSTREAM).
#
# Non-interactive. No daemon that the packages bring may stay enabled or
# running afterwards, and no signature download is started (freshclam is
# disabled too): the tests start their own clamd with a tiny signature
# database they ship, and their own Rspamd with its stock rules, each with its
# configuration in a temporary folder.
#
# Usage: scripts/scan-deps.sh   (as root, or a user with sudo)
set -eu

PKGS="rspamd clamav-daemon"
SERVICES="rspamd clamav-daemon clamav-freshclam"

SUDO=
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi

missing=
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
		missing="$missing $p"
	fi
done

if [ -n "$missing" ]; then
	echo "scan-deps: installing$missing"
	# policy-rc.d answering 101 tells invoke-rc.d not to start any service
	# during the install. Docker images often have one already; keep it then.
	placed_policy=
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
		$SUDO chmod 755 /usr/sbin/policy-rc.d
		placed_policy=yes
	fi
	trap '[ -n "$placed_policy" ] && $SUDO rm -f /usr/sbin/policy-rc.d' EXIT
	# apt-get update only when the package lists are missing or a week old.
	if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mtime -7 2>/dev/null | head -1)" ]; then
		$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
	fi
	# shellcheck disable=SC2086
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
fi

# Whatever the install (or an earlier one) enabled: stop and disable it.
for s in $SERVICES; do
	if command -v systemctl >/dev/null 2>&1; then
		$SUDO systemctl disable "$s" >/dev/null 2>&1 || true
		if [ -d /run/systemd/system ]; then
			$SUDO systemctl stop "$s" >/dev/null 2>&1 || true
		fi
	fi
	if [ -x "/etc/init.d/$s" ] && [ ! -d /run/systemd/system ]; then
		$SUDO "/etc/init.d/$s" stop >/dev/null 2>&1 || true
		$SUDO update-rc.d "$s" disable >/dev/null 2>&1 || true
	fi
done

for b in rspamd clamd; do
	if ! PATH="$PATH:/usr/sbin:/sbin:/usr/bin" command -v "$b" >/dev/null 2>&1; then
		echo "scan-deps: $b is still missing" >&2
		exit 1
	fi
done
echo "scan-deps: rspamd and clamd are installed and not running"
