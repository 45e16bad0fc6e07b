package channels

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// SendError is how a Sender explains a failure, so the outbox knows what to do with it.
type SendError struct {
	// Retryable is true for failures that may pass on a later try: connection errors,
	// timeouts, provider 5xx, throttling.
	Retryable bool
	// RetryAfter is set when the provider said how long to wait (HTTP 429).
	RetryAfter time.Duration
	// OptedOut is true when the provider says the person refused our messages (blocked bot,
	// replied STOP): their URN is marked opted out and the message is not retried.
	OptedOut bool
	// Code is the provider's error code, if any, kept with the failed message.
	Code string
	Err  error
}

// maxErrText bounds the provider's part of a SendError's text: some answer with a whole
// HTML page.
const maxErrText = 300

func (e *SendError) Error() string {
	inner := fmt.Sprint(e.Err)
	if len(inner) > maxErrText {
		inner = strings.ToValidUTF8(inner[:maxErrText], "") + "…"
	}
	what := "permanent"
	switch {
	case e.OptedOut:
		what = "opted out"
	case e.RetryAfter > 0:
		what = fmt.Sprintf("throttled, retry after %s", e.RetryAfter)
	case e.Retryable:
		what = "retryable"
	}
	if e.Code != "" {
		return fmt.Sprintf("send failed (%s, code %s): %s", what, e.Code, inner)
	}
	return fmt.Sprintf("send failed (%s): %s", what, inner)
}

func (e *SendError) Unwrap() error { return e.Err }

// Retryable wraps err as a failure worth trying again.
func Retryable(err error) error { return &SendError{Retryable: true, Err: err} }

// Permanent wraps err as a failure that will not pass on another try.
func Permanent(code string, err error) error { return &SendError{Code: code, Err: err} }

// AsSendError finds a *SendError in err's chain. An error that is not one is treated as
// retryable: an unexplained failure (a bug, a network fault) must not lose a message.
func AsSendError(err error) *SendError {
	var se *SendError
	if errors.As(err, &se) {
		return se
	}
	return &SendError{Retryable: true, Err: err}
}
