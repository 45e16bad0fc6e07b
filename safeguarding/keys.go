// Package safeguarding keeps reports of sexual exploitation and abuse (SEA) readable only by
// the PSEA focal points. What a person reports is encrypted with age (filippo.io/age) to
// every registered focal point's X25519 public key plus one escrow key before it is written;
// the server holds public keys only, so it cannot read a stored report.
package safeguarding

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"filippo.io/age"
	"filippo.io/age/armor"

	"github.com/sawt/sawt/store"
)

// MaxWorkFactor is the largest scrypt work factor (log2 of N) a passphrase-protected
// identity file may ask for: more would let a crafted file make opening it take minutes and
// gigabytes. age's default is 18.
const MaxWorkFactor = 22

// EscrowFile is the name, in the data directory, of the escrow identity Sawt generates when
// no escrow key is configured.
const EscrowFile = "psea-escrow-identity.txt"

// EscrowName is the name the escrow key is registered under in psea_recipients.
const EscrowName = "escrow"

// Errors of opening identities and ciphertexts. The returned errors wrap them (or are them),
// and their messages are fit to show as they are.
var (
	// ErrWrongPassphrase: the passphrase does not open the identity file.
	ErrWrongPassphrase = errors.New("wrong passphrase")
	// ErrNotIdentityFile: the file is neither a passphrase-protected age file nor a file of
	// AGE-SECRET-KEY-1… lines.
	ErrNotIdentityFile = errors.New("not an age identity file")
	// ErrWorkFactor: the passphrase-protected identity file asks for a scrypt work factor
	// above the one allowed.
	ErrWorkFactor = errors.New("the identity file asks for more passphrase work than allowed")
	// ErrNotRecipient: the ciphertext was not encrypted to this identity.
	ErrNotRecipient = errors.New("this identity cannot open it: it was not encrypted to this key")
	// ErrNoRecipients: there is nobody to encrypt to.
	ErrNoRecipients = errors.New("no PSEA recipients to encrypt to")
)

// Answer is the plaintext of an 'answer' part of a report: one thing the person said.
// Media lists the provider IDs of recordings made for it, if any.
type Answer struct {
	Field string    `json:"field"`
	Value string    `json:"value"`
	Media []string  `json:"media,omitempty"`
	At    time.Time `json:"at"`
}

// Note is the plaintext of a 'note' part of a report: what a focal point wrote on it.
type Note struct {
	Note string    `json:"note"`
	By   string    `json:"by"`
	At   time.Time `json:"at"`
}

// NewIdentity makes a new X25519 identity for a focal point. file is the identity (in the
// format of age-keygen, with comments) encrypted with the passphrase and ASCII-armored;
// recipient is its public key, "age1…". workFactor is the scrypt work factor (log2 of N),
// from 1 to MaxWorkFactor; 0 means age's default (18). Low values are for tests.
func NewIdentity(passphrase string, workFactor int) (file []byte, recipient string, err error) {
	if passphrase == "" {
		return nil, "", errors.New("the passphrase is empty")
	}
	if workFactor < 0 || workFactor > MaxWorkFactor {
		return nil, "", fmt.Errorf("work factor %d: use 1 to %d (0 for the default)", workFactor, MaxWorkFactor)
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return nil, "", err
	}
	r, err := age.NewScryptRecipient(passphrase)
	if err != nil {
		return nil, "", err
	}
	if workFactor > 0 {
		r.SetWorkFactor(workFactor)
	}
	recipient = id.Recipient().String()
	var buf bytes.Buffer
	aw := armor.NewWriter(&buf)
	w, err := age.Encrypt(aw, r)
	if err != nil {
		return nil, "", err
	}
	fmt.Fprintf(w, "# Sawt PSEA focal point identity, created %s\n# public key: %s\n%s\n",
		time.Now().UTC().Format(time.RFC3339), recipient, id)
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	if err := aw.Close(); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), recipient, nil
}

const binaryAgeHeader = "age-encryption.org/"

// OpenIdentity reads an identity file: either a passphrase-protected one (as NewIdentity
// writes it, armored or binary), for which it calls passphrase, or a plain file of
// "AGE-SECRET-KEY-1…" lines and # comments (the escrow identity), for which it does not.
// A plain file must hold exactly one identity.
//
// A wrong passphrase gives ErrWrongPassphrase; a file that is neither gives an error wrapping
// ErrNotIdentityFile.
func OpenIdentity(file []byte, passphrase func() (string, error)) (*age.X25519Identity, error) {
	return OpenIdentityWithin(file, MaxWorkFactor, passphrase)
}

