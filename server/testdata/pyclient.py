"""A non-Go client: Python's smtplib and imaplib against a running Wardmail.

Reads WM_SUBMISSION, WM_IMAP (host:port), WM_USER, WM_PASS, WM_TO from the
environment; exits non-zero with a message on the first thing that is wrong.
"""
import email
import imaplib
import os
import smtplib
import ssl
import sys
import time

ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE

def hostport(v):
    h, p = v.rsplit(":", 1)
    return h, int(p)

user, pw, to = os.environ["WM_USER"], os.environ["WM_PASS"], os.environ["WM_TO"]

# Submission: STARTTLS, AUTH, send.
h, p = hostport(os.environ["WM_SUBMISSION"])
with smtplib.SMTP(h, p, timeout=10) as s:
    s.ehlo("python.test")
    if s.has_extn("auth"):
        sys.exit("AUTH is offered before STARTTLS")
    s.starttls(context=ctx)
    s.ehlo("python.test")
    s.login(user, pw)
    msg = ("From: %s\r\nTo: %s\r\nSubject: =?utf-8?q?Caf=C3=A9_rota?=\r\n"
           "Content-Type: text/plain; charset=utf-8\r\n\r\nSee you at 8.\r\n") % (user, to)
    refused = s.sendmail(user, [to], msg.encode())
    if refused:
        sys.exit("refused: %r" % refused)

# IMAP as the recipient: STARTTLS, LOGIN, SELECT, SEARCH, FETCH, STORE.
h, p = hostport(os.environ["WM_IMAP"])
m = imaplib.IMAP4(h, p, timeout=10)
if "LOGINDISABLED" not in m.capabilities:
    sys.exit("LOGIN is not disabled before STARTTLS: %r" % (m.capabilities,))
m.starttls(ssl_context=ctx)
m.login(to, os.environ["WM_TO_PASS"])
typ, data = m.select("INBOX")
if typ != "OK" or int(data[0]) < 1:
    sys.exit("SELECT INBOX: %s %r" % (typ, data))
typ, data = m.uid("SEARCH", None, "UNSEEN", "FROM", user)
uids = data[0].split()
if len(uids) != 1:
    sys.exit("SEARCH UNSEEN FROM: %r" % (data,))
typ, data = m.uid("FETCH", uids[0], "(BODY.PEEK[] FLAGS)")
raw = data[0][1]
parsed = email.message_from_bytes(raw)
subject = str(email.header.make_header(email.header.decode_header(parsed["Subject"])))
if subject != "Café rota":
    sys.exit("subject %r" % subject)
if b"\\Seen" in data[0][0]:
    sys.exit("BODY.PEEK set \\Seen")
typ, data = m.uid("STORE", uids[0], "+FLAGS", "(\\Flagged)")
if typ != "OK":
    sys.exit("STORE: %s %r" % (typ, data))
typ, data = m.list()
if not any(b"\\Sent" in l for l in data):
    sys.exit("no \\Sent special-use mailbox in LIST: %r" % (data,))
m.logout()
print("python clients ok")
