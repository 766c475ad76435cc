package imapd

import (
	"errors"
	"net"
	"strings"

	"wardmail/imapd/wire"
)

// cmdIdle waits for changes and pushes them as they are committed (RFC 2177,
// RFC 9051 6.3.13). It is driven by the store's hub, not by polling: a
// delivery wakes the session at once. The client ends it with DONE; the
// authenticated inactivity timeout bounds it (clients re-issue IDLE well
// within RFC 9051's 30 minutes).
func cmdIdle(c *conn, cmd *wire.Command) error {
	if len(cmd.Args) != 0 {
		return bad("IDLE takes no arguments.")
	}
	c.w.Raw("+ idling\r\n")
	if c.sel != nil {
		// Posts that a FETCH or STORE left waiting come in now, before
		// the session waits for the next change.
		c.sel.poll()
		if err := c.sync(true); err != nil {
			c.log.Warn("reporting mailbox changes", "err", err)
		}
	}
	if err := c.w.Flush(); err != nil {
		return errClosed
	}
	if !c.armRead(c.lim.IdleTimeout) {
		c.bye(c.endText())
		return errClosed
	}
	type lineResult struct {
		line string
		err  error
	}
	// One reader for exactly one line; the loop below waits for it before
	// returning, so it never races the command reader.
	lines := make(chan lineResult, 1)
	go func() {
		line, err := c.r.ReadLine()
		lines <- lineResult{line, err}
	}()
	for {
		var changed <-chan struct{}
		push, expunge := c.selectedPush(true)
		if push {
			changed = c.sel.sub.C
		}
		select {
		case <-changed:
			if err := c.pushSelected(expunge); err != nil {
				c.log.Warn("reporting mailbox changes", "err", err)
			}
			if err := c.w.Flush(); err != nil {
				return errClosed
			}
		case <-c.notifyC():
			// Other mailboxes the client watches (RFC 5465).
			if err := c.notifyCheck(false); err != nil {
				c.log.Warn("reporting mailbox changes", "err", err)
			}
			if err := c.w.Flush(); err != nil {
				return errClosed
			}
		case res := <-lines:
			if res.err != nil {
				var ne net.Error
				var we *wire.Error
				switch {
				case errors.As(res.err, &we):
					c.bye("Line too long.")
				case errors.As(res.err, &ne) && ne.Timeout():
					// Shutdown, a revocation of the person's
					// credentials, or the inactivity timeout.
					c.bye(c.endText())
				}
				return errClosed
			}
			if !strings.EqualFold(strings.TrimSpace(res.line), "DONE") {
				return bad("Expected DONE to end IDLE.")
			}
			c.okText = "IDLE terminated."
			return nil
		}
	}
}
