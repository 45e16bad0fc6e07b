package store_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/sawt/sawt/channels"
	"github.com/sawt/sawt/store"
	"github.com/sawt/sawt/store/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

var at = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func TestMigrateIsRepeatable(t *testing.T) {
	pool := pgtest.New(t) // migrated once already
	applied, err := store.Migrate(context.Background(), pool)
	if err != nil || len(applied) != 0 {
		t.Fatalf("second Migrate applied %v, %v; want nothing", applied, err)
	}
	if err := store.CheckMigrated(context.Background(), pool); err != nil {
		t.Fatal(err)
	}
}

func TestCheckMigratedOnAnEmptyDatabase(t *testing.T) {
	pool := pgtest.New(t)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `CREATE DATABASE empty_one`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = pool.Exec(context.Background(), `DROP DATABASE empty_one WITH (FORCE)`) })
	cfg := pool.Config().Copy()
	cfg.ConnConfig.Database = "empty_one"
	empty, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer empty.Close()
	if err := store.CheckMigrated(ctx, empty); !errors.Is(err, store.ErrNotMigrated) {
		t.Errorf("CheckMigrated on an empty database = %v, want ErrNotMigrated", err)
	}
}

func turn(t *testing.T, pool *pgxpool.Pool, externalID, text string, redacted bool) (store.Turn, []int64) {
	t.Helper()
	ctx := context.Background()
	urn := channels.URN("tel:+9647701234567")
	var start store.Turn
	var ids []int64
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		var err error
		start, err = store.StartTurn(ctx, tx, channels.SMS, externalID, at, urn)
		if err != nil || !start.Fresh {
			return err
		}
		if !start.Found {
			if start.Contact, err = store.CreateContact(ctx, tx, urn, ""); err != nil {
				return err
			}
		}
		ids, err = store.FinishTurn(ctx, tx, store.TurnEnd{
			Contact: start.Contact, At: at, State: []byte(`{"flow":"menu"}`),
			Channel: channels.SMS,
			Inbound: &store.Inbound{ContactID: start.Contact.ID, URNID: start.Contact.URNID, InboxID: start.InboxID,
				Channel: channels.SMS, Text: text, Redacted: redacted, ReceivedAt: at},
			Replies:  []channels.Outbound{{Channel: channels.SMS, Language: "ar", Text: "first " + text}, {Channel: channels.SMS, Language: "ar", Text: "second"}},
			Redacted: []bool{redacted, false},
		})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return start, ids
}

func TestTurnBatches(t *testing.T) {
	pool := pgtest.New(t)
	ctx := context.Background()
	first, ids := turn(t, pool, "SM1", "hello", false)
	if !first.Fresh || first.Found || len(ids) != 2 || ids[0] >= ids[1] {
		t.Fatalf("first turn: %+v, reply ids %v", first, ids)
	}
	second, _ := turn(t, pool, "SM2", "again", false)
	if !second.Found || second.Contact.ID != first.Contact.ID || string(second.State) != `{"flow": "menu"}` {
		t.Errorf("second turn: %+v (state %s)", second, second.State)
	}
	dup, ids := turn(t, pool, "SM1", "hello", false)
	if dup.Fresh || dup.InboxID != first.InboxID || ids != nil {
		t.Errorf("repeated SM1: %+v", dup)
	}
	replies, err := store.RepliesToInbox(ctx, pool, first.InboxID)
	if err != nil || len(replies) != 2 || replies[0].Text != "first hello" || replies[1].Text != "second" {
		t.Errorf("replies to SM1 = %+v, %v", replies, err)
	}
}

// TestRedactedTurnKeepsNoText: a confidential message and its confidential reply are logged
// as placeholders; the text is never written.
func TestRedactedTurnKeepsNoText(t *testing.T) {
	pool := pgtest.New(t)
	const secret = "the-distributor-asked-me-for-something"
	turn(t, pool, "SM1", secret, true)
	var n int
	err := pool.QueryRow(context.Background(), `SELECT count(*) FROM messages WHERE text LIKE '%' || $1 || '%' OR payload LIKE '%' || $1 || '%'`, secret).Scan(&n)
	if err != nil || n != 0 {
		t.Fatalf("%d messages hold the confidential text (%v)", n, err)
	}
	rows, err := pool.Query(context.Background(), `SELECT text FROM messages WHERE redacted ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	texts, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(texts) != 2 || strings.Join(texts, ",") != store.RedactedText+","+store.RedactedText {
		t.Errorf("redacted messages = %q, %v; want two placeholders", texts, err)
	}
}
