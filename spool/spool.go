// Package spool is a durable, encrypted, append-only spool on local disk for inbound messages
// the database cannot take. Twilio does not retry a webhook that failed, so while PostgreSQL
// is down a webhook appends the message here and answers 200 only once it is on disk;
// Replay feeds the spool back through the pipeline when the database answers again.
//
// Records are written to segment files in append order, each sealed with AES-256-GCM under a
// key kept beside them: a message in an abuse report may be spooled before anyone can know
// it is confidential, so nothing is on disk in the clear, and a record is deleted with its
// segment once replayed. Append returns only after an fsync (concurrent appends share one),
// and every segment is read back at Open, so a crash at any point loses no record whose
// Append returned; a crash during Replay may deliver a record twice, which the pipeline
// absorbs (it deduplicates on the provider's message ID).
package spool

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Options configure a Spool.
type Options struct {
	Dir      string           // created 0700 if missing; holds the segments, the key and a lock
	MaxBytes int64            // the most bytes of pending records on disk; <= 0: DefaultMaxBytes (1 GiB)
	Logger   *slog.Logger     // nil: discard
	Now      func() time.Time // nil: time.Now
}

// DefaultMaxBytes bounds the spool when Options.MaxBytes is not set: about 1.6 million
// messages of 600 bytes, days of traffic, while leaving the disk to the rest of the host.
const DefaultMaxBytes = 1 << 30

var (
	// ErrFull is returned by Append when the record would take the spool past MaxBytes.
	// Nothing is written; the caller should answer so that the provider retries, if it does.
	ErrFull = errors.New("spool full")
	// ErrLocked is returned by Open when another Spool (in this process or another) has Dir.
	ErrLocked = errors.New("spool in use by another process")
	// ErrClosed is returned by Append and Replay after Close.
	ErrClosed = errors.New("spool closed")
	// ErrTooLarge is returned by Append for data over MaxRecordSize.
	ErrTooLarge = errors.New("spool record too large")
)

// segmentLimit is the size past which the active segment is sealed and a new one started:
// small enough that a replayed segment is soon deleted and read back in one go, large enough
// that the directory holds few files (64 at the default cap).
const segmentLimit = 16 << 20

const (
	keyFile  = "spool.key"
	keySize  = 32 // AES-256
	lockFile = "lock"
	segExt   = ".log"
	doneExt  = ".done"
)

// Record is one spooled record as Replay gives it.
type Record struct {
	Data []byte
	At   time.Time // when it was appended (Options.Now), in UTC
}

// Stats describe what the spool holds and has done since Open.
type Stats struct {
	Pending  int       // records not yet replayed (appended and recovered at Open)
	Bytes    int64     // bytes of pending records on disk
	Oldest   time.Time // when the oldest pending record was appended; zero when none
	Appended int64     // records appended since Open
	Replayed int64     // records taken by Replay's fn since Open
	Corrupt  int64     // damaged records (or unreadable segment tails) skipped since Open
}

// OldestAge is how long the oldest pending record has waited at now; 0 when none waits.
func (st Stats) OldestAge(now time.Time) time.Duration {
	if st.Oldest.IsZero() {
		return 0
	}
	return now.Sub(st.Oldest)
}

// Spool is a directory of segments. Its methods are safe for concurrent use.
type Spool struct {
	dir      string
	maxBytes int64
	log      *slog.Logger
	now      func() time.Time
	aead     cipher.AEAD
	lock     *os.File
	segLimit int64 // segmentLimit; tests lower it to see rotation

	// replayMu makes Replay one at a time, and lets Close wait for a running one.
	replayMu sync.Mutex

	mu   sync.Mutex
	cond *sync.Cond // on mu: a group commit finished
	// segs are the segments that still hold records, oldest first; the active one, when
	// there is one, is last.
	segs    []*segment
	active  *segment
	nextSeq uint64
	// written counts records written to a segment, synced how many of them are known on
	// disk; syncing is true while one appender runs fsync for everyone waiting.
	written, synced uint64
	syncing         bool
	syncs           int64 // fsyncs of segments, to see the batches in the benchmark
	// failed is set when a write could not be undone or an fsync failed: what reached the
	// disk is then unknown (and Linux may report a later fsync of the same pages as a
	// success), so every later Append fails until the spool is opened again.
	failed error
	closed bool

	pending                      int
	bytes                        int64
	appended, replayed, corrupts int64
}

