#!/bin/sh
# Installs the Debian programs that the test internet (package testnet) runs:
# Knot (authoritative DNS, signs zones), Unbound (validating resolver),
# Postfix with OpenDKIM, OpenDMARC and policyd-spf (independent peer MTAs and
# independent judges of what Wardmail signs and sends), kdig, and dkimpy with its
# authres module (python3-dkim, python3-authres: an independent ARC sealer for
# the inbound tests of forwarded mail).
#
# Non-interactive, and safe on a machine that is also used for other things:
# Postfix is preseeded to "No configuration", and no daemon that the packages
# bring may stay enabled or running on port 25 or 53 afterwards. The tests start
# their own copies, with their own configuration in a temporary folder.
#
# Usage: scripts/testnet-deps.sh   (as root, or a user with sudo)
set -eu

PKGS="knot knot-dnsutils unbound postfix opendkim opendkim-tools opendmarc postfix-policyd-spf-python python3-dkim python3-authres"
SERVICES="knot unbound postfix opendkim opendmarc"

SUDO=
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi

missing=
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
		missing="$missing $p"
	fi
done

if [ -n "$missing" ]; then
	echo "testnet-deps: installing$missing"
	echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
	echo "postfix postfix/mailname string testnet.invalid" | $SUDO debconf-set-selections
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

# Whatever the install (or an earlier one) enabled: stop and disable it. The
# test internet runs its own instances in the foreground.
for s in $SERVICES; do
	if command -v systemctl >/dev/null 2>&1; then
		# disable works without a running systemd (it removes the links).
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

for b in knotd knotc kdig keymgr unbound unbound-control postfix postconf opendkim opendmarc policyd-spf; do
	if ! PATH="$PATH:/usr/sbin:/sbin" command -v "$b" >/dev/null 2>&1; then
		echo "testnet-deps: $b is still missing" >&2
		exit 1
	fi
done
echo "testnet-deps: knot, unbound, postfix, opendkim, opendmarc and policyd-spf are installed and not running"
