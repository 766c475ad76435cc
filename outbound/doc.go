// Package outbound delivers mail to other servers: the durable queue (its
// rows are in the store, behind the Storage interface), the scheduler that
// reads only what is due through a next-attempt index, and the SMTP client
// that carries several messages per connection to a destination's MX.
//
// What it follows:
//   - RFC 5321: MX lookup with fallback to the domain's address (5.1), 4xx as
//     a retry and 5xx as a failure (4.2.1), retries with back-off until the
//     give-up time (4.5.4.1), one connection for several transactions (RSET,
//     4.1.1.5), dot-stuffing (4.5.2).
//   - RFC 7505: a null MX means the domain takes no mail.
//   - RFC 2920 PIPELINING, RFC 1870 SIZE, RFC 6152 8BITMIME, RFC 6531
//     SMTPUTF8: a message that needs what the server does not offer fails
//     with a reason rather than being changed on the way.
//   - RFC 3207 STARTTLS whenever offered; RFC 7435 opportunistic security by
//     default (TLS 1.2 or newer, the certificate not checked), stricter when
//     a Security plan says so (MTA-STS, DANE, REQUIRETLS).
//   - RFC 3464 delivery status notifications, in words people understand,
//     only ever to a signed-in sender of ours (no backscatter).
package outbound