// segment is one segment file and what of it is still pending.
type segment struct {
	seq  uint64
	name string   // seg-<seq>.log
	f    *os.File // open for writing while active
	end  int64    // where its readable records end
	next int64    // offset of the first record not yet taken by Replay
	// pending and bytes are the records from next on, firstAt when the first of them was
	// appended (unix nanoseconds).
	pending int
	bytes   int64
	firstAt int64
	// bad are the offsets of records whose checksum failed at Open: they were counted and
	// logged then, so Replay skips them quietly.
	bad map[int64]bool
}

func segName(seq uint64) string { return fmt.Sprintf("seg-%020d%s", seq, segExt) }

func doneName(seq uint64) string { return fmt.Sprintf("seg-%020d%s", seq, doneExt) }

// parseSeq reads the sequence of a segment's or side file's name.
func parseSeq(name, ext string) (uint64, bool) {
	digits, ok := strings.CutPrefix(name, "seg-")
	if !ok {
		return 0, false
	}
	digits, ok = strings.CutSuffix(digits, ext)
	if !ok || len(digits) != 20 {
		return 0, false
	}
	seq, err := strconv.ParseUint(digits, 10, 64)
	return seq, err == nil
}

// Open takes Dir for this process, creates the key at the first Open, and reads back every
// segment left by an earlier run: it counts what is pending, logs and skips damaged
// records, and cuts a record torn by a crash off the end of the last segment.
func Open(opts Options) (*Spool, error) {
	if opts.Dir == "" {
		return nil, errors.New("spool: no directory given")
	}
	s := &Spool{dir: opts.Dir, maxBytes: opts.MaxBytes, log: opts.Logger, now: opts.Now, segLimit: segmentLimit}
	if s.maxBytes <= 0 {
		s.maxBytes = DefaultMaxBytes
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.cond = sync.NewCond(&s.mu)
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return nil, fmt.Errorf("spool: create %s: %w", s.dir, err)
	}
	if fi, err := os.Stat(s.dir); err == nil && fi.Mode().Perm()&0o077 != 0 {
		s.log.Warn("the spool directory can be read by other users; the records are encrypted, but it should be 0700",
			"dir", s.dir, "mode", fmt.Sprintf("%04o", fi.Mode().Perm()))
	}
	lock, err := lockDir(s.dir)
	if err != nil {
		return nil, err
	}
	s.lock = lock
	if err := s.recover(); err != nil {
		s.unlock()
		return nil, err
	}
	return s, nil
}

// lockDir takes an exclusive flock on Dir/lock. A flock belongs to the open file, so a
// second Open in the same process is refused as another process would be, and the lock
// goes with the process however it ends.
func lockDir(dir string) (*os.File, error) {
	path := filepath.Join(dir, lockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("spool: open lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s", ErrLocked, dir)
		}
		return nil, fmt.Errorf("spool: lock %s: %w", path, err)
	}
	return f, nil
}

func (s *Spool) unlock() {
	if s.lock != nil {
		syscall.Flock(int(s.lock.Fd()), syscall.LOCK_UN)
		s.lock.Close()
		s.lock = nil
	}
}

