package listsvc

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"

	"wardmail/lists"
	"wardmail/privilege"
	"wardmail/store"
)

// Held lists the posts waiting for moderators: of one list, or with
// listID 0 of every list.
func (s *Service) Held(ctx context.Context, listID int64) ([]store.Held, error) {
	held, err := s.st.HeldPosts(ctx, listID)
	if held == nil && err == nil {
		held = []store.Held{}
	}
	return held, err
}

// HeldManaged lists the posts waiting for the moderators of the lists
// actor manages.
func (s *Service) HeldManaged(ctx context.Context, actor *privilege.Principal) ([]store.Held, error) {
	held, err := s.st.HeldPosts(ctx, 0)
	if err != nil {
		return nil, err
	}
	out := []store.Held{}
	for _, h := range held {
		l, err := s.st.ListByID(ctx, h.ListID)
		if err != nil {
			return nil, err
		}
		if ok, err := s.MayManage(ctx, actor, l); err != nil {
			return nil, err
		} else if ok {
			out = append(out, h)
		}
	}
	return out, nil
}

// HeldPost returns the held post with this id, with the list that holds it.
func (s *Service) HeldPost(ctx context.Context, id int64) (*store.Held, *store.List, error) {
	h, err := s.st.HeldByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, refuse(NotFound, "not-found", "", "There is no held post %d.", id)
	} else if err != nil {
		return nil, nil, err
	}
	l, err := s.st.ListByID(ctx, h.ListID)
	if err != nil {
		return nil, nil, err
	}
	return h, l, nil
}

// MayModerate says whether actor may decide a post held by l: as an
// administrator who manages l (manage set), or as its owner or an
// administrator who manages it (privilege.MayOwn).
func (s *Service) MayModerate(ctx context.Context, actor *privilege.Principal, l *store.List, manage bool) error {
	if manage {
		ok, err := s.MayManage(ctx, actor, l)
		if err != nil {
			return err
		}
		if !ok {
			return refuse(Forbidden, "not-your-list", "", "%s is outside the organisations you administer.", l.Address)
		}
		return nil
	}
	orgs, err := s.st.OrgNames(ctx)
	if err != nil {
		return err
	}
	return actor.MayOwn(store.PrivilegeList(l, orgs))
}

// Decide approves or rejects a held post and tells its sender. byID is the
// person deciding (0: the operator).
func (s *Service) Decide(ctx context.Context, actorName string, id int64, approve bool, reason string, byID int64) (*store.Held, error) {
	h, err := s.st.DecideHeld(ctx, actorName, id, approve, reason, byID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, refuse(NotFound, "not-found", "", "There is no held post %d.", id)
		}
		return nil, refuse(Conflict, "decided", "", "%s", err)
	}
	if s.notify != nil {
		s.notify.NotifyHeld(ctx, h)
	}
	return h, nil
}

// Preview is who a list would reach before it exists, and the governance
// that would apply.
type Preview struct {
	People        int64            `json:"people"`
	Organisations []store.OrgCount `json:"organisations"`
	Notes         []string         `json:"notes"`
}

// Preview evaluates a list that is not created yet ({Rule, Scope} or
// {Members}) under the same scope rules as creation, so that its size is
// shown before it exists (DESIGN section 1, list-scope).
func (s *Service) Preview(ctx context.Context, actor *privilege.Principal, req NewList) (*Preview, error) {
	var orgs []store.OrgCount
	var total int64
	if strings.TrimSpace(req.Rule) != "" {
		rule, err := lists.ParseRule(req.Rule)
		if err != nil {
			return nil, refuse(Invalid, "bad-rule", "rule", "%s", err)
		}
		ids, err := s.scopeOrgs(ctx, actor, req.Scope, true)
		if err != nil {
			return nil, err
		}
		if orgs, total, err = s.st.PreviewRule(ctx, rule, ids); err != nil {
			return nil, err
		}
	} else {
		people, subs, err := s.ResolveMembers(ctx, req.Members)
		if err != nil {
			return nil, err
		}
		if total, err = s.st.AudienceCount(ctx, people, subs); err != nil {
			return nil, err
		}
		if orgs, err = s.st.AudienceOrgs(ctx, people, subs); err != nil {
			return nil, err
		}
	}
	slices.SortStableFunc(orgs, func(x, y store.OrgCount) int { return int(y.People - x.People) })
	g := s.gov
	notes := []string{}
	if total > g.SendersOnlyAbove {
		notes = append(notes, "Over "+strconv.FormatInt(g.SendersOnlyAbove, 10)+" people: only named senders may post, unless an administrator chooses another policy.")
	}
	if total > g.ApprovalAbove {
		notes = append(notes, "Over "+strconv.FormatInt(g.ApprovalAbove, 10)+" people: nobody may post until "+strconv.Itoa(g.Approvals)+" national administrators approve it.")
	}
	if orgs == nil {
		orgs = []store.OrgCount{}
	}
	return &Preview{People: total, Organisations: orgs, Notes: notes}, nil
}
