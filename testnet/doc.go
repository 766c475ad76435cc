// Package testnet is Wardmail's test internet: a small, real internet on the
// loopback network that tests start, use and tear down. It is for tests only;
// nothing in the wardmail binary imports it.
//
// What it holds:
//
//   - Hosts. Every "host" is its own loopback address (127.0.0.2, 127.0.0.3, …;
//     Linux routes all of 127.0.0.0/8 to lo, so binding needs no setup), and
//     all hosts listen on the same SMTP port (25 by default, see [Options]).
//     Addresses are handed out by [Net.Host], which locks each one for the
//     process, so test binaries running side by side never share one.
//
//   - DNS. [Net.StartDNS] runs Knot (knotd, in the foreground, configuration in
//     a temporary folder) serving the zones given as Go values, and Unbound as
//     a validating recursive resolver in front of it. Knot also serves a test
//     root zone "." that delegates to every zone, with DS records for the
//     signed ones, and Unbound trusts only that root's key: a signed zone
//     validates through a real chain of trust (AD=1, RFC 4035 section 3.2.3),
//     an unsigned one is insecure (AD=0), and a zone marked Bogus has a DS that
//     matches none of its keys, so Unbound answers SERVFAIL (RFC 4035 section
//     5.5). Records can change while the test runs ([DNS.SetZone]). Point
//     Wardmail's dns_resolver at [DNS.Resolver]; Go tests use [DNS.Resolver]
//     through net.Resolver ([DNS.NetResolver]) or [DNS.Query] when they need
//     the AD bit or a record type the standard library does not look up (TLSA).
//
//   - Peer MTAs. [Net.StartPostfix] runs a real Postfix (Debian's) bound to one
//     host, with OpenDKIM as its milter: it DKIM-signs what it sends for its
//     domain with a key made for the run (published by [Postfix.Records]) and
//     verifies what it receives, writing Authentication-Results (RFC 8601).
//     Received mail lands in a Maildir that [Postfix.Messages] reads.
//     Postfix's own DNS lookups would go to /etc/resolv.conf, which cannot
//     name a port; so its route to other domains comes from a socketmap
//     transport table that testnet answers by looking up the destination's
//     MX (and its address) in the test DNS at the moment Postfix asks. What
//     receivers check (SPF, DKIM keys, DMARC) is looked up by OpenDKIM through
//     the test resolver (libunbound forwarding to Unbound).
//
//   - Scripted hosts. [Net.StartSMTP] runs an SMTP server in Go (go-smtp) that
//     misbehaves on purpose: 4xx then accept, 5xx, dropping the connection
//     after DATA, greylisting, a certificate from the test CA or one for the
//     wrong name. [Net.StartMTASTS] serves an MTA-STS policy (RFC 8461) over
//     HTTPS with a certificate from the test CA. Each records what it saw.
//
//   - A test CA ([CA]), made per run with crypto/x509, that signs every
//     certificate above; its PEM file is what Wardmail is told to trust.
//
// The Debian programs are installed by scripts/testnet-deps.sh. When one is
// missing the test is skipped with a message saying so, unless the
// environment has WARDMAIL_TESTNET=require (as CI does), where it fails.
// Postfix refuses to start unless run by root, so Postfix peers need root too.
//
// See docs/testnet.md for how an issue's test uses it.
package testnet
