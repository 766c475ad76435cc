package outbound

import "wardmail/store"

// The queue's records as the doors name them (rows the storage defines;
// docs/decisions.md), so that a door names the service and not the storage.
type (
	// QueueFilter chooses the messages List shows.
	QueueFilter = store.QueueFilter
	// QueuedMessage is a message waiting for (or done with) other domains.
	QueuedMessage = store.QueuedMessage
	// QueueDomain is one destination's state.
	QueueDomain = store.QueueDomain
)

// The states of a queued recipient.
const (
	StateQueued    = store.QueueQueued
	StateHeld      = store.QueueHeld
	StateDelivered = store.QueueDelivered
	StateFailed    = store.QueueFailed
	StateDeleted   = store.QueueDeleted
)
