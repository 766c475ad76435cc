// Package quickack sends the TCP acknowledgement a door owes its client at
// once, when the door has nothing to send with it.
//
// After a TLS 1.3 handshake (RFC 8446 2) the client's last flight is its
// Finished message, and the server answers nothing: it waits for the
// client's first command (after STARTTLS, RFC 9051 6.2.1 and RFC 3207 4).
// Linux then delays the ACK of that Finished (up to 40 ms) hoping to carry
// it on a reply. A client whose socket batches small writes (Nagle's
// algorithm, on by default: Python's imaplib and smtplib, many mail
// clients) holds its first command until that ACK arrives, so every sign-in
// after STARTTLS waited 40 ms. Ack sets TCP_QUICKACK (tcp(7)), which sends
// the pending ACK at once; elsewhere than Linux it does nothing.
package quickack
