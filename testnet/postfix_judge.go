package testnet

import (
	"fmt"
	"os"
	"time"
)

// The judges of a Postfix peer (PostfixConfig.Judge): policyd-spf and
// OpenDMARC, Debian's, configured from the peer's folder. Both look names up
// through /etc/resolv.conf, which cannot name a port: they run in a mount
// namespace whose resolv.conf names the peer's own address, where a
// forwarder on port 53 passes the queries to the test resolver.

// judgeMainCF is added to main.cf: the SPF check at RCPT for mail from
// other hosts, and OpenDMARC after OpenDKIM (a milter sees the header fields
// that the ones before it added, so OpenDMARC reads OpenDKIM's verdict).
func (p *Postfix) judgeMainCF() string {
	return fmt.Sprintf(`smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination, check_policy_service unix:private/policyd-spf
policyd-spf_time_limit = 3600
smtpd_milters = unix:%[1]s/opendkim/opendkim.sock, unix:%[1]s/opendmarc/opendmarc.sock
`, p.dir)
}

// judgeMasterCF is policyd-spf as a spawn(8) service.
func (p *Postfix) judgeMasterCF() string {
	path, _ := lookPath("policyd-spf")
	return fmt.Sprintf("policyd-spf unix - n n - 0 spawn\n  user=nobody argv=%s %s\n", path, p.path("opendmarc", "policyd-spf.conf"))
}

// judgeFiles adds the judges' configuration to the files to write.
func (p *Postfix) judgeFiles(files map[string]string) {
	// glibc's resolver (OpenDMARC) and dnspython (policyd-spf).
	files[p.path("conf", "resolv.conf")] = fmt.Sprintf("nameserver %s\noptions edns0 timeout:5 attempts:2\n", p.Addr)
	// Verdicts only: a failing SPF is not refused here, so that the
	// message reaches OpenDMARC, which refuses it for the domain's
	// p=reject. 127.0.0.0/8 is skipped by default; every host of the
	// test internet is there, so nothing is.
	files[p.path("opendmarc", "policyd-spf.conf")] = fmt.Sprintf(`debugLevel = 1
TestOnly = 1
HELO_reject = False
Mail_From_reject = False
PermError_reject = False
TempError_Defer = False
skip_addresses = 192.0.2.255/32
Header_Type = AR
Authserv_Id = %s
Hide_Receiver = Yes
Lookup_Time = 10
`, p.Hostname)
	files[p.path("opendmarc", "ignore.hosts")] = "192.0.2.255\n"
	files[p.path("opendmarc", "opendmarc.conf")] = fmt.Sprintf(`Syslog false
Socket local:%[1]s/opendmarc/opendmarc.sock
UMask 000
PidFile %[1]s/opendmarc/opendmarc.pid
AuthservID %[2]s
TrustedAuthservIDs %[2]s
IgnoreHosts %[1]s/opendmarc/ignore.hosts
IgnoreAuthenticatedClients false
RejectFailures true
RequiredHeaders false
FailureReports false
SPFIgnoreResults false
SPFSelfValidate false
SoftwareHeader false
DNSTimeout 5
`, p.dir, p.Hostname)
}

// startJudges starts the DNS forwarder and OpenDMARC; the master spawns
// policyd-spf when it is asked.
func (p *Postfix) startJudges() error {
	n := p.n
	if _, err := n.startDNSForwarder(p.Addr); err != nil {
		return err
	}
	program, args, err := withResolvConf(p.path("conf", "resolv.conf"), "opendmarc", "-f", "-c", p.path("opendmarc", "opendmarc.conf"))
	if err != nil {
		return err
	}
	p.opendmarc, err = n.start("opendmarc-"+p.Addr.String(), nil, program, args...)
	if err != nil {
		return err
	}
	p.opendmarc.grace = 100 * time.Millisecond
	sock := p.path("opendmarc", "opendmarc.sock")
	return p.opendmarc.waitFor(func() bool { _, err := os.Stat(sock); return err == nil })
}
