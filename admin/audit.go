package admin

import (
	"context"

	"wardmail/privilege"
	"wardmail/store"
)

// Audit returns audit entries, newest first, as q asks. National
// administrators (and the operator) read every entry; a local administrator
// reads the entries that concern their organisations: about one of their
// people or lists. Entries that concern no single organisation (purges,
// storms, settings) and those written before entries recorded their
// organisations stay national (store/audit_orgs.go).
func (s *Service) Audit(ctx context.Context, actor privilege.Principal, q store.AuditQuery) ([]store.AuditEntry, error) {
	q.Orgs = nil
	if !actor.IsNational() {
		q.Orgs = append([]int64{}, actor.Orgs...)
	}
	return s.st.AuditLog(ctx, q)
}
