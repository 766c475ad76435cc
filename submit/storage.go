package submit

import (
	"context"
	"time"

	"wardmail/lists"
	"wardmail/store"
)

// Storage is what the pipeline needs from the database; *store.Store
// implements it (asserted in server wiring). It is split by step of the
// pipeline (DESIGN section 4): who a recipient is, what a list decides, and
// the one write that delivers. The reply-all storm breaker and the sender
// limits are policy's, the outbound queue outbound's, each behind its own
// Config field.
type Storage interface {
	RecipientStorage
	ListStorage
	DeliveryStorage
}

// RecipientStorage resolves recipient addresses: people and the domains this
// server receives mail for.
type RecipientStorage interface {
	PersonByEmail(ctx context.Context, email string) (*store.Person, error)
	IsLocalDomain(ctx context.Context, domain string) (bool, error)
	LocalDomainNames(ctx context.Context) ([]string, error)
}

// ListStorage is what posting to a list reads (and the one thing it writes:
// a list suspended when it drifts past its approved size).
type ListStorage interface {
	ListByAddress(ctx context.Context, address string) (*store.List, error)
	ListByID(ctx context.Context, id int64) (*store.List, error)
	NestedLists(ctx context.Context, listID int64) ([]store.NestedList, error)
	SenderFacts(ctx context.Context, l *store.List, who *store.Person) (lists.SenderFacts, error)
	SetListSuspended(ctx context.Context, actor string, listID int64, suspended bool, why string) error
	AudienceCount(ctx context.Context, people, listIDs []int64) (int64, error)
	AudienceOrgs(ctx context.Context, people, listIDs []int64) ([]store.OrgCount, error)
}

// DeliveryStorage stores a body once and delivers it: a submission's rows
// and post-log appends in one commit (DESIGN section 3), or a notice to one
// person.
type DeliveryStorage interface {
	PrepareContent(ctx context.Context, body, summary []byte) (*store.Content, error)
	Submit(ctx context.Context, sub *store.Submission) (*store.SubmitResult, error)
	Deliver(ctx context.Context, c *store.Content, personIDs []int64, date time.Time) ([]store.Delivered, error)
}
