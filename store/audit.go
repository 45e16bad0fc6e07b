package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// AuditEntry is one event on sensitive data: who did what to which subject, never content.
type AuditEntry struct {
	ID       int64
	At       time.Time // kept to the microsecond, as PostgreSQL stores it
	Actor    string    // who: a focal point's name, "system", a worker
	Action   string    // what: "report.read", "recipient.add"
	Subject  string    // to which: a report's reference, a recipient's name
	Detail   string    // anything else worth knowing, never what a person said
	PrevHash []byte    // the previous entry's Hash; 32 zero bytes for the first entry
	Hash     []byte    // SHA-256 of PrevHash and this entry's fields (auditHash)
}

// The audit log is a hash chain: each entry's hash covers the previous entry's hash and its own
// fields, so changing an entry breaks its own hash and removing one breaks the next entry's
// prev_hash. What the chain alone cannot show is that the newest entries were removed: the
// shortened chain is still a valid chain. The database refuses UPDATE, DELETE and TRUNCATE
// (migration 005), so removing entries takes the table owner disabling its triggers; to
// detect that too, the latest hash or entry count must be kept somewhere else as well. The
// same holds for someone who rewrites every entry from one onwards with recomputed hashes:
// the hash is not keyed, only an anchor kept outside the database would show it.

// auditLockKey is the advisory lock that serialises appenders to the audit log.
const auditLockKey = 0x5a_77_74_02 // "Sawt" + 2; migrationLockKey is + 1

// auditGenesis is the prev_hash of the first entry.
var auditGenesis = make([]byte, sha256.Size)

// auditHashVersion starts what is hashed, so that another encoding can never yield the same hash.
const auditHashVersion = "sawt audit v1"

// auditHash is SHA-256 over an unambiguous encoding of an entry: every field, in a fixed
// order, is its length as 8 bytes big-endian followed by its bytes. The id and the time (unix
// microseconds, which is what timestamptz keeps) are 8-byte big-endian integers.
func auditHash(prev []byte, id int64, at time.Time, actor, action, subject, detail string) []byte {
	h := sha256.New()
	var n [8]byte
	field := func(b []byte) {
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	integer := func(v int64) {
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], uint64(v))
		field(b[:])
	}
	field([]byte(auditHashVersion))
	field(prev)
	integer(id)
	integer(at.UnixMicro())
	field([]byte(actor))
	field([]byte(action))
	field([]byte(subject))
	field([]byte(detail))
	return h.Sum(nil)
}

// beginner is what can start a transaction: a pool or a connection (a pgx.Tx can too, with a
// savepoint, but needs none).
type beginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// AppendAudit adds an entry at the end of the chain: its hash covers the previous entry's
// hash and its own fields. Only e's At (now when zero), Actor, Action, Subject and Detail are
// used; Actor and Action must not be empty.
//
// Appenders are serialised: a transaction-scoped advisory lock is taken inside, and the last
// entry is read under it. The lock lasts until db's transaction ends, so given a transaction,
// the entry is appended when it commits, and other appenders wait until then. Given a pool (or
// a connection) outside a transaction, AppendAudit runs in a transaction of its own. The
// transaction must be READ COMMITTED (the default): in REPEATABLE READ or SERIALIZABLE, a
// snapshot taken before the lock could miss the entry appended just before and fork the chain,
// so AppendAudit refuses.
func AppendAudit(ctx context.Context, db DB, e AuditEntry) error {
	if e.Actor == "" || e.Action == "" {
		return errors.New("audit entry needs an actor and an action")
	}
	if _, inTx := db.(pgx.Tx); !inTx {
		if b, ok := db.(beginner); ok {
			return pgx.BeginFunc(ctx, b, func(tx pgx.Tx) error { return appendAudit(ctx, tx, e) })
		}
	}
	return appendAudit(ctx, db, e)
}

