package console

import (
	"context"

	"github.com/sawt/sawt/channels"
	"github.com/sawt/sawt/gateway"
)

// Simulator is what the simulator page talks to: the gateway, which receives a message as
// from a channel and, for an Inline one, returns the replies instead of sending them.
type Simulator interface {
	Receive(ctx context.Context, in channels.Inbound) (channels.Result, error)
}

var _ Simulator = (*gateway.Gateway)(nil)

// toolPages are the case list export, the simulator and the recordings.
func (w *Web) toolPages() []Route { return nil }
