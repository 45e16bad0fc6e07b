// Package gatewaytest makes the real gateway for tests of the packages around it: the shipped
// flows and texts, and a River client that only inserts jobs (the messages it queues wait).
package gatewaytest

import (
	"log/slog"
	"testing"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/sawt/sawt/flows"
	"github.com/sawt/sawt/gateway"
	"github.com/sawt/sawt/locales"
)

// New makes a gateway from cfg, which must have a Pool; its Engine and River, when not given,
// are the shipped flows and texts and an insert-only client on the pool.
func New(t testing.TB, cfg gateway.Config) *gateway.Gateway {
	t.Helper()
	if cfg.Engine == nil {
		texts, err := locales.Default()
		if err != nil {
			t.Fatal(err)
		}
		defs, err := flows.Shipped()
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Engine, err = flows.New(defs, texts, gateway.EngineConfig(flows.Config{})); err != nil {
			t.Fatal(err)
		}
	}
	if cfg.River == nil {
		rc, err := river.NewClient(riverpgxv5.New(cfg.Pool), &river.Config{Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		cfg.River = rc
	}
	g, err := gateway.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return g
}