// recover lists the directory, loads (or creates) the key and reads every segment back.
func (s *Spool) recover() error {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("spool: list %s: %w", s.dir, err)
	}
	var segSeqs []uint64
	dones := map[uint64]bool{}
	var maxSeq uint64
	for _, e := range entries {
		if seq, ok := parseSeq(e.Name(), segExt); ok && e.Type().IsRegular() {
			segSeqs = append(segSeqs, seq)
			maxSeq = max(maxSeq, seq)
		} else if seq, ok := parseSeq(e.Name(), doneExt); ok {
			dones[seq] = true
			maxSeq = max(maxSeq, seq)
		}
	}
	slices.Sort(segSeqs)
	key, err := loadKey(s.dir, len(segSeqs) > 0)
	if err != nil {
		return err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	if s.aead, err = cipher.NewGCMWithRandomNonce(block); err != nil {
		return fmt.Errorf("spool: %w", err)
	}

	dirty := false // something was deleted: the directory needs an fsync
	for i, seq := range segSeqs {
		seg, keep, err := s.recoverSegment(seq, dones[seq], i == len(segSeqs)-1)
		if err != nil {
			return err
		}
		delete(dones, seq)
		if keep {
			s.segs = append(s.segs, seg)
			s.pending += seg.pending
			s.bytes += seg.bytes
			continue
		}
		// Every record was taken (a crash came between the last one and the deletion), or
		// none is whole.
		if err := s.removeSegmentFiles(seq); err != nil {
			return err
		}
		dirty = true
	}
	// A side file without its segment: the segment's deletion reached the disk, its own
	// did not. Left behind, it would be taken for the progress of a new segment that
	// happened to reuse the sequence.
	for seq := range dones {
		if err := os.Remove(filepath.Join(s.dir, doneName(seq))); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("spool: remove %s: %w", doneName(seq), err)
		}
		dirty = true
	}
	if dirty {
		if err := syncDir(s.dir); err != nil {
			return err
		}
	}
	// Appends always go to a new segment: one left by an earlier run is never written again.
	s.nextSeq = maxSeq + 1
	if s.pending > 0 {
		s.log.Info("spool opened with records to replay", "dir", s.dir, "pending", s.pending, "bytes", s.bytes,
			"segments", len(s.segs))
	}
	return nil
}

// recoverSegment reads one segment back. keep is false when nothing in it is left to replay.
func (s *Spool) recoverSegment(seq uint64, hasDone, last bool) (*segment, bool, error) {
	seg := &segment{seq: seq, name: segName(seq)}
	path := filepath.Join(s.dir, seg.name)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, false, fmt.Errorf("spool: read %s: %w", seg.name, err)
	}
	frames, tail := scanSegment(b)
	seg.end = int64(len(b))
	if tail != nil {
		seg.end = tail.off
	}

	// The side file must name a record boundary of what was read, else it is not trusted
	// and the segment is replayed from its start.
	if hasDone {
		raw, err := os.ReadFile(filepath.Join(s.dir, doneName(seq)))
		off, ok := decodeDone(raw)
		if err == nil && ok && (off == seg.end || slices.ContainsFunc(frames, func(f frame) bool { return f.off == off })) {
			seg.next = off
		} else {
			s.log.Warn("spool progress file unreadable or not at a record boundary; the segment is replayed from its start",
				"segment", seg.name, "err", err)
		}
	}

	for _, f := range frames {
		if f.off < seg.next {
			continue
		}
		if !f.ok {
			s.corrupts++
			s.log.Error("spool record damaged; skipped", "segment", seg.name, "offset", f.off, "err", errChecksum)
			if seg.bad == nil {
				seg.bad = map[int64]bool{}
			}
			seg.bad[f.off] = true
			continue
		}
		if seg.pending == 0 {
			seg.firstAt = f.at
		}
		seg.pending++
		seg.bytes += f.size
	}

	if tail != nil {
		s.corrupts++
		if last {
			// The last segment was being appended to when the process ended: its tail is a
			// record whose Append never returned. Cut it off, so the file ends on a record.
			s.log.Error("spool segment ends in a torn record; truncated", "segment", seg.name, "offset", tail.off,
				"dropped_bytes", int64(len(b))-tail.off, "err", tail.err)
			if err := truncateSync(path, tail.off); err != nil {
				return nil, false, err
			}
		} else {
			s.log.Error("spool segment unreadable from an offset on; the rest of it is skipped", "segment", seg.name,
				"offset", tail.off, "skipped_bytes", int64(len(b))-tail.off, "err", tail.err)
		}
	}
	// A segment with nothing whole left (only damage, already counted) is deleted now: kept,
	// it would wait for a Replay that Stats.Pending gives no reason to run.
	return seg, seg.pending > 0, nil
}

func truncateSync(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("spool: truncate %s: %w", filepath.Base(path), err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		return fmt.Errorf("spool: truncate %s at offset %d: %w", filepath.Base(path), size, err)
	}
	if err := fsync(f); err != nil {
		return fmt.Errorf("spool: sync %s: %w", filepath.Base(path), err)
	}
	return nil
}

