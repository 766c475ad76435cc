package testnet

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// socketmap answers Postfix's transport lookups (socketmap_table(5), a
// netstring protocol) from the test DNS. Postfix cannot be pointed at a
// resolver on another port, so instead of looking up MX records itself it
// asks this table, which looks them up through Unbound when asked: a domain's
// route follows its MX records, changes included. The map name is the asking
// Postfix's own domain, which it delivers itself (NOTFOUND).
type socketmap struct {
	n    *Net
	addr string
	l    net.Listener
	mu   sync.Mutex
}

func (n *Net) socketmapAddr() (string, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.smap != nil {
		return n.smap.addr, nil
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	s := &socketmap{n: n, addr: l.Addr().String(), l: l}
	n.smap = s
	go s.serve()
	n.t.Cleanup(func() { _ = l.Close() })
	return s.addr, nil
}

func (s *socketmap) serve() {
	for {
		c, err := s.l.Accept()
		if err != nil {
			return
		}
		go s.conn(c)
	}
}

func (s *socketmap) conn(c net.Conn) {
	defer func() { _ = c.Close() }()
	r := bufio.NewReader(c)
	for {
		req, err := readNetstring(r, 10000)
		if err != nil {
			return
		}
		name, key, _ := strings.Cut(req, " ")
		reply := s.lookup(name, key)
		s.log(name, key, reply)
		if _, err := fmt.Fprintf(c, "%d:%s,", len(reply), reply); err != nil {
			return
		}
	}
}

// log keeps every lookup in socketmap.log, for a test that wonders why
// Postfix went where it went.
func (s *socketmap) log(name, key, reply string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := os.OpenFile(filepath.Join(s.n.dir, "socketmap.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return
	}
	_, _ = fmt.Fprintf(f, "%s %s %s -> %s\n", time.Now().Format(time.StampMilli), name, key, reply)
	_ = f.Close()
}

func readNetstring(r *bufio.Reader, limit int) (string, error) {
	lenText, err := r.ReadString(':')
	if err != nil {
		return "", err
	}
	n, err := strconv.Atoi(strings.TrimSuffix(lenText, ":"))
	if err != nil || n < 0 || n > limit {
		return "", errors.New("bad netstring")
	}
	buf := make([]byte, n+1)
	if _, err := io.ReadFull(r, buf); err != nil {
		return "", err
	}
	if buf[n] != ',' {
		return "", errors.New("bad netstring")
	}
	return string(buf[:n]), nil
}

// lookup routes a domain to its best MX's address, as an SMTP client would
// (RFC 5321 section 5.1): lowest preference first, the domain's own address
// when it has no MX.
func (s *socketmap) lookup(own, key string) string {
	// Postfix treats a socketmap as a pattern table and asks with the whole
	// recipient address, never the domain alone.
	if i := strings.LastIndexByte(key, '@'); i >= 0 {
		key = key[i+1:]
	}
	key = strings.ToLower(strings.TrimSuffix(key, "."))
	if strings.ContainsAny(key, " *") || !strings.Contains(key, ".") || strings.HasPrefix(key, ".") || key == own {
		return "NOTFOUND "
	}
	s.n.mu.Lock()
	d := s.n.dns
	s.n.mu.Unlock()
	if d == nil {
		return "NOTFOUND "
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res := d.NetResolver()
	host := key
	mxs, err := res.LookupMX(ctx, key)
	var dnsErr *net.DNSError
	switch {
	case err == nil && len(mxs) > 0:
		slices.SortStableFunc(mxs, func(a, b *net.MX) int { return int(a.Pref) - int(b.Pref) })
		host = mxs[0].Host
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
	case err != nil:
		return "OK retry:4.4.3 test DNS: " + err.Error()
	}
	addrs, err := res.LookupNetIP(ctx, "ip4", host)
	if err != nil || len(addrs) == 0 {
		if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
			return fmt.Sprintf("OK error:5.1.2 no MX or address for %s in the test DNS", key)
		}
		return fmt.Sprintf("OK retry:4.4.3 test DNS: %v", err)
	}
	return fmt.Sprintf("OK smtp:[%s]:%d", addrs[0].Unmap(), s.n.Port)
}
