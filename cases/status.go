package cases

import (
	"errors"
	"fmt"
)

// Status is where a case is in its lifecycle:
//
//	new → acknowledged → referred / in_progress → resolved → closed
//
// The allowed moves are:
//
//   - new → acknowledged
//   - acknowledged → referred, in_progress
//   - referred → in_progress, resolved
//   - in_progress → referred, resolved
//   - resolved → closed, or back to in_progress when the case is reopened (for example
//     the person is not satisfied with the answer)
//   - closed is final
type Status string

// Statuses of a case.
const (
	StatusNew          Status = "new"
	StatusAcknowledged Status = "acknowledged"
	StatusReferred     Status = "referred"
	StatusInProgress   Status = "in_progress"
	StatusResolved     Status = "resolved"
	StatusClosed       Status = "closed"
)

// Statuses lists every status in lifecycle order.
func Statuses() []Status {
	return []Status{StatusNew, StatusAcknowledged, StatusReferred, StatusInProgress, StatusResolved, StatusClosed}
}

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	switch s {
	case StatusNew, StatusAcknowledged, StatusReferred, StatusInProgress, StatusResolved, StatusClosed:
		return true
	}
	return false
}

// CanTransition reports whether a case may move from one status to another. Staying in
// the same status is not a transition.
func CanTransition(from, to Status) bool {
	switch from {
	case StatusNew:
		return to == StatusAcknowledged
	case StatusAcknowledged:
		return to == StatusReferred || to == StatusInProgress
	case StatusReferred:
		return to == StatusInProgress || to == StatusResolved
	case StatusInProgress:
		return to == StatusReferred || to == StatusResolved
	case StatusResolved:
		return to == StatusClosed || to == StatusInProgress
	}
	return false
}

// ErrTransition is wrapped by the error [CheckTransition] returns for a move that is not
// allowed.
var ErrTransition = errors.New("status transition not allowed")

// CheckTransition returns nil if a case may move from one status to another, and
// otherwise an error wrapping ErrTransition that says "cannot move a case from X to Y".
func CheckTransition(from, to Status) error {
	if CanTransition(from, to) {
		return nil
	}
	return fmt.Errorf("%w: cannot move a case from %q to %q", ErrTransition, from, to)
}
