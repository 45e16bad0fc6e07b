package spool

import (
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// The on-disk format. A segment file (seg-<20-digit sequence>.log) is a run of records, each:
//
//	magic   1 byte    recordMagic: the format's version
//	length  4 bytes   big-endian length of the sealed payload
//	at      8 bytes   big-endian append time, unix nanoseconds
//	sealed  length    a random 12-byte nonce, then AES-256-GCM of the data with at as additional data
//	crc     4 bytes   big-endian CRC-32C (Castagnoli) of everything above
//
// The length comes first so that a reader can frame the next record without the key; the
// checksum tells a record cut short by a lost write from a whole one without decrypting; the
// time is bound to the ciphertext as additional data, so a record cannot be given another
// time without failing to decrypt.
const (
	// recordMagic is neither 0x00 nor 0xFF, so that zeroed or erased blocks left by a power
	// cut (the file grew but its data never reached the disk) read as a bad header.
	recordMagic    = 0xA1
	headerSize     = 1 + 4 + 8
	crcSize        = 4
	sealedOverhead = 12 + 16 // nonce and GCM tag
	recordOverhead = headerSize + sealedOverhead + crcSize

	// MaxRecordSize is the largest data Append takes. A webhook's message is a few kilobytes;
	// the bound lets a reader refuse an absurd length at once rather than take the rest of a
	// damaged segment for one record.
	MaxRecordSize = 4 << 20
	maxSealed     = MaxRecordSize + sealedOverhead
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// The ways a record can fail to decode. Only errChecksum leaves the framing intact: the
// length was plausible and the whole record is there, so the next record starts after it.
// The other two leave the rest of the segment unframed.
var (
	errTruncated = errors.New("record cut short (a partial write)")
	errBadHeader = errors.New("bad record header (magic or length)")
	errChecksum  = errors.New("checksum mismatch")
	errDecrypt   = errors.New("record does not decrypt (damaged, or not sealed with this spool's key)")
)

// rawRecord is one framed record of a segment, still sealed.
type rawRecord struct {
	size   int64 // header, sealed payload and checksum
	at     int64 // unix nanoseconds
	sealed []byte
}

// sealRecord encodes data appended at at (unix nanoseconds) as one record.
func sealRecord(aead cipher.AEAD, data []byte, at int64) []byte {
	buf := make([]byte, headerSize, recordOverhead+len(data))
	buf[0] = recordMagic
	binary.BigEndian.PutUint32(buf[1:5], uint32(sealedOverhead+len(data)))
	binary.BigEndian.PutUint64(buf[5:13], uint64(at))
	// The additional data is a copy: Seal must not be given additional data that overlaps
	// its destination.
	var ad [8]byte
	copy(ad[:], buf[5:13])
	buf = aead.Seal(buf, nil, data, ad[:])
	return binary.BigEndian.AppendUint32(buf, crc32.Checksum(buf, castagnoli))
}

// openRecord decrypts a framed record's payload.
func openRecord(aead cipher.AEAD, r rawRecord) ([]byte, error) {
	var ad [8]byte
	binary.BigEndian.PutUint64(ad[:], uint64(r.at))
	data, err := aead.Open(nil, nil, r.sealed, ad[:])
	if err != nil {
		return nil, errDecrypt
	}
	if data == nil {
		data = []byte{}
	}
	return data, nil
}

// decodeAt frames and checks the record at off in b. With errChecksum the returned size is
// still right (the next record starts at off+size); with the other errors it is zero.
func decodeAt(b []byte, off int64) (rawRecord, error) {
	if off < 0 || off > int64(len(b)) {
		return rawRecord{}, fmt.Errorf("offset %d outside the segment", off)
	}
	rest := b[off:]
	if len(rest) < headerSize {
		if len(rest) > 0 && rest[0] != recordMagic {
			return rawRecord{}, errBadHeader
		}
		return rawRecord{}, errTruncated
	}
	if rest[0] != recordMagic {
		return rawRecord{}, errBadHeader
	}
	n := int64(binary.BigEndian.Uint32(rest[1:5]))
	if n < sealedOverhead || n > maxSealed {
		return rawRecord{}, errBadHeader
	}
	size := headerSize + n + crcSize
	if int64(len(rest)) < size {
		return rawRecord{}, errTruncated
	}
	r := rawRecord{size: size, at: int64(binary.BigEndian.Uint64(rest[5:13]))}
	if crc32.Checksum(rest[:size-crcSize], castagnoli) != binary.BigEndian.Uint32(rest[size-crcSize:size]) {
		return r, errChecksum
	}
	r.sealed = rest[headerSize : headerSize+n]
	return r, nil
}

// frame is a record's place in a segment; ok is false when its checksum failed.
type frame struct {
	off, size, at int64
	ok            bool
}

// damage is where a segment stops being readable: the rest from off cannot be framed.
type damage struct {
	off int64
	err error
}

// scanSegment frames every record of a segment. Records whose checksum fails are returned
// with ok false (the next one is still read); a record cut short or a bad header ends the
// scan, and tail says where.
func scanSegment(b []byte) (frames []frame, tail *damage) {
	var off int64
	for off < int64(len(b)) {
		r, err := decodeAt(b, off)
		switch {
		case err == nil:
			frames = append(frames, frame{off: off, size: r.size, at: r.at, ok: true})
		case errors.Is(err, errChecksum):
			frames = append(frames, frame{off: off, size: r.size, at: r.at})
		default:
			return frames, &damage{off: off, err: err}
		}
		off += r.size
	}
	return frames, nil
}

// Side files: seg-<sequence>.done holds the offset of the first record of its segment not yet
// taken by Replay, with a checksum so that a write cut short reads as no progress (the
// segment is replayed from its start: duplicates, never a loss).
const doneSize = 8 + 4

func encodeDone(off int64) []byte {
	b := binary.BigEndian.AppendUint64(make([]byte, 0, doneSize), uint64(off))
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

func decodeDone(b []byte) (int64, bool) {
	if len(b) != doneSize || crc32.Checksum(b[:8], castagnoli) != binary.BigEndian.Uint32(b[8:]) {
		return 0, false
	}
	off := int64(binary.BigEndian.Uint64(b[:8]))
	return off, off >= 0
}
