package server

import (
	"wardmail/mail"
	"wardmail/store"
)

// The mail service reaches storage only through the interface it declares;
// both backends serve it through *store.Store.
var _ mail.Storage = (*store.Store)(nil)
