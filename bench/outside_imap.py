# Opens a mailbox as a mail client does, with Python's imaplib: a new
# connection, STARTTLS, LOGIN, SELECT INBOX, UID FETCH 1:* (FLAGS ENVELOPE), LOGOUT.
# Prints the median time of each step over the repeats (after one warm-up
# open, reported apart) as JSON. Arguments: host port user password repeats.
import imaplib, json, ssl, statistics, sys, time

host, port, user, password, repeats = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])

tls = ssl.create_default_context()
tls.check_hostname = False
tls.verify_mode = ssl.CERT_NONE  # both servers use self-signed certificates

def once():
    t0 = time.perf_counter()
    c = imaplib.IMAP4(host, port)
    c.starttls(ssl_context=tls)
    c.login(user, password)
    t1 = time.perf_counter()
    typ, data = c.select("INBOX")
    assert typ == "OK", data
    n = int(data[0])
    t2 = time.perf_counter()
    typ, data = c.uid("FETCH", "1:*", "(FLAGS ENVELOPE)")
    assert typ == "OK", data
    t3 = time.perf_counter()
    c.logout()
    return n, (t1 - t0) * 1000, (t2 - t1) * 1000, (t3 - t2) * 1000, (t3 - t0) * 1000

first = once()
runs = [once() for _ in range(repeats)]
med = lambda i: statistics.median(r[i] for r in runs)
print(json.dumps({"Messages": first[0], "Login": med(1), "Select": med(2), "Fetch": med(3), "Total": med(4), "First": first[4]}))
