package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"wardmail/store"

	"github.com/jackc/pgx/v5"
)

// changeChannel is the LISTEN/NOTIFY channel every node of a database
// announces its committed mailbox changes on.
const changeChannel = "wardmail_changes"

// maxPayload keeps a notification under PostgreSQL's 8000-byte payload
// limit; a larger set of keys goes as several notifications.
const maxPayload = 7000

// changeFeed is store.ChangeFeed over LISTEN/NOTIFY. A notification is
// "NODE KEY,KEY,...": the announcing node's random name, so that a node
// ignores its own (its hub heard them at commit), and the hub keys.
//
// NOTIFY inside the write transaction is delivered when, and only if, it
// commits. The listener holds a connection of its own (pgx, outside the
// pools), and makes it again when it drops; the changes announced in the
// gap are lost, so after reconnecting it wakes every subscriber.
type changeFeed struct {
	cfg  *pgx.ConnConfig
	node string
	log  *slog.Logger
	// retry is the longest wait between attempts to reconnect.
	retry time.Duration
}

func newChangeFeed(dsn string, log *slog.Logger) (*changeFeed, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["application_name"] = "wardmail listener"
	var b [6]byte
	_, _ = rand.Read(b[:])
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &changeFeed{cfg: cfg, node: hex.EncodeToString(b[:]), log: log, retry: 5 * time.Second}, nil
}

// Announce implements store.ChangeFeed.
func (f *changeFeed) Announce(ctx context.Context, tx store.Execer, keys []int64) error {
	var b strings.Builder
	flush := func() error {
		if b.Len() == 0 {
			return nil
		}
		_, err := tx.ExecContext(ctx, `SELECT pg_notify($1, $2)`, changeChannel, f.node+" "+b.String())
		b.Reset()
		return err
	}
	for _, k := range keys {
		if b.Len() > maxPayload {
			if err := flush(); err != nil {
				return err
			}
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(k, 10))
	}
	return flush()
}

// Listen implements store.ChangeFeed.
func (f *changeFeed) Listen(ctx context.Context, publish func([]int64)) {
	wait := 50 * time.Millisecond
	for ctx.Err() == nil {
		err := f.listen(ctx, func() {
			// Whatever was announced before we listened is lost.
			publish(nil)
			wait = 50 * time.Millisecond
		}, publish)
		if ctx.Err() != nil {
			return
		}
		f.log.Warn("change feed: listening connection lost; reconnecting", "err", err, "in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, f.retry)
	}
}

// listen holds one connection until it fails or ctx ends.
func (f *changeFeed) listen(ctx context.Context, listening func(), publish func([]int64)) error {
	conn, err := pgx.ConnectConfig(ctx, f.cfg)
	if err != nil {
		return err
	}
	defer func() {
		c, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = conn.Close(c)
	}()
	if _, err := conn.Exec(ctx, `LISTEN `+changeChannel); err != nil {
		return err
	}
	listening()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		node, list, ok := strings.Cut(n.Payload, " ")
		if !ok || node == f.node {
			continue
		}
		keys, err := parseKeys(list)
		if err != nil {
			f.log.Warn("change feed: unreadable notification", "err", err)
			publish(nil)
			continue
		}
		publish(keys)
	}
}

// parseKeys reads "KEY,KEY,...".
func parseKeys(s string) ([]int64, error) {
	if s == "" {
		return nil, errors.New("no keys")
	}
	parts := strings.Split(s, ",")
	keys := make([]int64, 0, len(parts))
	for _, p := range parts {
		k, err := strconv.ParseInt(p, 10, 64)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, nil
}
