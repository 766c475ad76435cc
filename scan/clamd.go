package scan

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// Clamd talks to ClamAV's daemon over its socket: a unix socket path or a
// host:port (clamd.conf LocalSocket or TCPSocket).
type Clamd struct {
	Addr    string
	Timeout time.Duration // per scan, connection included
	// Chunk is the size of each INSTREAM chunk (clamd(8): "<length><data>",
	// the length a 4-byte unsigned integer in network byte order).
	Chunk int
}

// errClamdLimit is clamd's answer to a stream longer than its
// StreamMaxLength: the message was not scanned.
var errClamdLimit = errors.New("clamd: the message is longer than clamd's StreamMaxLength")

func (c *Clamd) dial(ctx context.Context) (net.Conn, error) {
	network := "tcp"
	if strings.HasPrefix(c.Addr, "/") {
		network = "unix"
	}
	var d net.Dialer
	return d.DialContext(ctx, network, c.Addr)
}

// Scan sends a message with INSTREAM and returns the name of the signature
// it matched, or "" when clamd found nothing.
func (c *Clamd) Scan(ctx context.Context, body []byte) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout())
	defer cancel()
	conn, err := c.dial(ctx)
	if err != nil {
		return "", fmt.Errorf("clamd: %w", err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	// The z prefix makes the command and its answer NUL-terminated.
	w := bufio.NewWriterSize(conn, 64<<10)
	if _, err := w.WriteString("zINSTREAM\x00"); err != nil {
		return "", fmt.Errorf("clamd: %w", err)
	}
	chunk := c.Chunk
	if chunk <= 0 {
		chunk = 64 << 10
	}
	var n [4]byte
	for rest := body; len(rest) > 0; {
		k := min(chunk, len(rest))
		binary.BigEndian.PutUint32(n[:], uint32(k))
		if _, err := w.Write(n[:]); err != nil {
			return "", c.writeErr(conn, err)
		}
		if _, err := w.Write(rest[:k]); err != nil {
			return "", c.writeErr(conn, err)
		}
		rest = rest[k:]
	}
	binary.BigEndian.PutUint32(n[:], 0)
	if _, err := w.Write(n[:]); err != nil {
		return "", c.writeErr(conn, err)
	}
	if err := w.Flush(); err != nil {
		return "", c.writeErr(conn, err)
	}
	reply, err := readReply(conn)
	if err != nil {
		return "", fmt.Errorf("clamd: %w", err)
	}
	return parseClamdReply(reply)
}

// writeErr reads clamd's reason when it closed the stream early (its size
// limit), else returns the write error.
func (c *Clamd) writeErr(conn net.Conn, err error) error {
	if reply, rerr := readReply(conn); rerr == nil && reply != "" {
		if _, perr := parseClamdReply(reply); perr != nil {
			return perr
		}
	}
	return fmt.Errorf("clamd: %w", err)
}

// readReply reads one NUL- or newline-terminated answer of at most 1 KiB.
func readReply(conn net.Conn) (string, error) {
	r := bufio.NewReaderSize(conn, 1024)
	var b []byte
	for len(b) < 1024 {
		c, err := r.ReadByte()
		if err != nil {
			if len(b) > 0 {
				break
			}
			return "", err
		}
		if c == 0 || c == '\n' {
			break
		}
		b = append(b, c)
	}
	return string(b), nil
}

// parseClamdReply reads "stream: OK", "stream: NAME FOUND" or
// "... ERROR" (clamd(8)).
func parseClamdReply(reply string) (string, error) {
	reply = strings.TrimSpace(reply)
	switch {
	case strings.HasSuffix(reply, " FOUND"):
		name := strings.TrimSuffix(reply, " FOUND")
		if i := strings.Index(name, ": "); i >= 0 {
			name = name[i+2:]
		}
		if name == "" {
			name = "unnamed signature"
		}
		return name, nil
	case strings.HasSuffix(reply, "OK"):
		return "", nil
	case strings.Contains(reply, "size limit exceeded"):
		return "", errClamdLimit
	}
	if len(reply) > 200 {
		reply = reply[:200]
	}
	return "", fmt.Errorf("clamd: unexpected answer %q", reply)
}

// Ping asks clamd whether it is alive.
func (c *Clamd) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout())
	defer cancel()
	conn, err := c.dial(ctx)
	if err != nil {
		return fmt.Errorf("clamd: %w", err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	if _, err := conn.Write([]byte("zPING\x00")); err != nil {
		return fmt.Errorf("clamd: %w", err)
	}
	reply, err := readReply(conn)
	if err != nil {
		return fmt.Errorf("clamd: %w", err)
	}
	if reply != "PONG" {
		return fmt.Errorf("clamd: PING answered %q", reply)
	}
	return nil
}

func (c *Clamd) timeout() time.Duration {
	if c.Timeout <= 0 {
		return 30 * time.Second
	}
	return c.Timeout
}
