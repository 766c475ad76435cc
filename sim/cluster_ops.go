package sim

import (
	"context"
	"crypto/tls"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-smtp"
)

// clinicalWords are the commonest words of the bodies; the rest of their
// vocabulary is made-up words (vocabWord), drawn with Zipf's law as the
// words of real text are, so that a message has as many distinct words as
// a real one of its size, which is what the word index stores.
var clinicalWords = strings.Fields(`handover cannula sepsis bloods rota discharge referral triage obs nights
	pharmacy theatre consultant registrar clinic vaccination audit incident escalation bed ward ambulance
	radiology pathology physio outpatient antibiotics insulin warfarin allergy fluid chart dementia falls
	midwife neonatal paediatric oncology renal cardiology stroke frailty palliative safeguarding infection
	isolation swab covid influenza norovirus staffing locum annual leave training mandatory fire`)

const vocabSize = 30000

var syllables = strings.Fields("ba ce di fo gu ha ke li mo nu pa re si to vu wa ye zo an el in or us")

// vocabWord is the word of rank i (0 is the commonest).
func vocabWord(i int) string {
	if i < len(clinicalWords) {
		return clinicalWords[i]
	}
	var b strings.Builder
	for n := i; ; n /= len(syllables) {
		b.WriteString(syllables[n%len(syllables)])
		if n < len(syllables) {
			break
		}
	}
	return b.String()
}

// searchWord is the k-th search's word: ranks 100 to 3,000, words that a
// few of a mailbox's messages hold, as a name or a drug searched for.
func searchWord(k int) string { return vocabWord(100 + (k*37)%2900) }

// clinicalBody is message k's text: about size bytes of words.
func clinicalBody(k, size int) string {
	rng := rand.New(rand.NewPCG(uint64(k), 7))
	zipf := rand.NewZipf(rng, 1.07, 2, vocabSize-1)
	var b strings.Builder
	for b.Len() < size {
		for range 12 {
			b.WriteString(vocabWord(int(zipf.Uint64())))
			b.WriteByte(' ')
		}
		b.WriteString("\r\n")
	}
	return b.String()
}

