// Package imapd is Wardmail's IMAP server: the protocol engine for mail
// clients, written here because no maintained Go library serves CONDSTORE
// and QRESYNC. The wire subpackage reads commands and writes responses; this
// package holds one file per command family, over the store (mailboxes,
// UIDs, flags, MODSEQs) and the message package (envelopes, structures and
// sections from the stored summary, never reparsing bodies for FETCH).
//
// Implemented:
//   - RFC 9051 IMAP4rev2 and RFC 3501 IMAP4rev1 (both at once; a client
//     opts into rev2 with ENABLE)
//   - RFC 2177 IDLE (woken by the store's change hub, not by polling)
//   - RFC 2342 NAMESPACE, RFC 2971 ID, RFC 3691 UNSELECT, RFC 5161 ENABLE
//   - RFC 3516 BINARY (FETCH BINARY, BINARY.PEEK, BINARY.SIZE; literal8)
//   - RFC 4315 UIDPLUS (APPENDUID, COPYUID, UID EXPUNGE), RFC 3502
//     MULTIAPPEND (all or none, APPENDUID with a UID set)
//   - RFC 4731 ESEARCH (RETURN MIN MAX COUNT ALL), RFC 5182 SEARCHRES ($), RFC 5032
//     WITHIN (OLDER, YOUNGER)
//   - RFC 5256 SORT, THREAD=ORDEREDSUBJECT and THREAD=REFERENCES; RFC 5957
//     SORT=DISPLAY
//   - RFC 5267 ESORT, CONTEXT=SEARCH and CONTEXT=SORT (RETURN PARTIAL,
//     UPDATE with ADDTO/REMOVEFROM, CANCELUPDATE)
//   - RFC 4959 SASL-IR and RFC 4616 PLAIN; LOGIN; RFC 9051 STARTTLS and
//     LOGINDISABLED before TLS; RFC 8314 implicit TLS (ServeTLS)
//   - RFC 5258 LIST-EXTENDED, RFC 5819 LIST-STATUS, RFC 6154 SPECIAL-USE
//     and CREATE-SPECIAL-USE, RFC 3348 CHILDREN
//   - RFC 8437 UNAUTHENTICATE, RFC 8514 SAVEDATE, RFC 8474 OBJECTID
//     (MAILBOXID, EMAILID, THREADID; see objectid.go), RFC 8970 PREVIEW
//   - RFC 5530 response codes
//   - RFC 4469 CATENATE (TEXT parts and /MAILBOX;UIDVALIDITY=N/;UID=M[/;SECTION=S]
//     URLs, RFC 5092, into the person's own mailboxes; no URLAUTH)
//   - RFC 6851 MOVE, RFC 8508 REPLACE (append and expunge in one transaction)
//   - RFC 7162 CONDSTORE and QRESYNC (MODSEQ, CHANGEDSINCE, UNCHANGEDSINCE,
//     SELECT (QRESYNC ...), VANISHED)
//   - RFC 7888 LITERAL+, RFC 7889 APPENDLIMIT, RFC 4978 COMPRESS=DEFLATE
//     (compress/flate; at most MaxCompressed sessions at once)
//   - RFC 6855 UTF8=ACCEPT (ENABLE; UTF-8 names, quoted strings and ENVELOPE
//     fields; APPEND UTF8 (literal8); no SEARCH CHARSET once enabled)
//   - RFC 8438 STATUS=SIZE, RFC 9208 QUOTA (GETQUOTA, GETQUOTAROOT)
//
// \Recent (RFC 3501 2.3.2) is kept for IMAP4rev1 sessions: the first
// session to select a message owns it, through a per-mailbox high-water
// mark in the store; IMAP4rev2 sessions neither see nor claim it (RFC 9051
// appendix E).
package imapd