// OpenIdentityWithin is OpenIdentity refusing a passphrase-protected file that asks for a
// scrypt work factor above maxWorkFactor (at most MaxWorkFactor): a server opening files it
// was given bounds the memory and time each opening takes (18, age's default, is 256 MiB).
func OpenIdentityWithin(file []byte, maxWorkFactor int, passphrase func() (string, error)) (*age.X25519Identity, error) {
	maxWorkFactor = min(max(maxWorkFactor, 1), MaxWorkFactor)
	trimmed := bytes.TrimLeft(file, " \t\r\n")
	var plaintext []byte
	switch {
	case PassphraseProtected(file):
		var src io.Reader = bytes.NewReader(trimmed)
		if bytes.HasPrefix(trimmed, []byte(armor.Header)) {
			src = armor.NewReader(src)
		}
		pw, err := passphrase()
		if err != nil {
			return nil, err
		}
		if pw == "" {
			return nil, ErrWrongPassphrase
		}
		sid, err := age.NewScryptIdentity(pw)
		if err != nil {
			return nil, err
		}
		sid.SetMaxWorkFactor(maxWorkFactor)
		r, err := age.Decrypt(src, sid)
		if err != nil {
			return nil, identityFileError(err, maxWorkFactor)
		}
		if plaintext, err = io.ReadAll(io.LimitReader(r, 1<<16)); err != nil {
			return nil, fmt.Errorf("%w: the file is damaged", ErrNotIdentityFile)
		}
	default:
		plaintext = file
	}
	id, err := parseOneIdentity(plaintext)
	if err != nil {
		return nil, err
	}
	return id, nil
}

// identityFileError turns age's error on decrypting an identity file into one a person can
// act on.
func identityFileError(err error, maxWorkFactor int) error {
	var noMatch *age.NoIdentityMatchError
	switch {
	case errors.As(err, &noMatch):
		for _, e := range noMatch.Errors {
			if strings.Contains(e.Error(), "not passphrase-encrypted") {
				return fmt.Errorf("%w: it is encrypted to a key, not with a passphrase", ErrNotIdentityFile)
			}
		}
		return ErrWrongPassphrase
	case strings.Contains(err.Error(), "work factor too large"):
		return fmt.Errorf("%w (scrypt work factor above %d)", ErrWorkFactor, maxWorkFactor)
	}
	return fmt.Errorf("%w: the file is damaged", ErrNotIdentityFile)
}

// PassphraseProtected reports whether file is an age file (armored or binary), as a
// passphrase-protected identity is, rather than a plain identity whose secret key is readable
// as it is.
func PassphraseProtected(file []byte) bool {
	trimmed := bytes.TrimLeft(file, " \t\r\n")
	return bytes.HasPrefix(trimmed, []byte(armor.Header)) || bytes.HasPrefix(trimmed, []byte(binaryAgeHeader))
}

func parseOneIdentity(text []byte) (*age.X25519Identity, error) {
	var found []string
	sc := bufio.NewScanner(io.LimitReader(bytes.NewReader(text), 1<<16))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if !strings.HasPrefix(line, "AGE-SECRET-KEY-1") {
			// never quote the line: it may be secret
			return nil, ErrNotIdentityFile
		}
		found = append(found, line)
	}
	switch len(found) {
	case 0:
		return nil, ErrNotIdentityFile
	case 1:
	default:
		return nil, fmt.Errorf("the identity file holds %d identities; expected one", len(found))
	}
	id, err := age.ParseX25519Identity(found[0])
	if err != nil {
		return nil, fmt.Errorf("%w: its secret key is malformed", ErrNotIdentityFile)
	}
	return id, nil
}

// ParseRecipient reads a focal point's or the escrow's public key, "age1…".
func ParseRecipient(s string) (*age.X25519Recipient, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return nil, errors.New("the public key is empty")
	case strings.HasPrefix(s, "AGE-SECRET-KEY-"):
		return nil, errors.New("this is a secret key, not a public key: give the age1… public key, and keep the secret key off the server")
	case strings.HasPrefix(s, "age1pq1"):
		// The post-quantum keys' prefix is "age1pq" and bech32's "1"; an X25519 key (prefix
		// "age", then "1") may itself begin "age1pq…" by chance.
		return nil, errors.New("post-quantum age keys are not supported: give an X25519 public key (age1…, from sawt psea keygen)")
	case !strings.HasPrefix(s, "age1"):
		return nil, fmt.Errorf("%q is not an age public key: it should start with age1 (sawt psea keygen prints one)", s)
	}
	r, err := age.ParseX25519Recipient(s)
	if err != nil {
		return nil, fmt.Errorf("%q is not a valid age public key (mistyped or cut short?)", s)
	}
	return r, nil
}