// loadKey reads Dir/spool.key, or creates it when there is nothing yet to decrypt.
func loadKey(dir string, haveSegments bool) ([]byte, error) {
	path := filepath.Join(dir, keyFile)
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if errors.Is(err, fs.ErrNotExist) {
		if haveSegments {
			// A new key would make every spooled record unreadable, and Replay would drop
			// them all as damaged.
			return nil, fmt.Errorf("spool: %s holds segments but no key %s: restore the key, or move the segments away to start empty", dir, keyFile)
		}
		return createKey(dir)
	}
	if err != nil {
		return nil, fmt.Errorf("spool: open key %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("spool: key %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("spool: key %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&^0o600 != 0 {
		return nil, fmt.Errorf("spool: key %s has mode %04o: it must be 0600 (this user only); if nobody else could read it, chmod 600 it", path, perm)
	}
	if fi.Size() != keySize {
		return nil, fmt.Errorf("spool: key %s is %d bytes, not %d: it is damaged or not a spool key", path, fi.Size(), keySize)
	}
	key := make([]byte, keySize)
	if _, err := io.ReadFull(f, key); err != nil {
		return nil, fmt.Errorf("spool: read key %s: %w", path, err)
	}
	return key, nil
}

// createKey writes a new random key. It is written to a temporary file (O_EXCL, 0600,
// fsync'd) and renamed into place, then the directory is fsync'd: a crash leaves either no
// key or a whole one, never a short key that would stop every later Open.
func createKey(dir string) ([]byte, error) {
	path := filepath.Join(dir, keyFile)
	tmp := path + ".tmp"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("spool: remove %s: %w", tmp, err)
	}
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("spool: create key: %w", err)
	}
	key := make([]byte, keySize)
	rand.Read(key)
	_, err = f.Write(key)
	if err == nil {
		err = fsync(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("spool: create key %s: %w", path, err)
	}
	if err := syncDir(dir); err != nil {
		return nil, err
	}
	return key, nil
}

// fsync is every fsync of the package. It is a variable so that the fuzz test, which opens
// a spool for each of thousands of inputs, can leave the disk out of it.
var fsync = func(f *os.File) error { return f.Sync() }

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("spool: open %s: %w", dir, err)
	}
	defer d.Close()
	if err := fsync(d); err != nil {
		return fmt.Errorf("spool: sync directory %s: %w", dir, err)
	}
	return nil
}

// Append stores data as one record and returns only once it is on disk (fsync'd); safe for
// concurrent use. Concurrent appends share fsyncs (group commit): one goroutine syncs for
// all that are waiting.
func (s *Spool) Append(data []byte) error {
	if len(data) > MaxRecordSize {
		return fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, len(data), MaxRecordSize)
	}
	at := s.now().UnixNano()
	rec := sealRecord(s.aead, data, at) // outside the lock: it is most of the CPU work
	size := int64(len(rec))

	s.mu.Lock()
	defer s.mu.Unlock()
	seg, err := s.activeFor(size)
	if err != nil {
		return err
	}
	off := seg.end
	if _, err := seg.f.WriteAt(rec, off); err != nil {
		// Cut off whatever part was written, so the segment still ends on a record.
		if terr := seg.f.Truncate(off); terr != nil {
			s.failed = fmt.Errorf("spool: %s: a failed write at offset %d could not be undone: %w", seg.name, off, terr)
			s.cond.Broadcast()
		}
		return fmt.Errorf("spool: write %s at offset %d: %w", seg.name, off, err)
	}
	seg.end += size
	if seg.pending == 0 {
		seg.firstAt = at
	}
	seg.pending++
	seg.bytes += size
	s.pending++
	s.bytes += size
	s.written++
	if err := s.waitSynced(s.written); err != nil {
		return err
	}
	s.appended++
	return nil
}

// activeFor returns the segment a record of size bytes goes to, sealing a full one and
// creating a new one as needed. It holds mu, but may wait on cond.
func (s *Spool) activeFor(size int64) (*segment, error) {
	for {
		switch {
		case s.closed:
			return nil, ErrClosed
		case s.failed != nil:
			return nil, s.failed
		case s.bytes+size > s.maxBytes:
			return nil, fmt.Errorf("%w: %d bytes pending, limit %d", ErrFull, s.bytes, s.maxBytes)
		}
		a := s.active
		if a != nil && (a.end == 0 || a.end+size <= s.segLimit) {
			return a, nil
		}
		if a != nil {
			if s.syncing {
				// Sealing closes the file that the running fsync is on: wait for it,
				// then look again (another appender may have rotated meanwhile).
				s.cond.Wait()
				continue
			}
			if err := s.sealActive(); err != nil {
				return nil, err
			}
		}
		if err := s.newActive(); err != nil {
			return nil, err
		}
	}
}

