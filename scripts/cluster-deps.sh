#!/usr/bin/env bash
# Installs what the cluster tests (package clustertest, `make test-cluster`)
# start: HAProxy and PostgreSQL from Debian, Versity's S3 gateway (go install).
# HAProxy's own service is stopped and disabled: the tests run their own.
set -euo pipefail
sudo=()
[ "$(id -u)" = 0 ] || sudo=(sudo)
missing=()
command -v haproxy >/dev/null || missing+=(haproxy)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
	echo "Installing ${missing[*]} with apt-get..."
	# Keep the packages from starting their daemons during the install.
	printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee /usr/sbin/policy-rc.d >/dev/null
	"${sudo[@]}" chmod +x /usr/sbin/policy-rc.d
	trap '"${sudo[@]}" rm -f /usr/sbin/policy-rc.d' EXIT
	"${sudo[@]}" apt-get update -qq
	DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if command -v systemctl >/dev/null; then
	"${sudo[@]}" systemctl disable --now haproxy >/dev/null 2>&1 || true
fi
"$(dirname "$0")/s3-deps.sh"
