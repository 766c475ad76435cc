package admin

import (
	"context"
	"errors"
	"fmt"

	"wardmail/privilege"
	"wardmail/store"
	"wardmail/tlsrpt"
)

// TLSReports lists the TLS reports (RFC 8460) other operators sent about our
// domains, newest first; domain "" is every domain. Reading them is not
// audited: they describe other servers' connections to ours, not anyone's
// mail.
func (s *Service) TLSReports(ctx context.Context, actor privilege.Principal, domain string, limit int) ([]tlsrpt.Received, error) {
	if err := actor.May(privilege.ViewTLSReports); err != nil {
		return nil, err
	}
	reps, err := s.st.TLSReports(ctx, domain, limit)
	if reps == nil && err == nil {
		reps = []tlsrpt.Received{}
	}
	return reps, err
}

// TLSReport returns one received TLS report with its JSON as received.
func (s *Service) TLSReport(ctx context.Context, actor privilege.Principal, id int64) (*tlsrpt.Received, error) {
	if err := actor.May(privilege.ViewTLSReports); err != nil {
		return nil, err
	}
	rep, err := s.st.TLSReport(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, &Error{Kind: NotFound, Sentence: fmt.Sprintf("There is no TLS report %d.", id)}
	} else if err != nil {
		return nil, err
	}
	return &rep, nil
}
