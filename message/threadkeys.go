package message

import (
	"encoding/json"
	"hash/fnv"
	"strings"
)

// ThreadKeys are what a message contributes to conversation grouping: 64-bit
// hashes of its own Message-ID, of its parent (In-Reply-To, else the last of
// References), of its thread's root (the first of References), and of its
// base subject (RFC 5256 2.1). They are worked out once, when a body is
// stored, so that grouping a folder reads four integers a message and never
// a header. Zero means "none".
type ThreadKeys struct {
	Self, Parent, Root, Subject int64
	// SubjectReply: the subject had a reply or forward prefix ("Re:"), so a
	// message without references may join an earlier one by subject alone.
	SubjectReply bool
}

func idKey(id string) int64 {
	id = strings.ToLower(strings.TrimSpace(id))
	id = strings.TrimSuffix(strings.TrimPrefix(id, "<"), ">")
	if id == "" {
		return 0
	}
	return hashKey("id:" + id)
}

func hashKey(s string) int64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	k := int64(h.Sum64() & (1<<63 - 1))
	if k == 0 {
		k = 1
	}
	return k
}

// Keys works out a summary's thread keys.
func (s *Summary) Keys() ThreadKeys {
	return threadKeys(&s.Envelope, s.References)
}

func threadKeys(env *Envelope, refs []string) ThreadKeys {
	k := ThreadKeys{Self: idKey(env.MessageID)}
	if len(refs) > 0 {
		k.Root = idKey(refs[0])
		k.Parent = idKey(refs[len(refs)-1])
	}
	if env.InReplyTo != "" {
		// In-Reply-To may hold several ids or comments; the first is the parent.
		ir := env.InReplyTo
		if i := strings.IndexByte(ir, '>'); i >= 0 {
			ir = ir[:i+1]
		}
		if p := idKey(ir); p != 0 {
			k.Parent = p
		}
	}
	if base := NormalizeSubject(env.Subject); base != "" {
		k.Subject = hashKey("subject:" + base)
		k.SubjectReply = hasReplyPrefix(env.Subject)
	}
	return k
}

// hasReplyPrefix: the subject starts with Re:, Fw:, Fwd: (any case, with
// an optional [n] count), the leaders RFC 5256 removes.
func hasReplyPrefix(subject string) bool {
	s := strings.ToLower(strings.TrimSpace(DecodeHeader(subject)))
	for strings.HasPrefix(s, "[") { // a list tag such as "[ward-4] Re: ..."
		i := strings.IndexByte(s, ']')
		if i < 0 {
			return false
		}
		s = strings.TrimSpace(s[i+1:])
	}
	for _, p := range []string{"re", "fwd", "fw"} {
		if strings.HasPrefix(s, p) {
			rest := strings.TrimSpace(s[len(p):])
			if strings.HasPrefix(rest, "[") {
				if i := strings.IndexByte(rest, ']'); i >= 0 {
					rest = strings.TrimSpace(rest[i+1:])
				}
			}
			if strings.HasPrefix(rest, ":") {
				return true
			}
		}
	}
	return false
}

// ThreadKeysOf works out the thread keys from a stored summary, decoding
// only its envelope and references.
func ThreadKeysOf(stored []byte) (ThreadKeys, error) {
	var s struct {
		E Envelope `json:"e"`
		R []string `json:"r"`
	}
	if err := json.Unmarshal(stored, &s); err != nil {
		return ThreadKeys{}, err
	}
	return threadKeys(&s.E, s.R), nil
}

// ThreadFields are what RFC 5256 threading reads of a message.
type ThreadFields struct {
	MessageID, InReplyTo, Subject, Date string
	References                          []string
}

// ThreadFieldsOf reads the threading fields from a stored summary,
// decoding only its envelope and references.
func ThreadFieldsOf(stored []byte) (ThreadFields, error) {
	var s struct {
		E Envelope `json:"e"`
		R []string `json:"r"`
	}
	if err := json.Unmarshal(stored, &s); err != nil {
		return ThreadFields{}, err
	}
	return ThreadFields{MessageID: s.E.MessageID, InReplyTo: s.E.InReplyTo, Subject: s.E.Subject, Date: s.E.Date, References: s.R}, nil
}

// IsReplySubject reports whether a subject had a reply or forward prefix
// ("Re:", "Fwd:", "Fw:", with list tags before them), which RFC 5256
// threading removes when it extracts the base subject.
func IsReplySubject(s string) bool { return hasReplyPrefix(s) }
