package message

import "testing"

func TestThreadKeys(t *testing.T) {
	test := func(env Envelope, refs []string, self, parent, root bool, reply bool) ThreadKeys {
		t.Helper()
		k := threadKeys(&env, refs)
		if (k.Self != 0) != self || (k.Parent != 0) != parent || (k.Root != 0) != root || k.SubjectReply != reply {
			t.Errorf("%+v %v: keys %+v", env, refs, k)
		}
		return k
	}
	orig := test(Envelope{MessageID: "<A@nhs.test>", Subject: "Rota"}, nil, true, false, false, false)
	reply := test(Envelope{MessageID: "<b@nhs.test>", InReplyTo: "<a@nhs.test> (Amira's message)", Subject: "Re: Rota"}, []string{"<a@nhs.test>"}, true, true, true, true)
	if reply.Parent != orig.Self || reply.Root != orig.Self {
		t.Errorf("ids are not matched case-insensitively: %+v %+v", orig, reply)
	}
	if reply.Subject != orig.Subject {
		t.Errorf("base subjects differ: %+v %+v", orig, reply)
	}
	test(Envelope{Subject: "[ward-4] RE[2]: Rota"}, nil, false, false, false, true)
	test(Envelope{Subject: "Fwd: Rota"}, nil, false, false, false, true)
	test(Envelope{Subject: "Rebooking: Rota"}, nil, false, false, false, false)
	test(Envelope{Subject: "=?utf-8?q?Re=3A_Rota?="}, nil, false, false, false, true)
	test(Envelope{}, nil, false, false, false, false)
}

func FuzzThreadKeys(f *testing.F) {
	f.Add([]byte(`{"e":{"s":"Re: x","m":"<a@b>","ir":"<c@d>"},"r":["<c@d>"]}`))
	f.Add([]byte(`{"e":{"s":"[x] [y"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = ThreadKeysOf(b) // must not panic
	})
}
