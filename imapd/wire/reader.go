// Package wire reads IMAP commands and writes IMAP responses (RFC 9051
// section 9, RFC 3501 section 9, RFC 7888 LITERAL+, RFC 3516 literal8).
//
// The reader is strict and bounded: every line, literal, list depth and
// argument count has a limit, and a command is read completely (with its
// literals) before anything acts on it. It knows nothing of what commands
// mean: it turns a command into a tag, a name and a tree of arguments, and the
// server interprets them.
package wire

import (
	"bufio"
	"errors"
	"io"
	"strings"
)

// Kind says what an argument is.
type Kind uint8

// Argument kinds.
const (
	Atom    Kind = iota // an atom, including flags (\Seen), sequence sets and FETCH items with their [section]<partial>
	Quoted              // a quoted string
	Literal             // a literal ({n} or ~{n}); its bytes are in B
	List                // a parenthesised list
)

// Arg is one argument of a command.
type Arg struct {
	Kind     Kind
	S        string // atom or quoted string text
	B        []byte // literal bytes
	List     []Arg
	Literal8 bool // the literal was written ~{n} (RFC 3516)
}

// IsString reports whether a is a quoted string or a literal.
func (a Arg) IsString() bool { return a.Kind == Quoted || a.Kind == Literal }

// AString returns the value of an astring (atom, quoted string or literal).
func (a Arg) AString() (string, bool) {
	switch a.Kind {
	case Atom, Quoted:
		return a.S, true
	case Literal:
		return string(a.B), true
	}
	return "", false
}

// IsAtom reports whether a is the atom name, compared without regard to case.
func (a Arg) IsAtom(name string) bool { return a.Kind == Atom && strings.EqualFold(a.S, name) }

// IsNIL reports whether a is the atom NIL.
func (a Arg) IsNIL() bool { return a.IsAtom("NIL") }

// Command is one client command.
type Command struct {
	Tag  string
	Name string // upper case, without the UID prefix
	UID  bool   // the command was prefixed with UID (RFC 9051 6.4.9)
	Args []Arg
}

// Limits bound what the reader accepts.
type Limits struct {
	MaxLine  int // longest line, CRLF included
	MaxDepth int // deepest nesting of parenthesised lists and brackets
	MaxArgs  int // most arguments in one command, counting list members
}

// Error is a command the reader refused.
type Error struct {
	Tag  string // the command's tag, or "*" when it could not be read
	Code string // RFC 5530 response code, e.g. "TOOBIG", or ""
	Msg  string // a sentence for the client
	// Fatal means the stream cannot be trusted any more: the connection
	// must be closed after answering.
	Fatal bool
	// No says the answer is NO rather than BAD (a literal over the limit).
	No bool
}

func (e *Error) Error() string { return e.Msg }

// Reader reads commands from a client.
type Reader struct {
	br  *bufio.Reader
	lim Limits

	// LiteralLimit returns the largest literal accepted in the named
	// command (upper case; "" when the name is not known yet).
	LiteralLimit func(command string) int64
	// CommandLimit, when set, returns the most literal bytes the named
	// command may carry in all (APPEND with several messages, RFC 3502).
	CommandLimit func(command string) int64
	// Continue is called before reading a synchronising literal; it sends
	// the continuation request ("+ ...") to the client.
	Continue func() error
}

// NewReader returns a Reader over br.
func NewReader(br *bufio.Reader, lim Limits) *Reader {
	if lim.MaxLine <= 0 {
		lim.MaxLine = 64 << 10
	}
	if lim.MaxDepth <= 0 {
		lim.MaxDepth = 16
	}
	if lim.MaxArgs <= 0 {
		lim.MaxArgs = 10000
	}
	return &Reader{br: br, lim: lim}
}

// Reset makes the reader read from br (after STARTTLS).
func (r *Reader) Reset(br *bufio.Reader) { r.br = br }

// Buffered returns how many bytes are read from the connection but not yet
// consumed.
func (r *Reader) Buffered() int { return r.br.Buffered() }

// Wait blocks until the client has sent something (or the read fails), and
// consumes nothing.
func (r *Reader) Wait() error {
	_, err := r.br.Peek(1)
	return err
}

// errLineTooLong is fatal: the rest of the line cannot be skipped cheaply.
var errLineTooLong = &Error{Tag: "*", Msg: "Line too long.", Fatal: true}

// ReadLine reads one line (without its CRLF), as IDLE's DONE and
// AUTHENTICATE's responses are sent. It returns an *Error for a line over the
// limit and the I/O error otherwise.
func (r *Reader) ReadLine() (string, error) {
	b, err := r.readLine()
	return string(b), err
}

// readLine reads up to and including LF, returning the line without CRLF or
// LF. A line longer than MaxLine is an *Error.
func (r *Reader) readLine() ([]byte, error) {
	var line []byte
	for {
		frag, err := r.br.ReadSlice('\n')
		if len(line)+len(frag) > r.lim.MaxLine {
			return nil, errLineTooLong
		}
		if err == nil {
			if line == nil {
				line = frag // no copy needed for a line that fit the buffer
			} else {
				line = append(line, frag...)
			}
			line = line[:len(line)-1]
			if n := len(line); n > 0 && line[n-1] == '\r' {
				line = line[:n-1]
			}
			// ReadSlice's buffer is reused by the next read: copy.
			return append([]byte(nil), line...), nil
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			if errors.Is(err, io.EOF) && len(line)+len(frag) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		line = append(line, frag...)
	}
}

// ReadCommand reads the next command. Errors of type *Error are the client's
// fault and carry the answer; others are I/O errors.
func (r *Reader) ReadCommand() (*Command, error) {
	line, err := r.readLine()
	if err != nil {
		return nil, err
	}
	p := &parser{r: r, line: line}
	cmd, err := p.command()
	if err != nil {
		var we *Error
		if errors.As(err, &we) && !we.Fatal && !p.atLineEnd {
			// Skip what is left of the command so the next one starts clean.
			if serr := p.skipRest(); serr != nil {
				return nil, serr
			}
		}
		return nil, err
	}
	return cmd, nil
}