func (sc *simCluster) phases(cp *clusterPeople) []phaseSpec {
	cfg := sc.cfg
	r := len(cp.readers)
	tlsc := sc.tlsc
	signin := func(name string, pass func(user string) string) phaseSpec {
		return phaseSpec{name: name, ops: cfg.SignIns, clients: cfg.Clients, open: func(c int, addr func(string) string) (worker, error) {
			a := addr("imap")
			return fnWorker(func(k int) error {
				user := cp.readers[k%r]
				ic, err := dialIMAP(a, tlsc)
				if err != nil {
					return err
				}
				defer ic.Close()
				if err := ic.Login(user, pass(user)).Wait(); err != nil {
					return err
				}
				return ic.Logout().Wait()
			}), nil
		}}
	}
	openInbox := func(name string) phaseSpec {
		return phaseSpec{name: name, ops: len(cp.members), clients: cfg.Clients, open: func(c int, addr func(string) string) (worker, error) {
			a := addr("imap")
			return fnWorker(func(k int) error {
				user := cp.members[k]
				ic, err := dialIMAP(a, tlsc)
				if err != nil {
					return err
				}
				defer ic.Close()
				if err := ic.Login(user, cp.appPass[user]).Wait(); err != nil {
					return err
				}
				if _, err := ic.Select("INBOX", nil).Wait(); err != nil {
					return err
				}
				return ic.Logout().Wait()
			}), nil
		}}
	}
	// session opens an IMAP session per client, signed in as a reader
	// with its INBOX selected, for the read phases.
	session := func(name string, do func(ic *imapclient.Client, n uint32, k int) error) phaseSpec {
		return phaseSpec{name: name, ops: cfg.Ops, clients: cfg.Clients, open: func(c int, addr func(string) string) (worker, error) {
			user := cp.readers[c%r]
			ic, err := dialIMAP(addr("imap"), tlsc)
			if err != nil {
				return nil, err
			}
			if err := ic.Login(user, cp.appPass[user]).Wait(); err != nil {
				_ = ic.Close()
				return nil, err
			}
			sel, err := ic.Select("INBOX", nil).Wait()
			if err != nil {
				_ = ic.Close()
				return nil, err
			}
			return &imapWorker{ic: ic, fn: func(k int) error { return do(ic, sel.NumMessages, k) }}, nil
		}}
	}
	return []phaseSpec{
		{name: "deliver", ops: cfg.Ops, clients: cfg.Clients, open: func(c int, addr func(string) string) (worker, error) {
			a := addr("smtp")
			return &smtpWorker{dial: func() (*smtp.Client, error) {
				sc, err := smtp.Dial(a)
				if err != nil {
					return nil, err
				}
				return sc, sc.Hello("mx.example.org")
			}, send: func(c *smtp.Client, k int) error {
				from, to := fmt.Sprintf("results%d@lab.example.org", k%17), cp.readers[k%r]
				return c.SendMail(from, []string{to}, strings.NewReader(fmt.Sprintf(
					"From: <%s>\r\nTo: <%s>\r\nSubject: Results %d\r\nMessage-ID: <in-%d-%d@lab.example.org>\r\n\r\n%s",
					from, to, k, k, time.Now().UnixNano(), clinicalBody(k, cfg.BodyBytes))))
			}}, nil
		}},
		{name: "submit", ops: cfg.Ops, clients: cfg.Clients, open: func(c int, addr func(string) string) (worker, error) {
			a, from := addr("submission"), cp.readers[c%r]
			return &smtpWorker{dial: func() (*smtp.Client, error) { return dialSubmission(a, tlsc, from, cp.appPass[from]) },
				send: func(c *smtp.Client, k int) error {
					to := cp.readers[(k*7+1)%r]
					return c.SendMail(from, []string{to}, strings.NewReader(fmt.Sprintf(
						"From: <%s>\r\nTo: <%s>\r\nSubject: Bed %d\r\n\r\n%s", from, to, k, clinicalBody(k+1<<20, cfg.BodyBytes))))
				}}, nil
		}},
		{name: "list-post", ops: cfg.ListPosts, clients: 1, open: func(c int, addr func(string) string) (worker, error) {
			a := addr("submission")
			return &smtpWorker{dial: func() (*smtp.Client, error) { return dialSubmission(a, tlsc, cp.poster, cp.appPass[cp.poster]) },
				send: func(c *smtp.Client, k int) error {
					return c.SendMail(cp.poster, []string{cp.list}, strings.NewReader(fmt.Sprintf(
						"From: <%s>\r\nTo: <%s>\r\nSubject: Bulletin %d\r\n\r\n%s", cp.poster, cp.list, k, clinicalBody(k+2<<20, cfg.BodyBytes))))
				}}, nil
		}},
		openInbox("materialise"),
		openInbox("open"),
		session("select-fetch", func(ic *imapclient.Client, _ uint32, _ int) error {
			sel, err := ic.Select("INBOX", nil).Wait()
			if err != nil || sel.NumMessages == 0 {
				return err
			}
			var set imap.SeqSet
			from := uint32(1)
			if sel.NumMessages > 20 {
				from = sel.NumMessages - 19
			}
			set.AddRange(from, sel.NumMessages)
			_, err = ic.Fetch(set, &imap.FetchOptions{Envelope: true, Flags: true, UID: true}).Collect()
			return err
		}),
		session("fetch-body", func(ic *imapclient.Client, n uint32, k int) error {
			if n == 0 {
				return fmt.Errorf("empty INBOX")
			}
			msgs, err := ic.Fetch(imap.SeqSetNum(uint32(k)%n+1), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{Peek: true}}}).Collect()
			if err == nil && (len(msgs) != 1 || len(msgs[0].BodySection) == 0) {
				err = fmt.Errorf("FETCH BODY[] returned no body")
			}
			return err
		}),
		session("search", func(ic *imapclient.Client, _ uint32, k int) error {
			_, err := ic.UIDSearch(&imap.SearchCriteria{Body: []string{searchWord(k)}}, nil).Wait()
			return err
		}),
		// Before the sign-ins: argon2id's memory would swell the nodes'
		// resident size that the idle phase weighs.
		{name: "idle", ops: cfg.IdleSessions, clients: cfg.IdleSessions},
		signin("signin-apppass", func(user string) string { return cp.appPass[user] }),
		signin("signin-password", func(string) string { return stormPassword }),
	}
}

