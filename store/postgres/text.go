package postgres

import (
	"context"
	"database/sql/driver"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/stdlib"
)

// Text from the wire is not always UTF-8: a Latin-1 Subject or Message-ID
// from an old client, a user agent, a name typed at an IMAP LOGIN. SQLite
// stores such bytes as they come; PostgreSQL refuses them in a text
// parameter ("invalid byte sequence for encoding UTF8"), which would turn a
// message into a 451 that never goes away. So every string argument has its
// invalid bytes replaced by U+FFFD on the way in: the message is stored, its
// body (bytea or a blob file, never a string) keeps every byte, and a lookup
// by the same string finds the row, since the lookup is replaced alike.
//
// database/sql asks the connection to check each argument before a
// statement runs (driver.NamedValueChecker); validText is pgx's connector
// with a connection whose check does the replacement, and everything else
// is pgx's own.

type validText struct{ driver.Connector }

func (c validText) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return validTextConn{conn.(*stdlib.Conn)}, nil
}

type validTextConn struct{ *stdlib.Conn }

// CheckNamedValue implements driver.NamedValueChecker.
func (c validTextConn) CheckNamedValue(nv *driver.NamedValue) error {
	if s, ok := nv.Value.(string); ok && !utf8.ValidString(s) {
		nv.Value = strings.ToValidUTF8(s, "\uFFFD")
	}
	return c.Conn.CheckNamedValue(nv)
}
