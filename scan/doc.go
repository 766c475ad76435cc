// Package scan decides what happens to a message because of what it carries:
// attachment types the service does not accept (by name and, where cheap, by
// content, including inside zip archives), malware found by ClamAV's clamd
// (the INSTREAM command of clamd(8)) and spam scored by Rspamd (its HTTP
// protocol, POST /checkv2). The submission pipeline calls Scanner.Scan once
// per message and acts on the Verdict: deliver, deliver to Junk, hold in the
// administrators' quarantine, refuse (550 5.7.1) or ask the sender to try
// again (451 4.7.0).
//
// Both engines are off unless configured. When an engine is down or slow the
// configured Fallback decides between a temporary refusal and accepting the
// message with a header saying it was not scanned; either way it is counted
// (wardmail_scan_unavailable_total) and the engine's state is on /healthz.
package scan
