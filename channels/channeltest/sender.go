// Package channeltest has stand-ins for the providers' APIs, for tests of everything that
// sends: a Sender that records what it was asked to send and answers as told.
package channeltest

import (
	"context"
	"fmt"
	"sync"

	"github.com/sawt/sawt/channels"
)

// Sender records every message and answers with the next scripted error, if any. It is also a
// channels.Eraser that records what it was asked to erase.
type Sender struct {
	mu        sync.Mutex
	sent      []channels.Outbound
	errs      []error
	notify    chan channels.Outbound
	erased    []Erasure
	eraseErrs []error
}

var (
	_ channels.Sender = (*Sender)(nil)
	_ channels.Eraser = (*Sender)(nil)
)

// Erasure is one successful call of Sender.Erase.
type Erasure struct {
	URN channels.URN
	IDs []string
}

// NewSender makes a Sender; its Sent channel receives every successfully sent message.
func NewSender() *Sender { return &Sender{notify: make(chan channels.Outbound, 1024)} }

// FailNext makes the next sends fail with these errors, in order.
func (s *Sender) FailNext(errs ...error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errs = append(s.errs, errs...)
}

// Send implements channels.Sender.
func (s *Sender) Send(ctx context.Context, msg channels.Outbound) (channels.SendResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.errs) > 0 {
		err := s.errs[0]
		s.errs = s.errs[1:]
		return channels.SendResult{}, err
	}
	s.sent = append(s.sent, msg)
	select {
	case s.notify <- msg:
	default:
	}
	return channels.SendResult{ProviderID: fmt.Sprintf("fake-%d", len(s.sent)), Status: channels.StatusSent}, nil
}

// Sent returns the messages sent so far.
func (s *Sender) Sent() []channels.Outbound {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]channels.Outbound(nil), s.sent...)
}

// Delivered receives each message as it is sent.
func (s *Sender) Delivered() <-chan channels.Outbound { return s.notify }

// FailNextErase makes the next erasures fail with these errors, in order.
func (s *Sender) FailNextErase(errs ...error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.eraseErrs = append(s.eraseErrs, errs...)
}

// Erase implements channels.Eraser: it records the call, or answers the next scripted error.
func (s *Sender) Erase(ctx context.Context, urn channels.URN, ids []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.eraseErrs) > 0 {
		err := s.eraseErrs[0]
		s.eraseErrs = s.eraseErrs[1:]
		return err
	}
	s.erased = append(s.erased, Erasure{URN: urn, IDs: append([]string(nil), ids...)})
	return nil
}

// Erased returns the erasures so far.
func (s *Sender) Erased() []Erasure {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Erasure(nil), s.erased...)
}
