package auth_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"wardmail/auth"
	"wardmail/lockout"
	"wardmail/store"
	"wardmail/store/storetest"
)

// newSignIn is a Login with lockout over a fresh store holding one person
// whose password is "pw-"+email.
func newSignIn(t *testing.T, h *auth.Hasher, email string) (*auth.Login, *store.Store, *store.Person) {
	t.Helper()
	ctx := context.Background()
	st, err := storetest.New(t).OpenErr(storetest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	hash, err := auth.HashPassword(auth.TestParams(), "pw-"+email)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.UpsertPeople(ctx, []store.PersonRecord{{Email: email, Name: email, Org: "Test Trust", PasswordHash: hash}}); err != nil {
		t.Fatal(err)
	}
	eng, err := lockout.New(ctx, lockout.Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	l := auth.New(auth.Config{Store: st, Hasher: h, Lockout: eng})
	t.Cleanup(func() {
		if err := errors.Join(l.Close(), eng.Close(), st.Close()); err != nil {
			t.Error(err)
		}
	})
	p, err := st.PersonByEmail(ctx, email)
	if err != nil {
		t.Fatal(err)
	}
	return l, st, p
}

// A busy hashing pool is the server's fault: a temporary failure, never
// counted, however many times.
func TestBusyPoolNotCounted(t *testing.T) {
	h := auth.NewHasher(auth.TestParams(), 1, time.Millisecond)
	l, _, _ := newSignIn(t, h, "amira@nhs.test")
	release := h.HoldWorker()
	src := netip.MustParseAddr("192.0.2.7")
	for i := range 25 {
		_, err := l.SignIn(context.Background(), auth.Attempt{Username: "amira@nhs.test", Password: fmt.Sprint("guess-", i), Source: src, Protocol: auth.ProtoIMAP})
		if !errors.Is(err, auth.ErrUnavailable) || !errors.Is(err, auth.ErrBusy) {
			t.Fatalf("sign-in on a saturated pool: %v", err)
		}
	}
	release()
	if ls := l.Lockout().Locks(); len(ls) != 0 {
		t.Errorf("locks: %+v", ls)
	}
	if _, err := l.SignIn(context.Background(), auth.Attempt{Username: "amira@nhs.test", Password: "pw-amira@nhs.test", Source: src, Protocol: auth.ProtoIMAP}); err != nil {
		t.Errorf("after the pool freed up: %v", err)
	}
}

// RFC 6238 appendix B, SHA-1, last six digits.
func TestTOTPVectors(t *testing.T) {
	secret := []byte("12345678901234567890")
	for _, v := range []struct {
		at   int64
		code string
	}{{59, "287082"}, {1111111109, "081804"}, {1111111111, "050471"}, {1234567890, "005924"}, {2000000000, "279037"}, {20000000000, "353130"}} {
		if got := auth.TOTPCode(secret, time.Unix(v.at, 0)); got != v.code {
			t.Errorf("TOTP at %d = %s, want %s", v.at, got, v.code)
		}
	}
	now := time.Unix(1111111109, 0)
	if _, ok := auth.VerifyTOTP(secret, "081 804", now); !ok {
		t.Error("code with a space not accepted")
	}
	if _, ok := auth.VerifyTOTP(secret, auth.TOTPCode(secret, now.Add(-30*time.Second)), now); !ok {
		t.Error("previous step not accepted")
	}
	if _, ok := auth.VerifyTOTP(secret, auth.TOTPCode(secret, now.Add(-90*time.Second)), now); ok {
		t.Error("a code three steps old accepted")
	}
}

// Webmail sign-in: administrators must use TOTP, anyone may; a code works
// once; recovery codes work once; wrong codes count towards lockout.
func TestSecondFactor(t *testing.T) {
	ctx := context.Background()
	l, st, p := newSignIn(t, auth.NewHasher(auth.TestParams(), 2, time.Second), "amira@nhs.test")
	src := netip.MustParseAddr("192.0.2.7")
	try := func(code string) (*store.Person, error) {
		return l.SignIn(ctx, auth.Attempt{Username: p.Email, Password: "pw-" + p.Email, Source: src, Protocol: auth.ProtoHTTP, SecondFactor: code})
	}
	if _, err := try(""); err != nil {
		t.Fatalf("no TOTP, not an admin: %v", err)
	}
	if err := st.GrantAdmin(ctx, "test", p.ID, store.RoleNational, 0); err != nil {
		t.Fatal(err)
	}
	if got, err := try(""); !errors.Is(err, auth.ErrSecondFactorNotSetUp) || got == nil {
		t.Fatalf("admin without TOTP: %v, %v; want the person and ErrSecondFactorNotSetUp", got, err)
	}
	secret, uri, err := l.EnrolTOTP(ctx, p, "Wardmail")
	if err != nil || len(uri) < 20 {
		t.Fatal(uri, err)
	}
	now := time.Now()
	if err := l.ConfirmTOTP(ctx, p, auth.TOTPCode(secret, now.Add(-30*time.Second))); err != nil {
		t.Fatalf("confirm: %v", err)
	}
	if _, err := try(""); !errors.Is(err, auth.ErrSecondFactorRequired) {
		t.Errorf("without a code: %v", err)
	}
	if _, err := try(auth.TOTPCode(secret, now)); err != nil {
		t.Errorf("right code: %v", err)
	}
	if _, err := try(auth.TOTPCode(secret, now)); !errors.Is(err, auth.ErrBadSecondFactor) {
		t.Errorf("the same code again: %v", err)
	}
	codes, err := l.NewRecoveryCodes(ctx, p.Email, p)
	if err != nil || len(codes) != 10 {
		t.Fatal(codes, err)
	}
	if _, err := try(codes[3]); err != nil {
		t.Errorf("recovery code: %v", err)
	}
	if _, err := try(codes[3]); !errors.Is(err, auth.ErrBadSecondFactor) {
		t.Errorf("recovery code twice: %v", err)
	}
	// Wrong codes are counted: with the recovery code used twice, twenty
	// lock this network (familiar: it signed in successfully above).
	for i := range 19 {
		if _, err := try(fmt.Sprintf("%06d", i)); !errors.Is(err, auth.ErrBadSecondFactor) {
			t.Fatalf("wrong code: %v", err)
		}
	}
	if _, err := try(auth.TOTPCode(secret, now.Add(30*time.Second))); !errors.Is(err, auth.ErrLocked) {
		t.Errorf("after twenty wrong codes: %v, want ErrLocked", err)
	}
}

func TestAppPasswordShape(t *testing.T) {
	secret, hash := auth.NewAppPassword()
	if len(secret) != 38 || secret[:3] != "wm-" {
		t.Errorf("app password %q", secret)
	}
	for _, s := range []string{secret, " " + secret, "WM" + secret[2:], "wm" + secret[3:11] + " " + secret[12:]} {
		if h, ok := auth.ParseAppPassword(s); !ok || string(h) != string(hash) {
			t.Errorf("ParseAppPassword(%q) = %x, %v", s, h, ok)
		}
	}
	for _, s := range []string{"", "wm-", secret[:37], secret + "a", "xy" + secret[2:], "wm-11111111-11111111-11111111-11111111", "correct horse battery staple"} {
		if _, ok := auth.ParseAppPassword(s); ok {
			t.Errorf("ParseAppPassword(%q) accepted", s)
		}
	}
	if err := auth.CheckPasswordPolicy(secret); !errors.Is(err, auth.ErrPasswordAppShape) {
		t.Errorf("a password shaped like an app password: %v", err)
	}
}

func FuzzParseAppPassword(f *testing.F) {
	secret, _ := auth.NewAppPassword()
	for _, s := range []string{secret, "wm-aaaaaaaa-bbbbbbbb-cccccccc-dddddddd", "WM AAAA", "", "wm-\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, ok := auth.ParseAppPassword(s)
		if ok && len(h) != 32 {
			t.Fatalf("hash of %d bytes", len(h))
		}
		if ok && auth.CheckPasswordPolicy(s) == nil {
			t.Fatalf("%q is an app password and passes the password policy", s)
		}
	})
}

func FuzzParseSecondFactor(f *testing.F) {
	for _, s := range []string{"123456", "123 456", "123-456", "abcde-fghij", "ABCDE FGHIJ", "", "1234567", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if v, ok := auth.ParseTOTPCode(s); ok && v >= 1_000_000 {
			t.Fatalf("code %d out of range", v)
		}
		if h, ok := auth.ParseRecoveryCode(s); ok && len(h) != 32 {
			t.Fatalf("hash of %d bytes", len(h))
		}
		_, _ = auth.VerifyTOTP([]byte("12345678901234567890"), s, time.Unix(59, 0))
	})
}