// newActive creates the next segment file and fsyncs the directory, so that the file is
// found after a crash. It holds mu.
func (s *Spool) newActive() error {
	seg := &segment{seq: s.nextSeq, name: segName(s.nextSeq)}
	f, err := os.OpenFile(filepath.Join(s.dir, seg.name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("spool: create segment %s: %w", seg.name, err)
	}
	if err := syncDir(s.dir); err != nil {
		f.Close()
		os.Remove(filepath.Join(s.dir, seg.name))
		return err
	}
	s.nextSeq++
	seg.f = f
	s.active = seg
	s.segs = append(s.segs, seg)
	return nil
}

// sealActive fsyncs and closes the active segment; the next Append starts a new one. It
// holds mu and must not be called while an fsync runs.
func (s *Spool) sealActive() error {
	seg := s.active
	if seg == nil {
		return nil
	}
	err := fsync(seg.f)
	cerr := seg.f.Close()
	seg.f = nil
	s.active = nil
	if err == nil {
		err = cerr
	}
	if err != nil {
		err = fmt.Errorf("spool: sync %s: %w", seg.name, err)
		s.failed = err
		s.log.Error("spool fsync failed; appends are refused until the spool is opened again", "segment", seg.name, "err", err)
	} else {
		s.synced = s.written
	}
	s.cond.Broadcast()
	return err
}

// waitSynced returns once record n (counted by written) is on disk. The first appender to
// find no fsync running starts one for every record written so far and, while it runs,
// others write theirs and wait for the next: one fsync per batch, not per record.
func (s *Spool) waitSynced(n uint64) error {
	for s.synced < n {
		if s.failed != nil {
			return s.failed
		}
		if s.syncing {
			s.cond.Wait()
			continue
		}
		seg := s.active
		if seg == nil {
			// Whoever sealed the segment synced it; only a failure leaves records behind.
			return errors.New("spool: record not synced and no active segment")
		}
		s.syncing = true
		s.syncs++
		target := s.written
		f := seg.f
		s.mu.Unlock()
		err := fsync(f)
		s.mu.Lock()
		s.syncing = false
		if err != nil {
			s.failed = fmt.Errorf("spool: sync %s: %w", seg.name, err)
			s.log.Error("spool fsync failed; appends are refused until the spool is opened again", "segment", seg.name, "err", err)
		} else {
			s.synced = max(s.synced, target)
		}
		s.cond.Broadcast()
	}
	return nil
}

// Stats returns the spool's figures. It is cheap enough to call for every message.
func (s *Spool) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{Pending: s.pending, Bytes: s.bytes, Appended: s.appended, Replayed: s.replayed, Corrupt: s.corrupts}
	for _, seg := range s.segs {
		if seg.pending > 0 {
			st.Oldest = time.Unix(0, seg.firstAt).UTC()
			break
		}
	}
	return st
}

// Close waits for a running Replay to finish the record in hand, syncs and closes the
// active segment and releases the lock. Append after Close returns ErrClosed.
func (s *Spool) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()

	s.replayMu.Lock()
	defer s.replayMu.Unlock()
	s.mu.Lock()
	for s.syncing {
		s.cond.Wait()
	}
	var err error
	if s.active != nil {
		if serr := s.sealActive(); serr != nil {
			err = serr
		}
	}
	s.cond.Broadcast()
	s.mu.Unlock()
	s.unlock()
	return err
}

// removeSegmentFiles deletes a segment and then its side file. The caller fsyncs the
// directory.
func (s *Spool) removeSegmentFiles(seq uint64) error {
	for _, name := range []string{segName(seq), doneName(seq)} {
		if err := os.Remove(filepath.Join(s.dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("spool: remove %s: %w", name, err)
		}
	}
	return nil
}
