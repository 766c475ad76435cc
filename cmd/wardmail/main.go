// Command wardmail runs and administers Wardmail. It parses flags and wires
// packages together; the work is done in the packages.
//
//	wardmail serve --data DIR [flags]     run every door
//	wardmail demo [--data DIR]            seed the demo health service and serve
//	wardmail directory import --data DIR FILE.csv
//	wardmail user add|passwd|list|disable|enable --data DIR ...
//	wardmail list create|show|... --data DIR ...
//	wardmail admin grant|purge|trace|... --data DIR ...
//	wardmail apppass create|list|revoke --data DIR EMAIL ...
//	wardmail admin incident|unlock|lockouts --data DIR ...
//	wardmail queue list|show|retry|... --data DIR   the outbound queue
//	wardmail bench deliver [flags]        measure delivery end to end
//	wardmail sim replay lockout [flags]   replay the 2018 sign-in outage
package main

import (
	"fmt"
	"os"
	"syscall"
)

const usage = `usage: wardmail COMMAND [flags]

commands:
  serve               run Wardmail (SMTP, submission, IMAP, HTTP)
  demo                seed a small demo health service and serve it
  directory import    import people from a CSV file (all rows or none)
  user add|passwd|list|disable|enable
                      manage single people (passwords are read from stdin)
  list create|show|members|add|remove|set-rule|set-policy|approve|held|moderate|delete
                      distribution lists
  admin grant|revoke|list|purge|trace|audit
                      administrators, message purge and trace, the audit trail
  admin incident|unlock|lockouts
                      sign-in: incident mode, bulk unlock, running locks
  apppass create|list|revoke
                      app passwords for people's devices (IMAP, SMTP)
  dkim show|rotate|prune
                      DKIM keys of a local domain, and their rotation
  dns records|check   the DNS records a domain publishes, and a check of them
  tlsrpt import       keep TLS reports about our domains received elsewhere
  queue list|domains|show|retry|hold|release|delete
                      the outbound queue: mail to other domains
  migrate             move a data folder's database to PostgreSQL, verified
  cluster status      nodes, their doors and versions, who runs each background job, the database's replication
  bench deliver       measure SMTP submission to IMAP visibility
  sim gen             write a synthetic health service as a directory CSV
  sim replay lockout  replay the 2018 sign-in outage against a real server
  version             print the version

Run "wardmail COMMAND -h" for a command's flags.
`

var version = "dev"

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	// Whatever a command makes in the data folder (SQLite's -wal and -shm,
	// keys, blobs) is readable by this user alone.
	syscall.Umask(0o077)
	cmd, args := os.Args[1], os.Args[2:]
	var err error
	switch cmd {
	case "serve":
		err = runServe(args)
	case "demo":
		err = runDemo(args)
	case "directory":
		err = runDirectory(args)
	case "user":
		err = runUser(args)
	case "list":
		err = runList(args)
	case "admin":
		err = runAdmin(args)
	case "apppass":
		err = runAppPass(args)
	case "migrate":
		err = runMigrate(args)
	case "cluster":
		err = runCluster(args)
	case "queue":
		err = runQueue(args)
	case "bench":
		err = runBench(args)
	case "sim":
		err = runSim(args)
	case "dkim":
		err = runDKIM(args)
	case "dns":
		err = runDNS(args)
	case "tlsrpt":
		err = runTLSRPT(args)
	case "version":
		fmt.Println("wardmail", version)
	case "-h", "--help", "help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "wardmail: unknown command %q\n\n%s", cmd, usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "wardmail:", err)
		os.Exit(1)
	}
}
