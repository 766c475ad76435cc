package privilege

import "fmt"

// Action is something a door may be asked to do on someone's behalf.
type Action string

// The actions of the administrators' API, the console and the command line.
// Each HTTP route that needs more than a signed-in person names one (web's
// adminRoutes); a test walks them all against every rank.
const (
	ViewScope Action = "admin.scope" // the organisations one administers

	ReadAudit Action = "audit.read" // entries about one's organisations; national: all

	SearchPeople  Action = "people.search"
	ViewPerson    Action = "person.view"
	AddPerson     Action = "person.add"
	DisablePerson Action = "person.disable"
	EnablePerson  Action = "person.enable"
	ResetPassword Action = "person.password"
	UnlockPerson  Action = "person.unlock"
	GrantAdmin    Action = "admin.grant" // and revoke

	ViewLockouts Action = "lockouts.view"
	SetIncident  Action = "incident.set"

	PreviewList   Action = "list.preview"
	CreateList    Action = "list.create"
	ManageList    Action = "list.manage" // view, members, rule, owners, policy, delete
	NationalList  Action = "list.national"
	OpenLargeList Action = "list.open-large" // members/org policy above the named-senders size
	ApproveList   Action = "list.approve"
	OwnList       Action = "list.own" // an owner's own list: held posts, members
	Moderate      Action = "held.moderate"

	Purge Action = "message.purge"
	Trace Action = "message.trace"

	ViewStorms   Action = "storm.view"
	BlockStorm   Action = "storm.block"
	UnblockStorm Action = "storm.unblock"

	// The quarantine: messages the scanner kept from their recipients. A
	// local administrator sees and decides for the recipients in their
	// organisations; releasing malware to anyone is a national decision.
	ViewQuarantine    Action = "quarantine.view"
	ReleaseQuarantine Action = "quarantine.release"
	DeleteQuarantine  Action = "quarantine.delete"
	ReleaseMalware    Action = "quarantine.release-malware"
	ViewTLSReports    Action = "tlsreports.view" // TLS reports (RFC 8460) others sent about our domains
	// The outbound queue holds every organisation's mail to the internet:
	// its recipients and subjects are national business.
	ViewQueue   Action = "queue.view"
	ManageQueue Action = "queue.manage" // retry, hold, release, delete
)

// Rule is what an action needs.
type Rule struct {
	// Min is the least rank that may ask at all.
	Min Rank
	// InScope: the subject's organisation must be one the actor administers.
	InScope bool
	// Outrank: the subject's rank must be below the actor's, unless the actor
	// is national (who may act on anyone, other national administrators
	// included).
	Outrank bool
	// NotSelf: nobody does this to themselves through the administrators'
	// doors (the person's own settings do it with their own credentials).
	NotSelf bool
	// Verb completes "only a national administrator may ... them".
	Verb string
	// Self is the refusal when NotSelf applies.
	Self string
}

// Rules is the privilege table: every action, what it needs. Scope within
// the actor's organisations is decided by Administers (lists: by their scope
// or their owners' organisations; messages: by who sent or received them).
var Rules = map[Action]Rule{
	ViewScope:    {Min: Local},
	ReadAudit:    {Min: Local},
	SearchPeople: {Min: Local},
	ViewPerson:   {Min: Local, InScope: true, Verb: "see"},
	AddPerson:    {Min: Local},
	DisablePerson: {Min: Local, InScope: true, Outrank: true, NotSelf: true, Verb: "disable",
		Self: "You cannot disable your own account."},
	EnablePerson: {Min: Local, InScope: true, Outrank: true, NotSelf: true, Verb: "enable",
		Self: "You cannot enable your own account."},
	ResetPassword: {Min: Local, InScope: true, Outrank: true, NotSelf: true, Verb: "reset the password of",
		Self: "Change your own password in Settings, with your current one."},
	UnlockPerson: {Min: Local, InScope: true, Outrank: true, Verb: "unlock"},
	GrantAdmin:   {Min: National, Verb: "change the administrators of"},

	ViewLockouts: {Min: Local},
	SetIncident:  {Min: National},

	PreviewList:   {Min: Local},
	CreateList:    {Min: Local},
	ManageList:    {Min: Local},
	NationalList:  {Min: National},
	OpenLargeList: {Min: National},
	ApproveList:   {Min: National},
	OwnList:       {Min: Staff},
	Moderate:      {Min: Local},

	Purge: {Min: National},
	Trace: {Min: Local},

	ViewStorms:   {Min: Local},
	BlockStorm:   {Min: Local},
	UnblockStorm: {Min: National},

	ViewQuarantine:    {Min: Local},
	ReleaseQuarantine: {Min: Local},
	DeleteQuarantine:  {Min: Local},
	ReleaseMalware:    {Min: National},
	ViewTLSReports:    {Min: Local},
	ViewQueue:         {Min: National},
	ManageQueue:       {Min: National},
}

// needs is the refusal for a rank too low for the action.
func (r Rule) needs() string {
	switch r.Min {
	case National:
		return "Only national administrators may do this."
	case Local:
		return "This needs an administrator of your organisation. Ask your local administrator if you need it done."
	}
	return "You may not do this."
}

// Describe is a line per action for documentation and the CLI's help.
func Describe(a Action) string {
	r, ok := Rules[a]
	if !ok {
		return string(a) + ": unknown"
	}
	s := fmt.Sprintf("%s: %s or above", a, r.Min)
	if r.InScope {
		s += ", within their organisations"
	}
	if r.Outrank {
		s += ", on people of lower rank (national administrators: anyone)"
	}
	if r.NotSelf {
		s += ", never on themselves"
	}
	return s
}
