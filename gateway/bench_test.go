package gateway_test

import (
	"context"
	"flag"
	"fmt"
	"testing"

	"github.com/sawt/sawt/channels"
	"github.com/sawt/sawt/store"
	"github.com/sawt/sawt/store/pgtest"
	"github.com/sawt/sawt/test/load"
)

var benchConns = flag.Int("bench.conns", 0, "connection pool size for BenchmarkReceive (0: the default)")

// benchCycle is what each benchmark contact sends, over and over, from the main menu: an
// information topic, the status check with a mistyped number, and a feedback that opens a
// case. Every message gets a reply queued for the outbox.
var benchCycle = []string{"4", "5", "3", "12345678", "0", "2", "Thank you for the winter kits", "0"}

// BenchmarkReceive measures the receive pipeline: an inbound message in, its transaction
// committed (inbox, contact, locked session, engine step, message log, replies and their
// send job; a case every eighth message), with 1, 8 and 64 contacts writing at once.
//
//	go test ./gateway/ -run '^$' -bench Receive -benchtime 4000x
func BenchmarkReceive(b *testing.B) {
	for _, contacts := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("contacts=%d", contacts), func(b *testing.B) {
			pool, err := store.Open(context.Background(), pgtest.NewURL(b), store.PoolConfig{MaxConns: int32(*benchConns)})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(pool.Close)
			g := newGateway(b, pool)
			ctx := context.Background()
			urns := make([]string, contacts)
			for i := range urns {
				urns[i] = fmt.Sprintf("tel:+96477%08d", i)
				if _, err := g.Receive(ctx, channels.Inbound{Channel: channels.SMS, ExternalID: "warm-" + urns[i], URN: channels.URN(urns[i]), Text: "hi"}); err != nil {
					b.Fatal(err)
				}
				if err := g.SetLanguage(ctx, channels.URN(urns[i]), "en"); err != nil {
					b.Fatal(err)
				}
			}
			load.Run(b, contacts, "msgs/s", func(c, i int) error {
				_, err := g.Receive(ctx, channels.Inbound{
					Channel: channels.SMS, ExternalID: fmt.Sprintf("b-%d-%d", c, i),
					URN: channels.URN(urns[c]), Text: benchCycle[i%len(benchCycle)],
				})
				return err
			})
		})
	}
}
