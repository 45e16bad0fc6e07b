package telegram

import (
	"context"
	"sync"
	"time"

	"github.com/sawt/sawt/channels"
	"golang.org/x/time/rate"
)

// limiter keeps the bot within Telegram's limits: so many messages a second in all, and one
// chat no faster than its own rate. It counts for this process only: several nodes each keep
// their share, so divide the settings by the number of nodes.
type limiter struct {
	all     *rate.Limiter
	perChat time.Duration

	mu    sync.Mutex
	next  map[int64]time.Time // when each chat may get its next message
	swept time.Time
}

func newLimiter(perSecond, chatPerSecond float64) *limiter {
	return &limiter{
		all:     rate.NewLimiter(rate.Limit(perSecond), max(1, int(perSecond))),
		perChat: time.Duration(float64(time.Second) / chatPerSecond),
		next:    map[int64]time.Time{},
	}
}

// wait takes a sending slot for chatID, waiting for it when that takes at most maxWait.
// Otherwise it takes nothing and returns a SendError that makes the outbox try again later.
func (l *limiter) wait(ctx context.Context, chatID int64, maxWait time.Duration) error {
	now := time.Now()
	l.mu.Lock()
	r := l.all.ReserveN(now, 1)
	delay := r.DelayFrom(now)
	chatAt := l.next[chatID]
	if chatAt.Before(now) {
		chatAt = now
	}
	if d := chatAt.Sub(now); d > delay {
		delay = d
	}
	if delay > maxWait {
		r.CancelAt(now)
		l.mu.Unlock()
		return &channels.SendError{Retryable: true, RetryAfter: delay, Code: "rate", Err: errRateLimited}
	}
	l.next[chatID] = now.Add(delay + l.perChat)
	l.sweep(now)
	l.mu.Unlock()
	if delay <= 0 {
		return nil
	}
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// sweep forgets chats whose slot has passed, once a minute, so the map stays small.
func (l *limiter) sweep(now time.Time) {
	if now.Sub(l.swept) < time.Minute {
		return
	}
	l.swept = now
	for id, at := range l.next {
		if at.Before(now) {
			delete(l.next, id)
		}
	}
}

type rateError struct{}

func (rateError) Error() string { return "held back to keep within Telegram's rate limits" }

var errRateLimited = rateError{}
