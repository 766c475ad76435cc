package server

import (
	"wardmail/lockout"
	"wardmail/store"
)

var _ lockout.Storage = (*store.Store)(nil)