// Seal encrypts plaintext to every recipient ("age1…" public keys) and returns the binary
// age ciphertext. Any one of the matching identities opens it.
func Seal(plaintext []byte, recipients []string) ([]byte, error) {
	if len(recipients) == 0 {
		return nil, ErrNoRecipients
	}
	rs := make([]age.Recipient, 0, len(recipients))
	for _, s := range recipients {
		r, err := ParseRecipient(s)
		if err != nil {
			return nil, err
		}
		rs = append(rs, r)
	}
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, rs...)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(plaintext); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Unseal decrypts what Seal encrypted. A ciphertext not encrypted to id gives
// ErrNotRecipient.
func Unseal(ciphertext []byte, id age.Identity) ([]byte, error) {
	r, err := age.Decrypt(bytes.NewReader(ciphertext), id)
	if err != nil {
		var noMatch *age.NoIdentityMatchError
		if errors.As(err, &noMatch) {
			return nil, ErrNotRecipient
		}
		return nil, fmt.Errorf("the ciphertext is damaged: %v", err)
	}
	plaintext, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("the ciphertext is damaged: %v", err)
	}
	return plaintext, nil
}

// Sealer is the one place the gateway and the workers encrypt report content with. The zero
// value is ready to use and safe for concurrent use.
type Sealer struct{}

// NewSealer returns a Sealer. Same as &Sealer{}.
func NewSealer() *Sealer { return &Sealer{} }

// Seal encrypts plaintext to every active PSEA recipient (focal points and escrow) as
// registered in db. db may be the caller's transaction, so the recipients are those the
// transaction sees. It fails with ErrNoRecipients when none is registered (EnsureEscrow
// registers the escrow at every start), and never stores anything itself.
func (s *Sealer) Seal(ctx context.Context, db store.DB, plaintext []byte) ([]byte, error) {
	keys, err := store.ActivePSEAKeys(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("read PSEA recipients: %w", err)
	}
	if len(keys) == 0 {
		return nil, ErrNoRecipients
	}
	ct, err := Seal(plaintext, keys)
	if err != nil {
		return nil, fmt.Errorf("encrypt to PSEA recipients: %w", err)
	}
	return ct, nil
}

