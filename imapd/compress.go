package imapd

import (
	"strings"

	"wardmail/imapd/wire"
)

// cmdCompress turns on COMPRESS=DEFLATE (RFC 4978 3): the tagged OK is the
// last uncompressed response, and the client's next byte is compressed.
// Each compressed session holds a deflater of about 0.8 MB, so at most
// MaxCompressed sessions have one at a time; past that the client is told NO
// and goes on uncompressed.
func cmdCompress(c *conn, cmd *wire.Command) error {
	if len(cmd.Args) != 1 || cmd.Args[0].Kind != wire.Atom {
		return bad("COMPRESS takes a mechanism: DEFLATE.")
	}
	if !strings.EqualFold(cmd.Args[0].S, "DEFLATE") {
		return bad("Unknown compression mechanism; DEFLATE is supported.")
	}
	if c.compressed {
		return no("COMPRESSIONACTIVE", "DEFLATE is already active.")
	}
	if c.srv.compressed.Add(1) > c.lim.MaxCompressed {
		c.srv.compressed.Add(-1)
		return no("LIMIT", "Too many compressed sessions now; go on without compression.")
	}
	c.compressed = true
	c.tagged(cmd.Tag, "OK", "", "DEFLATE active.")
	if err := c.w.Flush(); err != nil {
		return errClosed
	}
	c.deflate()
	return errAnswered
}
