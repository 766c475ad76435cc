package imapd

import "wardmail/imapd/wire"

// handler runs one command. It writes untagged responses itself and returns
// nil for OK (with c.okText when the default text will not do), a
// *respError for NO/BAD, or one of the sentinels in errors.go.
type handler func(c *conn, cmd *wire.Command) error

type cmdSpec struct {
	fn     handler
	states state
	uid    bool // may be prefixed with UID
	// noExpunge: while answering this command (without UID) the server must
	// not send EXPUNGE (RFC 9051 7.5.1).
	noExpunge bool
}

const (
	anyState  = stateNotAuth | stateAuth | stateSelected
	authState = stateAuth | stateSelected
)

// commands is the dispatch table; it is read-only.
var commands = map[string]cmdSpec{
	"CAPABILITY":     {fn: cmdCapability, states: anyState},
	"NOOP":           {fn: cmdNoop, states: anyState},
	"LOGOUT":         {fn: cmdLogout, states: anyState},
	"ID":             {fn: cmdID, states: anyState},
	"STARTTLS":       {fn: cmdStartTLS, states: stateNotAuth},
	"LOGIN":          {fn: cmdLogin, states: stateNotAuth},
	"AUTHENTICATE":   {fn: cmdAuthenticate, states: stateNotAuth},
	"ENABLE":         {fn: cmdEnable, states: authState},
	"UNAUTHENTICATE": {fn: cmdUnauthenticate, states: authState},
	"NAMESPACE":      {fn: cmdNamespace, states: authState},
	"COMPRESS":       {fn: cmdCompress, states: authState},
	"LIST":           {fn: cmdList, states: authState},
	"LSUB":           {fn: cmdLsub, states: authState},
	"CREATE":         {fn: cmdCreate, states: authState},
	"DELETE":         {fn: cmdDelete, states: authState},
	"RENAME":         {fn: cmdRename, states: authState},
	"SUBSCRIBE":      {fn: cmdSubscribe, states: authState},
	"UNSUBSCRIBE":    {fn: cmdUnsubscribe, states: authState},
	"STATUS":         {fn: cmdStatus, states: authState},
	"APPEND":         {fn: cmdAppend, states: authState},
	"SELECT":         {fn: cmdSelect, states: authState},
	"EXAMINE":        {fn: cmdExamine, states: authState},
	"IDLE":           {fn: cmdIdle, states: authState},
	"NOTIFY":         {fn: cmdNotify, states: authState},
	"GETQUOTA":       {fn: cmdGetQuota, states: authState},
	"GETQUOTAROOT":   {fn: cmdGetQuotaRoot, states: authState},
	"CHECK":          {fn: cmdNoop, states: stateSelected},
	"CLOSE":          {fn: cmdClose, states: stateSelected},
	"UNSELECT":       {fn: cmdUnselect, states: stateSelected},
	"EXPUNGE":        {fn: cmdExpunge, states: stateSelected, uid: true},
	"FETCH":          {fn: cmdFetch, states: stateSelected, uid: true, noExpunge: true},
	"STORE":          {fn: cmdStore, states: stateSelected, uid: true, noExpunge: true},
	"SEARCH":         {fn: cmdSearch, states: stateSelected, uid: true, noExpunge: true},
	"SORT":           {fn: cmdSort, states: stateSelected, uid: true, noExpunge: true},
	"THREAD":         {fn: cmdThread, states: stateSelected, uid: true, noExpunge: true},
	"CANCELUPDATE":   {fn: cmdCancelUpdate, states: stateSelected},
	"COPY":           {fn: cmdCopy, states: stateSelected, uid: true},
	"MOVE":           {fn: cmdMove, states: stateSelected, uid: true},
	"REPLACE":        {fn: cmdReplace, states: stateSelected, uid: true},
}

// cmdNoop serves NOOP and CHECK: the updates are sent by run (RFC 9051
// 6.1.2).
func cmdNoop(c *conn, cmd *wire.Command) error {
	if len(cmd.Args) != 0 {
		return bad("%s takes no arguments.", cmd.Name)
	}
	if c.sel != nil {
		c.sel.poll() // always look, even without a change token
	}
	return nil
}

// cmdLogout ends the session (RFC 9051 6.1.3). Nothing but the tagged OK
// may follow the BYE (RFC 3501 7.1.5), so the mailbox is closed first:
// changes that arrived meanwhile are no longer reported after it.
func cmdLogout(c *conn, cmd *wire.Command) error {
	if len(cmd.Args) != 0 {
		return bad("LOGOUT takes no arguments.")
	}
	if c.sel != nil {
		c.sel.close()
		c.sel = nil
		c.state = stateAuth
	}
	c.w.Raw("* BYE Wardmail logging out.\r\n")
	return errLogout
}
