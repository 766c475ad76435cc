package auth_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"wardmail/auth"
)

func TestHashVerifyRoundTrip(t *testing.T) {
	for _, p := range []auth.Params{auth.TestParams(), auth.DefaultParams()} {
		enc, err := auth.HashPassword(p, "correct horse battery staple")
		if err != nil {
			t.Fatal(err)
		}
		ok, err := auth.VerifyPassword(enc, "correct horse battery staple")
		if err != nil || !ok {
			t.Fatalf("VerifyPassword(%q) = %v, %v; want true, nil", enc, ok, err)
		}
		ok, err = auth.VerifyPassword(enc, "correct horse battery stapl")
		if err != nil || ok {
			t.Fatalf("wrong password: VerifyPassword = %v, %v; want false, nil", ok, err)
		}
	}
}

func TestHashFormat(t *testing.T) {
	enc, err := auth.HashPassword(auth.DefaultParams(), "pw")
	if err != nil {
		t.Fatal(err)
	}
	// 16-byte salt and 32-byte key in unpadded standard base64.
	re := regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !re.MatchString(enc) {
		t.Errorf("HashPassword = %q, not in PHC form", enc)
	}
	enc2, _ := auth.HashPassword(auth.DefaultParams(), "pw")
	if enc == enc2 {
		t.Error("two hashes of the same password are equal: salt is not random")
	}
}

// TestVerifyKnownVector checks that a hash written elsewhere is read: a widely
// published argon2id example (password "password", salt "somesalt", 64 MiB,
// t=2, p=1, 32-byte key) in the reference implementation's PHC form.
func TestVerifyKnownVector(t *testing.T) {
	const enc = "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"
	ok, err := auth.VerifyPassword(enc, "password")
	if err != nil || !ok {
		t.Fatalf("VerifyPassword(reference vector) = %v, %v; want true, nil", ok, err)
	}
}

func TestVerifyMalformed(t *testing.T) {
	good, err := auth.HashPassword(auth.TestParams(), "secret")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, "$") // "", alg, v, params, salt, hash
	with := func(i int, s string) string {
		p := append([]string(nil), parts...)
		p[i] = s
		return strings.Join(p, "$")
	}
	tests := []struct{ name, enc string }{
		{"empty", ""},
		{"garbage", "not a hash"},
		{"bcrypt", "$2y$10$abcdefghijklmnopqrstuuJ6vCdUm/ChH7lJb8lMmGBcVNY0XVS5i"},
		{"argon2i", with(1, "argon2i")},
		{"argon2d", with(1, "argon2d")},
		{"version 16", with(2, "v=16")},
		{"no version", strings.Join(append(parts[:2:2], parts[3:]...), "$")},
		{"extra field", good + "$x"},
		{"missing hash", strings.Join(parts[:5], "$")},
		{"no leading $", good[1:]},
		{"params order", with(3, "t=1,m=8,p=1")},
		{"params missing p", with(3, "m=8,t=1")},
		{"params extra", with(3, "m=8,t=1,p=1,keyid=abc")},
		{"m not number", with(3, "m=x,t=1,p=1")},
		{"m negative", with(3, "m=-8,t=1,p=1")},
		{"m plus sign", with(3, "m=+8,t=1,p=1")},
		{"m leading zero", with(3, "m=08,t=1,p=1")},
		{"m empty", with(3, "m=,t=1,p=1")},
		{"m huge", with(3, "m=99999999999999999999999,t=1,p=1")},
		{"m above 4 GiB", with(3, "m=4194305,t=1,p=1")},
		{"m below 8p", with(3, "m=8,t=1,p=2")},
		{"m zero", with(3, "m=0,t=1,p=1")},
		{"t zero", with(3, "m=8,t=0,p=1")},
		{"t above 100", with(3, "m=8,t=101,p=1")},
		{"p zero", with(3, "m=8,t=1,p=0")},
		{"p above 255", with(3, "m=4096,t=1,p=256")},
		{"salt empty", with(4, "")},
		{"salt short", with(4, "c2FsdA")},
		{"salt bad base64", with(4, "!!!!!!!!!!!")},
		{"salt padded", with(4, parts[4]+"==")},
		{"salt newline", with(4, parts[4][:4]+"\n"+parts[4][4:])},
		{"salt too long", with(4, strings.Repeat("A", 200))},
		{"hash empty", with(5, "")},
		{"hash short", with(5, "AAAAAAAAAAAAAAAAAAAA")},
		{"hash non-canonical", with(5, parts[5][:len(parts[5])-1]+"B")},
		{"hash too long", with(5, strings.Repeat("A", 1000))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := auth.VerifyPassword(tt.enc, "secret")
			if ok || err == nil {
				t.Fatalf("VerifyPassword(%q) = %v, %v; want false and an error", tt.enc, ok, err)
			}
			if !errors.Is(err, auth.ErrMalformedHash) {
				t.Errorf("error %v does not wrap ErrMalformedHash", err)
			}
			if !auth.NeedsRehash(tt.enc, auth.TestParams()) {
				t.Error("NeedsRehash of a malformed hash = false")
			}
		})
	}
}

func TestHashPasswordBadParams(t *testing.T) {
	for _, p := range []auth.Params{
		{},
		{Memory: 8, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 4},
		{Memory: 8, Time: 1, Threads: 1, KeyLen: 8, SaltLen: 16},
		{Memory: 5 << 20, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16},
		{Memory: 8, Time: 1000, Threads: 1, KeyLen: 32, SaltLen: 16},
	} {
		if enc, err := auth.HashPassword(p, "x"); err == nil {
			t.Errorf("HashPassword(%+v) = %q, want an error", p, enc)
		}
	}
}

func TestNeedsRehash(t *testing.T) {
	old := auth.TestParams()
	enc, err := auth.HashPassword(old, "secret")
	if err != nil {
		t.Fatal(err)
	}
	if auth.NeedsRehash(enc, old) {
		t.Error("NeedsRehash with the same params = true")
	}
	for _, change := range []func(*auth.Params){
		func(p *auth.Params) { p.Memory *= 2 },
		func(p *auth.Params) { p.Time++ },
		func(p *auth.Params) { p.Threads++; p.Memory *= 2 },
		func(p *auth.Params) { p.KeyLen = 32 },
		func(p *auth.Params) { p.SaltLen = 16 },
	} {
		p := old
		change(&p)
		if !auth.NeedsRehash(enc, p) {
			t.Errorf("NeedsRehash(%q, %+v) = false, want true", enc, p)
		}
	}
}
