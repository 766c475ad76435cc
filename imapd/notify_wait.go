package imapd

import "time"

// awaitCommand waits for the client's next command while NOTIFY is on,
// sending what the client asked to hear of as it happens (RFC 5465 4:
// notifications come between commands, not only in IDLE). One goroutine
// waits for the first byte of the command and ends before this returns, so
// it never races the command reader. Without NOTIFY, or with a command
// already buffered, it returns at once. An error is the read's (a deadline,
// the end of the connection).
func (c *conn) awaitCommand() error {
	if c.notify == nil || c.r.Buffered() > 0 {
		return nil
	}
	ready := make(chan error, 1)
	go func() { ready <- c.r.Wait() }()
	for {
		var selC <-chan struct{}
		push, expunge := c.selectedPush(false)
		if push {
			selC = c.sel.sub.C
		}
		var err error
		select {
		case err := <-ready:
			return err
		case <-selC:
			// Expunges held back (SELECTED-DELAYED) go with the next
			// command that may report them.
			err = c.pushSelected(expunge)
		case <-c.notifyC():
			err = c.notifyCheck(false)
		}
		if err != nil {
			c.log.Warn("reporting changes", "err", err)
		}
		if err := c.w.Flush(); err != nil {
			// The client is gone or not reading: end the wait.
			_ = c.nc.SetReadDeadline(time.Now())
			<-ready
			return err
		}
	}
}
