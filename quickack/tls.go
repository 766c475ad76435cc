package quickack

import "crypto/tls"

// AfterHandshake returns a copy of cfg for a door where the client speaks
// first once TLS is up (HTTPS): the client's Finished is acknowledged as
// soon as the server has checked the handshake, instead of after the
// delayed-ACK timer. A door that speaks first after the handshake (an
// implicit-TLS IMAP or SMTP greeting) needs none of this: its greeting
// carries the ACK.
//
// tls.Config's VerifyConnection is the last hook before the server reads
// the client's Finished (TLS 1.3; in TLS 1.2 the server sends the last
// flight and has no ACK to owe), and it does not name the connection, so
// each connection gets its own shallow copy of the configuration that does.
func AfterHandshake(cfg *tls.Config) *tls.Config {
	base := cfg.Clone()
	out := cfg.Clone()
	next := base.GetConfigForClient
	out.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		c := base
		if next != nil {
			got, err := next(hello)
			if err != nil {
				return nil, err
			}
			if got != nil {
				c = got
			}
		}
		c = c.Clone()
		verify := c.VerifyConnection
		conn := hello.Conn
		c.VerifyConnection = func(cs tls.ConnectionState) error {
			if verify != nil {
				if err := verify(cs); err != nil {
					return err
				}
			}
			// Leaving delayed-ACK mode now sends the ACK of a Finished
			// already received, or makes the read of one that is still
			// on its way acknowledge it.
			Ack(conn)
			return nil
		}
		return c, nil
	}
	return out
}
