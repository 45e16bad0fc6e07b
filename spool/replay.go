package spool

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// Replay calls fn for every pending record, oldest first (append order), one at a time. A
// record is removed only after fn returns nil for it; when fn returns an error, Replay stops
// and returns it, and that record and the rest stay for the next Replay. Records appended
// while Replay runs are left for the next call (Replay first seals the active segment and
// starts a new one for appends). A corrupt or truncated record (bad length, bad checksum,
// failed decryption: power lost mid-write) is skipped with an error logged (never its
// content), counted in Stats.Corrupt, and the rest of its segment is still read where the
// format allows (a bad length makes the rest of that segment unreadable: log and skip the
// remainder). Returns how many records fn took.
//
// Damage is skipped rather than returned: an error would stop every later Replay at the
// same record, and the spool, never empty, would hold back every new message behind it.
func (s *Spool) Replay(ctx context.Context, fn func(ctx context.Context, r Record) error) (int, error) {
	s.replayMu.Lock()
	defer s.replayMu.Unlock()

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return 0, ErrClosed
	}
	for s.syncing {
		s.cond.Wait()
	}
	// A failed fsync is logged by sealActive and refuses later appends; the records of
	// the segment can still be read, so they are replayed with the rest.
	_ = s.sealActive()
	segs := slices.Clone(s.segs)
	s.mu.Unlock()

	n := 0
	for _, seg := range segs {
		k, err := s.replaySegment(ctx, seg, fn)
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// located is a record found in a segment, with its offset.
type located struct {
	rawRecord
	off int64
}

// replaySegment hands the pending records of one sealed segment to fn, keeping the progress
// in the segment's side file, and deletes the segment once all are taken.
func (s *Spool) replaySegment(ctx context.Context, seg *segment, fn func(context.Context, Record) error) (int, error) {
	b, err := os.ReadFile(filepath.Join(s.dir, seg.name))
	if errors.Is(err, fs.ErrNotExist) {
		s.log.Error("spool segment removed by someone else; its records are lost", "segment", seg.name,
			"records", seg.pending)
		s.mu.Lock()
		s.corrupts++
		s.mu.Unlock()
		return 0, s.finishSegment(seg)
	}
	if err != nil {
		return 0, fmt.Errorf("spool: read %s: %w", seg.name, err)
	}
	// Only what was readable at Open (or written since) is framed: a shorter file than
	// that reads as a record cut short.
	b = b[:min(int64(len(b)), seg.end)]

	cur, ok := s.nextGood(seg, b, seg.next)
	if ok && cur.off > seg.next {
		s.mu.Lock()
		seg.next = cur.off // the damage before it is counted: not again at the next Replay
		s.mu.Unlock()
	}
	var done *os.File
	progressFailed := false
	n := 0
	for ok {
		if err := ctx.Err(); err != nil {
			closeFile(done)
			return n, err
		}
		s.mu.Lock()
		closed := s.closed
		s.mu.Unlock()
		if closed {
			closeFile(done)
			return n, ErrClosed
		}

		data, derr := openRecord(s.aead, cur.rawRecord)
		if derr == nil {
			if err := fn(ctx, Record{Data: data, At: time.Unix(0, cur.at).UTC()}); err != nil {
				closeFile(done)
				return n, err
			}
			n++
		} else {
			s.log.Error("spool record damaged; skipped", "segment", seg.name, "offset", cur.off, "err", derr)
		}

		nxt, more := s.nextGood(seg, b, cur.off+cur.size)
		next := seg.end
		if more {
			next = nxt.off
		}
		// The progress is written without an fsync: if it is lost in a power cut, the
		// records since the last one that reached the disk are delivered again, which the
		// pipeline absorbs. Its failure is only logged, for the same reason.
		if done == nil && !progressFailed {
			done, err = os.OpenFile(filepath.Join(s.dir, doneName(seg.seq)), os.O_WRONLY|os.O_CREATE, 0o600)
			if err != nil {
				progressFailed = true
				s.log.Warn("spool progress cannot be kept; a restart replays this segment from its start", "segment", seg.name, "err", err)
			}
		}
		if done != nil {
			if _, err := done.WriteAt(encodeDone(next), 0); err != nil {
				progressFailed = true
				s.log.Warn("spool progress cannot be kept; a restart replays this segment from its start", "segment", seg.name, "err", err)
				closeFile(done)
				done = nil
			}
		}

		s.mu.Lock()
		seg.next = next
		seg.pending = max(seg.pending-1, 0)
		seg.bytes = max(seg.bytes-cur.size, 0)
		s.pending = max(s.pending-1, 0)
		s.bytes = max(s.bytes-cur.size, 0)
		if more {
			seg.firstAt = nxt.at
		}
		if derr == nil {
			s.replayed++
		} else {
			s.corrupts++
		}
		s.mu.Unlock()
		cur, ok = nxt, more
	}
	closeFile(done)
	return n, s.finishSegment(seg)
}

func closeFile(f *os.File) {
	if f != nil {
		f.Close()
	}
}

// nextGood finds the first whole record at or after off, counting and logging the damage
// it passes (except what Open already did).
func (s *Spool) nextGood(seg *segment, b []byte, off int64) (located, bool) {
	for off < int64(len(b)) {
		r, err := decodeAt(b, off)
		if err == nil {
			return located{rawRecord: r, off: off}, true
		}
		if errors.Is(err, errChecksum) {
			if !seg.bad[off] {
				// Whole at Open or written by this process, so counted as pending.
				s.log.Error("spool record damaged; skipped", "segment", seg.name, "offset", off, "err", err)
				s.mu.Lock()
				s.corrupts++
				seg.pending = max(seg.pending-1, 0)
				seg.bytes = max(seg.bytes-r.size, 0)
				s.pending = max(s.pending-1, 0)
				s.bytes = max(s.bytes-r.size, 0)
				s.mu.Unlock()
			}
			off += r.size
			continue
		}
		s.log.Error("spool segment unreadable from an offset on; the rest of it is skipped", "segment", seg.name,
			"offset", off, "skipped_bytes", int64(len(b))-off, "err", err)
		s.mu.Lock()
		s.corrupts++
		s.mu.Unlock()
		return located{}, false
	}
	return located{}, false
}

// finishSegment deletes a segment whose records are all taken: the segment, then its side
// file (a side file left alone is removed at the next Open), then an fsync of the directory.
// A crash before the deletion reaches the disk replays at most the segment's last record.
func (s *Spool) finishSegment(seg *segment) error {
	if err := s.removeSegmentFiles(seg.seq); err != nil {
		return err
	}
	err := syncDir(s.dir)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending = max(s.pending-seg.pending, 0)
	s.bytes = max(s.bytes-seg.bytes, 0)
	seg.pending, seg.bytes = 0, 0
	s.segs = slices.DeleteFunc(s.segs, func(x *segment) bool { return x == seg })
	return err
}
