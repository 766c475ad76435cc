package message

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// The stored form of a Summary is JSON with the short keys of its tags.

// Marshal returns the stored form of s.
func (s *Summary) Marshal() []byte {
	b, err := json.Marshal(s)
	if err != nil {
		// A Summary holds only strings, numbers and slices: encoding
		// cannot fail.
		panic(fmt.Sprintf("message: encoding a summary: %v", err))
	}
	return b
}

// Unmarshal reads a Summary stored by Marshal. It fails for data that is not
// a Summary or whose parts are not well formed (offsets out of order,
// nesting past the limits), so that code holding a Summary can rely on it.
func Unmarshal(b []byte) (*Summary, error) {
	var s Summary
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("message: reading a summary: %w", err)
	}
	n := 0
	if err := s.check(0, &n); err != nil {
		return nil, fmt.Errorf("message: reading a summary: %w", err)
	}
	return &s, nil
}

// check verifies what Section and the IMAP server rely on.
func (s *Summary) check(depth int, n *int) error {
	if s.Structure == nil {
		return fmt.Errorf("no structure")
	}
	if s.HeaderSize < 0 || s.Structure.HeaderStart+s.HeaderSize != s.Structure.BodyStart {
		return fmt.Errorf("header size %d does not match the structure", s.HeaderSize)
	}
	return s.Structure.check(depth, n)
}

func (p *Part) check(depth int, n *int) error {
	*n++
	if *n > MaxParts {
		return fmt.Errorf("more than %d parts", MaxParts)
	}
	if depth > 2*MaxDepth+1 {
		return fmt.Errorf("parts nested deeper than %d", MaxDepth)
	}
	if p.HeaderStart < 0 || p.HeaderStart > p.BodyStart || p.BodyStart > p.End {
		return fmt.Errorf("part offsets %d, %d, %d are out of order", p.HeaderStart, p.BodyStart, p.End)
	}
	for _, c := range p.Children {
		if c == nil {
			return fmt.Errorf("empty part")
		}
		if err := c.check(depth+1, n); err != nil {
			return err
		}
	}
	if p.Message != nil {
		return p.Message.check(depth+1, n)
	}
	return nil
}

// UnmarshalEnvelope reads only the envelope of a summary stored by Marshal,
// for the common FETCH (FLAGS ENVELOPE) of a whole mailbox. Marshal writes
// the envelope first, so decoding stops before the MIME structure, which is
// most of the bytes; a summary with its keys in another order still works,
// at the cost of a full decode.
func UnmarshalEnvelope(b []byte) (*Envelope, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	if t, err := d.Token(); err != nil || t != json.Delim('{') {
		return nil, fmt.Errorf("message: reading a summary: not an object")
	}
	if t, err := d.Token(); err == nil && t == "e" {
		var e Envelope
		if err := d.Decode(&e); err != nil {
			return nil, fmt.Errorf("message: reading a summary: %w", err)
		}
		return &e, nil
	}
	s, err := Unmarshal(b)
	if err != nil {
		return nil, err
	}
	return &s.Envelope, nil
}
