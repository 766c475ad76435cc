package server

import (
	"wardmail/admin"
	"wardmail/auth"
	"wardmail/cluster"
	"wardmail/directory"
	"wardmail/inbound"
	"wardmail/listsvc"
	"wardmail/mail"
	"wardmail/outbound"
	"wardmail/store"
	"wardmail/submit"
	"wardmail/tlsrpt"
)

// Each service reaches storage only through the interface it declares; both
// backends serve every one of them through *store.Store. The wiring below
// (server.go) is the one place that hands the store to the services.
var (
	_ mail.Storage         = (*store.Store)(nil)
	_ admin.Storage        = (*store.Store)(nil)
	_ submit.Storage       = (*store.Store)(nil)
	_ listsvc.Storage      = (*store.Store)(nil)
	_ directory.Storage    = (*store.Store)(nil)
	_ auth.Storage         = (*store.Store)(nil)
	_ auth.WebSessionStore = (*store.Store)(nil)
	_ outbound.Storage     = (*store.Store)(nil)
	_ inbound.Directory    = (*store.Store)(nil)
	_ inbound.ReportStore  = (*store.Store)(nil)
	_ cluster.Storage      = (*store.Store)(nil)
	_ tlsrpt.Store         = (*store.Store)(nil)
)