func dialIMAP(addr string, tlsc *tls.Config) (*imapclient.Client, error) {
	return imapclient.DialStartTLS(addr, &imapclient.Options{TLSConfig: tlsc})
}

type fnWorker func(k int) error

func (f fnWorker) do(k int) error { return f(k) }
func (fnWorker) close()           {}

type imapWorker struct {
	ic *imapclient.Client
	fn func(k int) error
}

func (w *imapWorker) do(k int) error { return w.fn(k) }
func (w *imapWorker) close()         { _ = w.ic.Close() }

// smtpWorker keeps one SMTP connection, dialling again after an error.
type smtpWorker struct {
	c    *smtp.Client
	dial func() (*smtp.Client, error)
	send func(*smtp.Client, int) error
}

func (w *smtpWorker) do(k int) error {
	if w.c == nil {
		c, err := w.dial()
		if err != nil {
			return err
		}
		w.c = c
	}
	err := w.send(w.c, k)
	if err != nil {
		_ = w.c.Close()
		w.c = nil
	}
	return err
}

func (w *smtpWorker) close() {
	if w.c != nil {
		_ = w.c.Quit()
	}
}

// runIdle leaves cfg.IdleSessions IMAP sessions in IDLE, spread over the
// nodes, and weighs them: the nodes' resident memory before and after,
// per session.
func (sc *simCluster) runIdle(ctx context.Context, cp *clusterPeople, baseline Rates) (PhaseResult, error) {
	pr := PhaseResult{Name: "idle"}
	before, err := sc.snap(ctx)
	if err != nil {
		return pr, err
	}
	type idler struct {
		ic  *imapclient.Client
		cmd *imapclient.IdleCommand
	}
	var idlers []idler
	defer func() {
		for _, d := range idlers {
			_ = d.cmd.Close()
			_ = d.ic.Close()
		}
	}()
	start := time.Now()
	for k := range sc.cfg.IdleSessions {
		a, _ := sc.addr(k, "imap")
		user := cp.readers[k%len(cp.readers)]
		ic, err := dialIMAP(a, sc.tlsc)
		if err != nil {
			pr.Errors++
			pr.FirstErr = err.Error()
			continue
		}
		if err := ic.Login(user, cp.appPass[user]).Wait(); err == nil {
			if _, err = ic.Select("INBOX", nil).Wait(); err == nil {
				var cmd *imapclient.IdleCommand
				if cmd, err = ic.Idle(); err == nil {
					idlers = append(idlers, idler{ic, cmd})
					continue
				}
			}
		}
		pr.Errors++
		pr.FirstErr = err.Error()
		_ = ic.Close()
	}
	pr.WallSec = time.Since(start).Seconds()
	pr.Ops = len(idlers)
	pr.OpsPerSec = float64(pr.Ops) / pr.WallSec
	// Let the nodes' garbage collector settle before weighing.
	time.Sleep(sc.cfg.Settle)
	after, err := sc.snap(ctx)
	if err != nil {
		return pr, err
	}
	var grew, heap float64
	n := len(sc.nodes)
	for i, nd := range sc.nodes {
		grew += float64(after.nodeRSS[i] - before.nodeRSS[i])
		heap += after.metrics[i]["go_inuse"] - before.metrics[i]["go_inuse"]
		pr.Nodes = append(pr.Nodes, NodePhase{Name: nd.Name, Ops: pr.Ops / n, RSSMB: float64(after.nodeRSS[i]) / (1 << 20),
			CPUSec: max(0, after.nodeCPU[i]-before.nodeCPU[i]-baseline.NodeCPUms/1000/float64(n)*after.at.Sub(before.at).Seconds())})
	}
	if pr.Ops > 0 {
		pr.RSSPerSession = grew / float64(pr.Ops)
		pr.GoPerSession = heap / float64(pr.Ops)
		pr.PerOp = diff(before, after).minus(baseline.scaled(after.at.Sub(before.at).Seconds())).scaled(1 / float64(pr.Ops))
	}
	return pr, nil
}