// EnsureEscrow makes sure an escrow key is registered; serve and chat call it at every
// start. If one is registered already it changes nothing. Otherwise it registers escrowKey
// (SAWT_PSEA_ESCROW_KEY: the public key of an escrow identity kept offline) if set, or else
// the public key of the identity in dataDir/psea-escrow-identity.txt, generating that file
// (mode 0600, never overwritten) if it does not exist.
//
// The warnings are for the caller to log: no focal point registered yet, or the escrow
// identity still on the server while focal points are. Concurrent starts register one
// escrow between them.
func EnsureEscrow(ctx context.Context, db store.DB, dataDir, escrowKey string, now time.Time) (warnings []string, err error) {
	escrowKey = strings.TrimSpace(escrowKey)
	if escrowKey != "" {
		if _, err := ParseRecipient(escrowKey); err != nil {
			return nil, fmt.Errorf("SAWT_PSEA_ESCROW_KEY: %w", err)
		}
	}
	path := filepath.Join(dataDir, EscrowFile)
	escrow, err := store.EscrowRecipient(ctx, db)
	switch {
	case err == nil:
		if escrowKey != "" && escrowKey != escrow.PublicKey {
			warnings = append(warnings, fmt.Sprintf(
				"SAWT_PSEA_ESCROW_KEY differs from the escrow key registered already (%s): the registered one is kept", escrow.PublicKey))
		}
	case errors.Is(err, store.ErrNotFound):
		key := escrowKey
		created := false
		if key == "" {
			if key, created, err = escrowIdentityFile(path, now); err != nil {
				return nil, err
			}
		}
		_, err := store.AddPSEARecipient(ctx, db, store.PSEARecipient{Name: EscrowName, PublicKey: key, Escrow: true, CreatedAt: now})
		switch {
		case err == nil:
		case errors.Is(err, store.ErrEscrowExists):
			// Another process registered one at the same time: keep theirs, and do not leave
			// behind a file of ours that nothing was encrypted to — unless theirs is ours, read
			// from the file we made (a data directory shared by both): then it is the escrow.
			theirs, rerr := store.EscrowRecipient(ctx, db)
			if rerr != nil {
				return nil, fmt.Errorf("read the PSEA escrow key: %w", rerr)
			}
			if created && theirs.PublicKey != key {
				_ = os.Remove(path)
			}
		default:
			return nil, fmt.Errorf("register the PSEA escrow key: %w", err)
		}
	default:
		return nil, fmt.Errorf("read the PSEA escrow key: %w", err)
	}

	recipients, err := store.ListPSEARecipients(ctx, db)
	if err != nil {
		return nil, err
	}
	focal := 0
	for _, r := range recipients {
		if !r.Escrow {
			focal++
		}
	}
	// The file may hold the registered escrow's identity, or one registered before: either
	// opens reports, so it must leave the server once focal points can read them.
	fileThere, fileIsEscrow := false, false
	if data, err := os.ReadFile(path); err == nil {
		fileThere = true
		if id, err := parseOneIdentity(data); err == nil {
			for _, r := range recipients {
				fileIsEscrow = fileIsEscrow || r.Escrow && r.PublicKey == id.Recipient().String()
			}
		}
	}
	switch {
	case focal == 0 && fileIsEscrow:
		warnings = append(warnings, fmt.Sprintf("no PSEA focal point registered: confidential reports are encrypted to the escrow key only (identity in %s); register one with: sawt psea keygen --out FILE, then sawt psea recipients add NAME age1…", path))
	case focal == 0:
		warnings = append(warnings, "no PSEA focal point registered: confidential reports are encrypted to the escrow key only; register one with: sawt psea keygen --out FILE, then sawt psea recipients add NAME age1…")
	case fileThere:
		warnings = append(warnings, fmt.Sprintf("the PSEA escrow identity is still on this server (%s): anyone with access to the server can read every confidential report; move it to safe offline storage and delete it here", path))
	}
	return warnings, nil
}

// escrowIdentityFile returns the public key of the escrow identity in path, generating the
// file if it does not exist. created says it did not exist.
func escrowIdentityFile(path string, now time.Time) (key string, created bool, err error) {
	if data, err := os.ReadFile(path); err == nil {
		id, err := OpenIdentity(data, func() (string, error) {
			return "", errors.New("it is passphrase-protected: the escrow identity file must be a plain identity")
		})
		if err != nil {
			return "", false, fmt.Errorf("escrow identity %s: %w", path, err)
		}
		return id.Recipient().String(), false, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", false, fmt.Errorf("escrow identity: %w", err)
	}

	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", false, fmt.Errorf("escrow identity: %w", err)
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return "", false, err
	}
	key = id.Recipient().String()
	text := fmt.Sprintf(`# Sawt PSEA ESCROW IDENTITY: the secret key that opens EVERY confidential (SEA) report.
# Created %s by Sawt because no escrow key was configured (SAWT_PSEA_ESCROW_KEY).
# public key: %s
#
# Every report is encrypted to the PSEA focal points and to this key, so that reports stay
# readable if a focal point's key is lost. While this file is on the server, the server can
# read every report. Once a focal point is registered (sawt psea keygen, then sawt psea
# recipients add), MOVE THIS FILE OFF THE SERVER to safe offline storage (for example two
# encrypted USB sticks in separate safes) and delete it here.
# To read a report with it: sawt psea show REFERENCE --identity THIS-FILE
%s
`, now.UTC().Format(time.RFC3339), key, id)

	// Write a temporary file, then link it into place: the link fails if the file exists
	// (another process made it meanwhile), and a file in place is always complete.
	tmp, err := os.CreateTemp(filepath.Dir(path), ".psea-escrow-*.tmp")
	if err != nil {
		return "", false, fmt.Errorf("escrow identity: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return "", false, fmt.Errorf("escrow identity: %w", err)
	}
	if _, err := tmp.WriteString(text); err != nil {
		tmp.Close()
		return "", false, fmt.Errorf("escrow identity: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", false, fmt.Errorf("escrow identity: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", false, fmt.Errorf("escrow identity: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return escrowIdentityFile(path, now)
		}
		return "", false, fmt.Errorf("escrow identity: %w", err)
	}
	return key, true, nil
}
