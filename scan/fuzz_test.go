package scan

import "testing"

// FuzzClamdReply: whatever clamd (or something posing as it) answers, a
// reply is a signature name, clean, or an error; never a finding without a
// name.
func FuzzClamdReply(f *testing.F) {
	for _, s := range []string{"stream: OK", "stream: Eicar-Signature FOUND", "INSTREAM size limit exceeded. ERROR",
		"stream:  FOUND", "FOUND", "", "stream: Win.Trojan.Agent-1 FOUND\n", "UNKNOWN COMMAND"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, reply string) {
		name, err := parseClamdReply(reply)
		if err == nil && name == "" && len(reply) > 0 && !hasOK(reply) {
			t.Fatalf("%q read as clean", reply)
		}
		if err != nil && name != "" {
			t.Fatalf("%q: both a name and an error", reply)
		}
	})
}

func hasOK(s string) bool {
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\n' || s[len(s)-1] == '\t' || s[len(s)-1] == '\r') {
		s = s[:len(s)-1]
	}
	return len(s) >= 2 && s[len(s)-2:] == "OK"
}
