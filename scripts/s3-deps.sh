#!/usr/bin/env bash
# Installs the S3-compatible server the tests start (package blob/s3blob/s3test):
# Versity's S3 gateway, built by `go install` from the Go module proxy. Nothing
# in Wardmail imports it; it is a peer, like PostgreSQL.
set -euo pipefail
VERSION=v1.8.0
GO=${GO:-go}
bin="$($GO env GOPATH)/bin/versitygw"
if [ -x "$bin" ] && $GO version -m "$bin" 2>/dev/null | grep -q "versitygw[[:space:]]*$VERSION"; then
	exit 0
fi
echo "Installing versitygw $VERSION with go install (a few minutes on a fresh machine)..."
$GO install "github.com/versity/versitygw/cmd/versitygw@$VERSION"