// A webmail device that signed in before is a source of its own: a lock on
// the network it is on now does not reach it, while an unknown device there
// is locked with the network.
func TestKnownDeviceIsItsOwnSource(t *testing.T) {
	ctx := context.Background()
	l, _, p := newSignIn(t, auth.NewHasher(auth.TestParams(), 2, time.Second), "amira@nhs.test")
	home, cafe := netip.MustParseAddr("192.0.2.7"), netip.MustParseAddr("198.51.100.9")
	sign := func(src netip.Addr, device, pw string) error {
		_, err := l.SignIn(ctx, auth.Attempt{Username: p.Email, Password: pw, Source: src, Protocol: auth.ProtoHTTP, Device: device})
		return err
	}
	if err := sign(home, "laptop-cookie", "pw-"+p.Email); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if err := sign(cafe, "", fmt.Sprint("guess-", i)); !errors.Is(err, auth.ErrBadCredentials) {
			t.Fatalf("guess %d: %v", i, err)
		}
	}
	if err := sign(cafe, "", "pw-"+p.Email); !errors.Is(err, auth.ErrLocked) {
		t.Errorf("the locked network: %v, want ErrLocked", err)
	}
	if err := sign(cafe, "unknown-cookie", "pw-"+p.Email); !errors.Is(err, auth.ErrLocked) {
		t.Errorf("an unknown device on the locked network: %v, want ErrLocked", err)
	}
	if err := sign(cafe, "laptop-cookie", "pw-"+p.Email); err != nil {
		t.Errorf("the known laptop on the locked network: %v, want success", err)
	}
}
