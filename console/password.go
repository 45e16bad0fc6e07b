package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"runtime"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
)

// argonParams are argon2id's costs: memory in KiB, passes over it, lanes (threads).
type argonParams struct {
	Memory  uint32
	Time    uint32
	Threads uint8
}

// defaultHashParams are the costs of new hashes: 64 MiB, one pass, two lanes (RFC 9106 §4's
// second recommendation, with 64 MiB instead of 2 GiB, and above OWASP's minimums), about
// 0.1-0.2 s on the two cores of a small server: paid once per sign-in, not per request.
var defaultHashParams = argonParams{Memory: 64 * 1024, Time: 1, Threads: 2}

// hashParams are the costs HashPassword uses: defaultHashParams, but cheaper in the console's
// own tests (export_test.go). A stored hash carries its costs, so either verifies.
var hashParams = defaultHashParams

// Sizes of the salt and of the derived key.
const (
	saltLen = 16
	keyLen  = 32
)

// Limits on the costs a stored hash may ask for: a hash is only ever made by us, so anything
// beyond these is a corrupt row, not a reason to take a gigabyte per sign-in.
const (
	maxMemory  = 1 << 20 // KiB: 1 GiB
	maxTime    = 16
	maxThreads = 16
)

// MaxPasswordLen bounds a password in bytes: a longer one is refused before it is hashed.
const MaxPasswordLen = 1024

// MinPasswordLen is the fewest characters a password chosen by its user may have.
const MinPasswordLen = 12

// hashSlots bounds how many hashes run at once: each takes hashParams.Memory, and a burst of
// sign-ins must not take all of a small server's memory. The rest wait their turn.
var hashSlots = make(chan struct{}, min(max(runtime.GOMAXPROCS(0), 1), 4))

// argonKey derives an n-byte key, waiting for a slot.
func argonKey(password, salt []byte, p argonParams, n uint32) []byte {
	hashSlots <- struct{}{}
	defer func() { <-hashSlots }()
	return argon2.IDKey(password, salt, p.Time, p.Memory, p.Threads, n)
}

// b64 is the PHC string format's base64: the standard alphabet without padding.
var b64 = base64.RawStdEncoding

// HashPassword hashes a password with argon2id and a random salt, into the PHC string
// format: $argon2id$v=19$m=65536,t=1,p=2$<salt>$<hash>.
func HashPassword(password string) (string, error) {
	if len(password) > MaxPasswordLen {
		return "", fmt.Errorf("a password may have at most %d bytes", MaxPasswordLen)
	}
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("make a salt: %w", err)
	}
	p := hashParams
	key := argonKey([]byte(password), salt, p, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// errBadHash: a stored hash is not one HashPassword makes.
var errBadHash = errors.New("not an argon2id hash in the PHC format")

// parseHash reads a PHC string of argon2id.
func parseHash(s string) (p argonParams, salt, key []byte, err error) {
	parts := strings.Split(s, "$")
	// "", "argon2id", "v=19", "m=…,t=…,p=…", salt, hash
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, errBadHash
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return p, nil, nil, fmt.Errorf("%w: version %q", errBadHash, parts[2])
	}
	var m, t, th uint64
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &th); err != nil || n != 3 ||
		fmt.Sprintf("m=%d,t=%d,p=%d", m, t, th) != parts[3] {
		return p, nil, nil, fmt.Errorf("%w: parameters %q", errBadHash, parts[3])
	}
	if m < 8 || m > maxMemory || t < 1 || t > maxTime || th < 1 || th > maxThreads || m < 8*th {
		return p, nil, nil, fmt.Errorf("%w: parameters %q out of bounds", errBadHash, parts[3])
	}
	if salt, err = b64.Strict().DecodeString(parts[4]); err != nil || len(salt) < 8 {
		return p, nil, nil, fmt.Errorf("%w: salt", errBadHash)
	}
	if key, err = b64.Strict().DecodeString(parts[5]); err != nil || len(key) < 16 || len(key) > 64 {
		return p, nil, nil, fmt.Errorf("%w: hash", errBadHash)
	}
	return argonParams{Memory: uint32(m), Time: uint32(t), Threads: uint8(th)}, salt, key, nil
}

// VerifyPassword reports whether password is the one hash was made from, comparing in
// constant time. An error means the hash itself is unusable.
func VerifyPassword(hash, password string) (bool, error) {
	p, salt, want, err := parseHash(hash)
	if err != nil {
		return false, err
	}
	if len(password) > MaxPasswordLen {
		return false, nil
	}
	got := argonKey([]byte(password), salt, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

var (
	dummyOnce sync.Once
	dummyHash string
)

// burnVerify spends the time of a password check, for a sign-in with an unknown email, so
// that how long the answer takes does not tell whether the account exists.
func burnVerify(password string) {
	dummyOnce.Do(func() { dummyHash, _ = HashPassword("not a password anyone has") })
	_, _ = VerifyPassword(dummyHash, password)
}

// passwordAlphabet is what one-time passwords are made of: lower-case letters and digits
// without those easily taken for another (0/o, 1/l/i).
const passwordAlphabet = "abcdefghjkmnpqrstuvwxyz23456789"

// NewPassword makes a one-time password people can read out and type: four groups of four
// from a 31-character alphabet, e.g. "k7dq-m2xa-9fbe-wr4p" (79 bits).
func NewPassword() (string, error) {
	var b strings.Builder
	n := big.NewInt(int64(len(passwordAlphabet)))
	for i := range 16 {
		if i > 0 && i%4 == 0 {
			b.WriteByte('-')
		}
		k, err := rand.Int(rand.Reader, n)
		if err != nil {
			return "", fmt.Errorf("make a password: %w", err)
		}
		b.WriteByte(passwordAlphabet[k.Int64()])
	}
	return b.String(), nil
}
