package server

import (
	"context"

	"wardmail/store"
)

// storeHealth is the store as the web door's readiness check asks it
// (web.Health): the database, and the object store when the bodies are in
// one that can be asked (S3; a folder cannot).
type storeHealth struct{ st *store.Store }

func (h storeHealth) Database(ctx context.Context) error { return h.st.Ping(ctx) }

func (h storeHealth) ObjectStore(ctx context.Context) (bool, error) {
	p, ok := h.st.Blobs().(interface{ Ping(context.Context) error })
	if !ok {
		return false, nil
	}
	return true, p.Ping(ctx)
}
