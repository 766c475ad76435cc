package lists

import (
	"errors"
	"strings"
	"testing"
)

func TestRuleMatch(t *testing.T) {
	nurse := Attrs{Org: "Leeds Teaching Hospitals NHS Trust", Role: "Nurse", Site: "St James's"}
	doctor := Attrs{Org: "Leeds Teaching Hospitals NHS Trust", Role: "Doctor", Site: "LGI"}
	other := Attrs{Org: "Barts Health NHS Trust", Role: "Nurse", Site: "Royal London"}
	test := func(rule string, want ...bool) {
		t.Helper()
		r, err := ParseRule(rule)
		if err != nil {
			t.Fatalf("%s: %v", rule, err)
		}
		for i, a := range []Attrs{nurse, doctor, other} {
			if got := r.Match(a); got != want[i] {
				t.Errorf("%s on %v: %v, want %v", rule, a, got, want[i])
			}
		}
	}
	test(`*`, true, true, true)
	test(`role = "nurse"`, true, false, true)
	test(`role = " NURSE "`, true, false, true)
	test(`role != "Nurse"`, false, true, false)
	test(`role = "Nurse" and org = "Leeds Teaching Hospitals NHS Trust"`, true, false, false)
	test(`role = "Doctor" or site = "Royal London"`, false, true, true)
	test(`not (role = "Doctor" or site = "Royal London")`, true, false, false)
	test(`not not role = "Doctor"`, false, true, false)
	test(`site in ("LGI", "Royal London")`, false, true, true)
	test(`role = "Nurse" and (site = "LGI" or site = "St James's")`, true, false, false)
	test(`ORG = "barts health nhs trust" AND role = "nurse"`, false, false, true)
	test(`role = "Say \"hi\""`, false, false, false)
}

func TestRuleErrors(t *testing.T) {
	test := func(rule string, col int, want string) {
		t.Helper()
		_, err := ParseRule(rule)
		var re *RuleError
		if !errors.As(err, &re) {
			t.Fatalf("%q: %v, want a RuleError", rule, err)
		}
		if re.Col != col || !strings.Contains(re.Msg, want) {
			t.Errorf("%q: column %d %q, want column %d containing %q", rule, re.Col, re.Msg, col, want)
		}
	}
	test(``, 1, "empty")
	test(`organisation = "X"`, 1, "write org")
	test(`grade = "X"`, 1, "org, role and site")
	test(`role = Nurse`, 8, "expected a quoted value")
	test(`role = 'Nurse'`, 8, "double quotes")
	test(`role = "Nurse`, 8, "not closed")
	test(`(role = "Nurse"`, 16, "expected ) to close the ( at column 1")
	test(`role = "Nurse" and`, 19, "ends too early")
	test(`role = "Nurse" site = "X"`, 16, "expected and, or")
	test(`role ! "X"`, 6, `"!" must be followed`)
	test(`role in "X"`, 9, "expected ( after")
	test(`role in ("X" "Y")`, 14, "expected , or )")
	test(`é = "x"`, 1, "unexpected character")
	test(strings.Repeat("(", 40)+"*"+strings.Repeat(")", 40), 34, "nests deeper")
	test(strings.Repeat("x", MaxRuleBytes+1), 1, "limit")
}

func TestMatchesEveryone(t *testing.T) {
	for rule, want := range map[string]bool{
		`*`: true, `* or role = "x"`: true, `role = "x" and *`: false, `not *`: false, `(*)`: true,
	} {
		r, err := ParseRule(rule)
		if err != nil {
			t.Fatal(err)
		}
		if r.MatchesEveryone() != want {
			t.Errorf("%s: MatchesEveryone %v", rule, !want)
		}
	}
}

func TestScope(t *testing.T) {
	s, err := ParseScope("org: Leeds Teaching Hospitals NHS Trust ")
	if err != nil || s.String() != "org:Leeds Teaching Hospitals NHS Trust" {
		t.Fatalf("%v %v", s, err)
	}
	if !s.Contains("leeds teaching hospitals nhs trust") || s.Contains("Barts Health NHS Trust") || s.Contains("") {
		t.Error("org scope membership wrong")
	}
	set, _ := ParseScope("set:A Trust|B Trust||a trust")
	if len(set.Orgs) != 2 || !set.Contains("B TRUST") || set.Contains("C Trust") {
		t.Errorf("set: %v", set)
	}
	nat, _ := ParseScope("national")
	if !nat.Contains("") || !nat.Contains("anything") {
		t.Error("national scope must contain everyone")
	}
	for _, bad := range []string{"", "org:", "set:|", "county:Kent", "national:Leeds"} {
		if _, err := ParseScope(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func FuzzParseRule(f *testing.F) {
	for _, s := range []string{`*`, `role = "Nurse" and not (site in ("A", "B") or org != "X")`, `(`, `"`, `role = "\"`, `a!b`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		r, err := ParseRule(src)
		if err != nil {
			var re *RuleError
			if !errors.As(err, &re) || re.Col < 1 || re.Msg == "" {
				t.Fatalf("%q: error without a position: %v", src, err)
			}
			return
		}
		// A parsed rule re-parses from its own text to the same meaning.
		r2, err := ParseRule(r.String())
		if err != nil {
			t.Fatalf("%q does not re-parse: %v", r.String(), err)
		}
		for _, a := range []Attrs{{}, {Org: "x", Role: "y", Site: "z"}} {
			if r.Match(a) != r2.Match(a) {
				t.Fatalf("%q changes meaning when re-parsed", src)
			}
		}
	})
}