func appendAudit(ctx context.Context, db DB, e AuditEntry) error {
	if _, err := db.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, auditLockKey); err != nil {
		return fmt.Errorf("audit: lock: %w", err)
	}
	// A statement of its own after the lock: its snapshot sees what the previous holder
	// committed. The id is taken under the lock too, so ids follow the chain's order.
	var (
		id        int64
		prev      []byte
		isolation string
	)
	err := db.QueryRow(ctx, `
		SELECT nextval('audit_log_id_seq'), (SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1),
		       current_setting('transaction_isolation')`).Scan(&id, &prev, &isolation)
	if err != nil {
		return fmt.Errorf("audit: read the last entry: %w", err)
	}
	if isolation != "read committed" {
		return fmt.Errorf("audit: appending needs a READ COMMITTED transaction, not %s", isolation)
	}
	if prev == nil {
		prev = auditGenesis
	}
	at := e.At
	if at.IsZero() {
		at = time.Now()
	}
	at = at.UTC().Truncate(time.Microsecond)
	hash := auditHash(prev, id, at, e.Actor, e.Action, e.Subject, e.Detail)
	_, err = db.Exec(ctx, `
		INSERT INTO audit_log (id, at, actor, action, subject, detail, prev_hash, hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		id, at, e.Actor, e.Action, e.Subject, e.Detail, prev, hash)
	if err != nil {
		return fmt.Errorf("audit: append: %w", err)
	}
	return nil
}

const auditColumns = `id, at, actor, action, subject, detail, prev_hash, hash`

func scanAudit(row pgx.Row) (AuditEntry, error) {
	var e AuditEntry
	err := row.Scan(&e.ID, &e.At, &e.Actor, &e.Action, &e.Subject, &e.Detail, &e.PrevHash, &e.Hash)
	e.At = e.At.UTC()
	return e, err
}

// AuditEntries lists entries oldest first. With limit > 0, only the newest limit entries
// (still oldest first, as the end of the log); with limit <= 0, all of them.
func AuditEntries(ctx context.Context, db DB, limit int) ([]AuditEntry, error) {
	var (
		rows pgx.Rows
		err  error
	)
	if limit > 0 {
		rows, err = db.Query(ctx, `SELECT * FROM (SELECT `+auditColumns+` FROM audit_log ORDER BY id DESC LIMIT $1) AS newest ORDER BY id`, limit)
	} else {
		rows, err = db.Query(ctx, `SELECT `+auditColumns+` FROM audit_log ORDER BY id`)
	}
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (AuditEntry, error) { return scanAudit(row) })
}

// AuditPage lists up to limit entries newest first: the newest of all when before <= 0, else
// those older than the entry before (its id), so that a page's last id gives the next page.
func AuditPage(ctx context.Context, db DB, before int64, limit int) ([]AuditEntry, error) {
	if limit <= 0 {
		return nil, errors.New("audit page: the limit must be positive")
	}
	rows, err := db.Query(ctx, `SELECT `+auditColumns+` FROM audit_log WHERE $1 <= 0 OR id < $1 ORDER BY id DESC LIMIT $2`, before, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (AuditEntry, error) { return scanAudit(row) })
}

// AuditBreakKind says how the audit chain is broken.
type AuditBreakKind int

const (
	// AuditAltered: the entry's fields no longer hash to its stored hash.
	AuditAltered AuditBreakKind = iota + 1
	// AuditRemoved: the entry is intact but its prev_hash is not the hash of the entry before
	// it: an entry between them was removed (or the one before was altered and its hash
	// recomputed). Gaps in the ids alone are normal: a rolled-back append uses up an id.
	AuditRemoved
	// AuditNotGenesis: the oldest entry is intact but its prev_hash is not 32 zero bytes: it was
	// not the first, the entries before it were removed.
	AuditNotGenesis
)

// AuditBreak is where VerifyAudit found the chain broken: the first entry that does not verify.
type AuditBreak struct {
	ID     int64 // the first entry that does not verify
	PrevID int64 // the intact entry before it, 0 when there is none
	Kind   AuditBreakKind
}

func (b *AuditBreak) Error() string {
	switch b.Kind {
	case AuditAltered:
		return fmt.Sprintf("audit entry %d was altered: its fields do not match its hash", b.ID)
	case AuditRemoved:
		return fmt.Sprintf("audit entry %d does not follow entry %d: its prev_hash is not that entry's hash, so an entry between them was removed (or entry %d was altered and rehashed)", b.ID, b.PrevID, b.PrevID)
	case AuditNotGenesis:
		return fmt.Sprintf("audit entry %d is the oldest but was not the first (its prev_hash is not the genesis value): the entries before it were removed", b.ID)
	}
	return fmt.Sprintf("audit entry %d does not verify", b.ID)
}

// VerifyAudit walks the chain from the first entry, in one snapshot, and returns the number
// of entries found intact. At the first entry that does not verify it stops and returns an
// *AuditBreak naming it: altered (its fields do not hash to its hash), removed (an entry
// before it is missing: its prev_hash does not match), or not genesis (the oldest entry's
// prev_hash is not 32 zero bytes). Other errors are the database's. Gaps in the ids are not
// breaks. Removing the newest entries cannot be detected by the chain alone.
func VerifyAudit(ctx context.Context, db DB) (checked int, err error) {
	rows, err := db.Query(ctx, `SELECT `+auditColumns+` FROM audit_log ORDER BY id`)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var prev AuditEntry // the last intact entry; ID 0 before the first
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return checked, err
		}
		if !bytes.Equal(e.Hash, auditHash(e.PrevHash, e.ID, e.At, e.Actor, e.Action, e.Subject, e.Detail)) {
			return checked, &AuditBreak{ID: e.ID, PrevID: prev.ID, Kind: AuditAltered}
		}
		switch {
		case prev.ID == 0 && !bytes.Equal(e.PrevHash, auditGenesis):
			return checked, &AuditBreak{ID: e.ID, Kind: AuditNotGenesis}
		case prev.ID != 0 && !bytes.Equal(e.PrevHash, prev.Hash):
			return checked, &AuditBreak{ID: e.ID, PrevID: prev.ID, Kind: AuditRemoved}
		}
		checked++
		prev = e
	}
	return checked, rows.Err()
}
