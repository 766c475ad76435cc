package policy

import "wardmail/store"

// StormThread is a thread on the storm board (a row the storage defines).
type StormThread = store.StormThread

// ErrNoThread: Block or Unblock named a thread with no message.
var ErrNoThread = store.ErrNotFound
